//go:build !windows

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mattn/go-runewidth"
)

// ptyChat is `shipmate chat` (the built binary) on a pseudo-terminal, as a
// person at a terminal runs it.
type ptyChat struct {
	t      *testing.T
	ctx    context.Context
	cmd    *exec.Cmd
	tty    *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	more   chan struct{} // a token after each read
	closed chan struct{} // the terminal is closed: the program has exited
}

// startChat starts chat on a terminal cols columns wide, with env on top
// of this process's environment.
func startChat(t *testing.T, cols int, env ...string) *ptyChat {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := shipmateCmd(t, ctx, append([]string{"TERM=xterm-256color", "NO_COLOR="}, env...), "chat")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: 40})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyChat{t: t, ctx: ctx, cmd: cmd, tty: tty, more: make(chan struct{}, 1), closed: make(chan struct{})}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		tty.Close()
		<-p.closed
	})
	go func() {
		defer close(p.closed)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
			if err != nil { // EIO once the program has exited
				return
			}
		}
	}()
	p.waitFor("> ", 1)
	return p
}

func (p *ptyChat) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the screen output has shown s n times.
func (p *ptyChat) waitFor(s string, n int) {
	p.t.Helper()
	for strings.Count(p.output(), s) < n {
		select {
		case <-p.more:
		case <-p.closed:
			if strings.Count(p.output(), s) < n {
				p.t.Fatalf("chat exited before printing %q %d times:\n%s", s, n, p.output())
			}
		case <-p.ctx.Done():
			p.t.Fatalf("chat did not print %q %d times:\n%s", s, n, p.output())
		}
	}
}

// waitMatch waits until the output matches re.
func (p *ptyChat) waitMatch(re *regexp.Regexp) {
	p.t.Helper()
	for !re.MatchString(p.output()) {
		select {
		case <-p.more:
		case <-p.closed:
			if !re.MatchString(p.output()) {
				p.t.Fatalf("chat exited before printing %v:\n%s", re, p.output())
			}
		case <-p.ctx.Done():
			p.t.Fatalf("chat did not print %v:\n%s", re, p.output())
		}
	}
}

// typeKeys types keys, as bytes from the keyboard: "\r" is Enter.
func (p *ptyChat) typeKeys(keys string) {
	p.t.Helper()
	if _, err := p.tty.Write([]byte(keys)); err != nil {
		p.t.Fatal(err)
	}
}

// exit waits for the program to end and returns its exit error.
func (p *ptyChat) exit() error {
	err := p.cmd.Wait()
	<-p.closed
	return err
}

var (
	csi      = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")
	sgrStyle = regexp.MustCompile("\x1b\\[[0-9;]*m")
)

// screenLines is the output as lines of text, without escape sequences.
func screenLines(out string) []string {
	var lines []string
	for l := range strings.Lines(csi.ReplaceAllString(out, "")) {
		lines = append(lines, strings.TrimRight(l, "\r\n"))
	}
	return lines
}

// TestChatTerminal drives chat on a 50-column terminal: answers wrap at 50
// columns in colour, ↑ recalls the last line, a practice question takes
// its answer after another question, and Ctrl-D leaves with status 0.
func TestChatTerminal(t *testing.T) {
	t.Parallel()
	p := startChat(t, 50)
	p.typeKeys("compare ecs eks\r")
	p.waitFor("Avoid it when", 1)
	p.waitFor("> ", 2)

	p.typeKeys("\x1b[A\r") // ↑, Enter
	p.waitFor("Avoid it when", 2)
	p.waitFor("> ", 3)

	p.typeKeys("quiz\r")
	p.waitFor("Answer with A, B", 1)
	p.typeKeys("explain ecs\r")
	p.waitFor("You manage:", 1)
	p.typeKeys("b\r")
	p.waitMatch(regexp.MustCompile(`Right: B\.|Not quite: you chose B\.`))

	p.typeKeys("\x04") // Ctrl-D
	if err := p.exit(); err != nil {
		t.Fatalf("chat after Ctrl-D: %v, want exit status 0\n%s", err, p.output())
	}
	out := p.output()
	if !strings.Contains(out, "> compare ecs eks") || strings.Count(out, "compare ecs eks") < 2 {
		t.Errorf("↑ did not bring back the last line:\n%s", out)
	}
	if !sgrStyle.MatchString(out) {
		t.Errorf("no colour on a terminal without NO_COLOR:\n%q", out)
	}
	wide := 0
	for _, l := range screenLines(out) {
		w := runewidth.StringWidth(l)
		wide = max(wide, w)
		if w > 50 && len(strings.Fields(l)) > 1 {
			t.Errorf("line wider than the 50-column terminal (%d): %q", w, l)
		}
	}
	if wide < 40 {
		t.Errorf("the widest line has %d columns, want the 50-column terminal used", wide)
	}
}

// TestChatTerminalCtrlC: Ctrl-C leaves with status 0, even mid-line, and
// reveals the practice question left open; NO_COLOR turns colour off, and
// a wide terminal gets wide lines.
func TestChatTerminalCtrlC(t *testing.T) {
	t.Parallel()
	p := startChat(t, 120, "NO_COLOR=1")
	p.typeKeys("compare ecs eks\r")
	p.waitFor("Avoid it when", 1)
	p.typeKeys("quiz\r")
	p.waitFor("Answer with A, B", 1)
	p.typeKeys("half a quest")
	p.waitFor("half a quest", 1)
	p.typeKeys("\x03") // Ctrl-C
	if err := p.exit(); err != nil {
		t.Fatalf("chat after Ctrl-C: %v, want exit status 0\n%s", err, p.output())
	}
	out := p.output()
	if !strings.Contains(out, "The answer to") {
		t.Errorf("Ctrl-C with a practice question open did not reveal its answer:\n%s", out)
	}
	if sgrStyle.MatchString(out) {
		t.Errorf("colour under NO_COLOR=1:\n%q", out)
	}
	wide := 0
	for _, l := range screenLines(out) {
		if len(strings.Fields(l)) > 1 {
			wide = max(wide, runewidth.StringWidth(l))
		}
		if runewidth.StringWidth(l) > 120 {
			t.Logf("%q", l)
		}
	}
	if wide <= 80 || wide > 120 {
		t.Errorf("the widest line has %d columns, want more than 80 and at most 120 on a 120-column terminal", wide)
	}
}

// TestQuizTerminalCtrlC: Ctrl-C at quiz's prompt (a signal: quiz reads in
// the terminal's normal mode) leaves with status 0 and gives the answer.
func TestQuizTerminalCtrlC(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := shipmateCmd(t, ctx, []string{"NO_COLOR=1"}, "quiz")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 60, Rows: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "Your answer (") {
		n, err := tty.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("quiz ended before its prompt: %v\n%s", err, out.String())
		}
	}
	if _, err := tty.Write([]byte("\x03")); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := tty.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break // EIO: quiz has exited
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("quiz after Ctrl-C: %v, want exit status 0\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "The answer to") {
		t.Errorf("quiz after Ctrl-C =\n%s\nwant the answer given", out.String())
	}
}
