package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"shipmate/terminal"
)

// maxLine is how much of one input line a terminal command reads: far
// more than any question (the index reads the first 1,000 characters),
// while a pasted log of any length costs no more memory than this.
const maxLine = 16 << 10

// isTerminal reports whether f is a terminal (and returns its descriptor).
func isTerminal(f any) (int, bool) {
	file, ok := f.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(file.Fd())
	return fd, term.IsTerminal(fd)
}

// outputStyle is how to lay text out on w: at the terminal's width in
// colour when w is a terminal, unless NO_COLOR is set (https://no-color.org)
// or TERM is dumb; plain at terminal.DefaultWidth otherwise, so that
// piped output is the same wherever it is produced.
func outputStyle(w io.Writer, getenv func(string) string) terminal.Style {
	fd, ok := isTerminal(w)
	if !ok {
		return terminal.Style{Width: terminal.DefaultWidth}
	}
	return terminal.Style{
		Width: termWidth(fd),
		Color: getenv("NO_COLOR") == "" && getenv("TERM") != "dumb",
	}
}

// termWidth is the terminal's width, or terminal.DefaultWidth when it does
// not say.
func termWidth(fd int) int {
	if w, _, err := term.GetSize(fd); err == nil && w > 0 {
		return w
	}
	return terminal.DefaultWidth
}

// lineReader reads lines of any length from a pipe or file, keeping the
// first maxLine bytes of each.
type lineReader struct {
	r      *bufio.Reader
	stderr io.Writer
	n      int // lines read
}

func newLineReader(r io.Reader, stderr io.Writer) *lineReader {
	return &lineReader{r: bufio.NewReader(r), stderr: stderr}
}

// ReadLine returns the next line without its line ending, or io.EOF after
// the last one. A line cut to maxLine bytes is said so on stderr.
func (l *lineReader) ReadLine() (string, error) {
	var buf []byte
	size := 0
	for {
		chunk, err := l.r.ReadSlice('\n')
		size += len(chunk)
		if room := maxLine - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (!errors.Is(err, io.EOF) || size == 0) {
			return "", err
		}
		l.n++
		if size > maxLine+2 { // + the line ending
			fmt.Fprintf(l.stderr, "shipmate: line %d has %d bytes; read the first %d\n", l.n, size, maxLine)
		}
		return strings.ToValidUTF8(strings.TrimRight(string(buf), "\r\n"), ""), nil
	}
}

// editor is a line editor on a terminal in raw mode, from golang.org/x/term:
// arrow keys move and recall earlier lines, Ctrl-C and Ctrl-D (on an empty
// line) end the input. What is written to it goes out with \r\n line
// endings, as raw mode needs, without disturbing the line being typed.
type editor struct {
	t       *term.Terminal
	outFd   int
	restore func() error
}

// newEditor puts the terminal in raw mode; close restores it.
func newEditor(in, out *os.File, prompt string) (*editor, error) {
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, prompt)
	ed := &editor{t: t, outFd: int(out.Fd()), restore: sync.OnceValue(func() error { return term.Restore(int(in.Fd()), state) })}
	ed.resize()
	return ed, nil
}

// resize tells the editor the terminal's size, which may have changed
// since the last line.
func (ed *editor) resize() int {
	w := termWidth(ed.outFd)
	_, h, err := term.GetSize(ed.outFd)
	if err != nil || h <= 0 {
		h = 24
	}
	ed.t.SetSize(w, h)
	return w
}

// ReadLine reads one edited line; io.EOF on Ctrl-C or Ctrl-D.
func (ed *editor) ReadLine() (string, error) {
	ed.resize()
	line, err := ed.t.ReadLine()
	if len(line) > maxLine {
		line = strings.ToValidUTF8(line[:maxLine], "")
	}
	return line, err
}

func (ed *editor) Write(p []byte) (int, error) { return ed.t.Write(p) }

// close puts the terminal back in the mode it was in; closing again does
// nothing.
func (ed *editor) close() error { return ed.restore() }
