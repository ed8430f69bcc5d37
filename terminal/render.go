// Package terminal lays out Markdown for a text terminal: bold, italics,
// code and links in ANSI styles (or plain), lists indented under their
// markers, GFM tables as aligned columns, and every paragraph wrapped at a
// width without breaking a word. A word longer than the width, such as a
// long URL, stays whole and runs past it.
//
// Line breaks mean what they mean in Slack, so content written once reads
// the same in Slack and in the terminal: a line break inside a paragraph
// is kept, and a line that is neither indented nor a list item ends a list
// (CommonMark would carry it into the last item).
package terminal

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mattn/go-runewidth"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// DefaultWidth is the width used when the terminal's is unknown, and for
// output that is not a terminal, so that piped output does not depend on
// where it was produced.
const DefaultWidth = 80

// Style is how Render lays text out.
type Style struct {
	Width int  // columns to wrap at; DefaultWidth if 0 or less
	Color bool // ANSI styles: only for a terminal, and not under NO_COLOR
}

var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))

// Render lays out the Markdown src. The result ends with one newline (or is
// empty for empty input); without Color it holds no escape sequences.
func Render(src string, s Style) string {
	if s.Width <= 0 {
		s.Width = DefaultWidth
	}
	r := &renderer{src: []byte(endLists(src)), st: s}
	doc := markdown.Parser().Parse(text.NewReader(r.src))
	var b strings.Builder
	for _, l := range r.blocks(doc, s.Width) {
		b.WriteString(strings.TrimRight(l.s, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

var listItem = regexp.MustCompile(`^ {0,3}([-*+]|[0-9]{1,9}[.)])( |$)`)

// endLists puts a blank line before a line that follows a list without
// being indented or an item itself, which ends the list there.
func endLists(src string) string {
	var b strings.Builder
	inList, fenced := false, false
	for l := range strings.Lines(src) {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
			fenced = !fenced
		case fenced:
		case t == "":
			inList = false
		case listItem.MatchString(l):
			inList = true
		case inList && l[0] != ' ' && l[0] != '\t':
			b.WriteString("\n")
			inList = false
		}
		b.WriteString(l)
	}
	return b.String()
}

// attr is a set of inline styles.
type attr uint8

const (
	bold attr = 1 << iota
	italic
	code
	link
	strike
)

// sgr is the ANSI Select Graphic Rendition sequence for a.
func (a attr) sgr() string {
	var codes []string
	if a&bold != 0 {
		codes = append(codes, "1")
	}
	if a&italic != 0 {
		codes = append(codes, "3")
	}
	if a&link != 0 {
		codes = append(codes, "4")
	}
	if a&strike != 0 {
		codes = append(codes, "9")
	}
	if a&code != 0 {
		codes = append(codes, "36")
	}
	return "\x1b[" + strings.Join(codes, ";") + "m"
}

const reset = "\x1b[0m"

// piece is a run of inline text in one style; newline marks a line break.
type piece struct {
	text    string
	a       attr
	newline bool
}

// line is one output line and how many columns it takes.
type line struct {
	s string
	w int
}

type renderer struct {
	src []byte
	st  Style
}

// blocks lays out the children of n, one blank line between two blocks
// where the source has one.
func (r *renderer) blocks(n ast.Node, width int) []line {
	var out []line
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		// The table extension makes a table out of a paragraph and drops
		// its blank line: a table is always a block apart.
		_, table := c.(*east.Table)
		if c != n.FirstChild() && (c.HasBlankPreviousLines() || table) {
			out = append(out, line{})
		}
		out = append(out, r.block(c, width)...)
	}
	return out
}

func (r *renderer) block(n ast.Node, width int) []line {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return r.wrap(r.inlines(n, 0, nil), width)
	case *ast.Heading:
		return r.wrap(r.inlines(n, bold, nil), width)
	case *ast.List:
		return r.list(n, width)
	case *ast.Blockquote:
		return indent(r.blocks(n, width-2), "> ", "> ")
	case *ast.FencedCodeBlock, *ast.CodeBlock, *ast.HTMLBlock:
		var out []line
		lines := n.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			s := strings.TrimRight(string(seg.Value(r.src)), "\r\n")
			if _, html := n.(*ast.HTMLBlock); html {
				out = append(out, line{s, runewidth.StringWidth(s)})
				continue
			}
			out = append(out, r.styled("    ", s, code))
		}
		return out
	case *ast.ThematicBreak:
		rule := strings.Repeat(r.ruleChar(), min(width, 40))
		return []line{{rule, min(width, 40)}}
	case *east.Table:
		return r.table(n, width)
	}
	return r.blocks(n, width)
}

func (r *renderer) ruleChar() string {
	if r.st.Color {
		return "─"
	}
	return "-"
}

// styled is prefix followed by s in style a.
func (r *renderer) styled(prefix, s string, a attr) line {
	w := runewidth.StringWidth(prefix + s)
	if r.st.Color && a != 0 && s != "" {
		s = a.sgr() + s + reset
	}
	return line{prefix + s, w}
}

// list lays out a list's items under their markers ("- ", "1. "), the
// item's further lines indented to the marker's width.
func (r *renderer) list(n *ast.List, width int) []line {
	var markers []string
	for i, c := 0, n.FirstChild(); c != nil; i, c = i+1, c.NextSibling() {
		if n.IsOrdered() {
			markers = append(markers, fmt.Sprintf("%d. ", n.Start+i))
		} else {
			markers = append(markers, "- ")
		}
	}
	mw := 0
	for _, m := range markers {
		mw = max(mw, len(m))
	}
	var out []line
	for i, c := 0, n.FirstChild(); c != nil; i, c = i+1, c.NextSibling() {
		if i > 0 && c.HasBlankPreviousLines() {
			out = append(out, line{})
		}
		m := strings.Repeat(" ", mw-len(markers[i])) + markers[i]
		body := r.blocks(c, width-mw)
		if len(body) == 0 {
			body = []line{{}}
		}
		out = append(out, indent(body, m, strings.Repeat(" ", mw))...)
	}
	return out
}

// indent puts first before the first line and rest before the others
// (but not before an empty line).
func indent(ls []line, first, rest string) []line {
	out := make([]line, len(ls))
	for i, l := range ls {
		p := rest
		if i == 0 {
			p = first
		}
		if l.w == 0 && i > 0 {
			out[i] = l
			continue
		}
		out[i] = line{p + l.s, runewidth.StringWidth(p) + l.w}
	}
	return out
}

// inlines flattens n's inline content into pieces, in style a.
func (r *renderer) inlines(n ast.Node, a attr, out []piece) []piece {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			out = append(out, piece{text: r.unescape(c.Segment.Value(r.src)), a: a})
			if c.SoftLineBreak() || c.HardLineBreak() {
				out = append(out, piece{newline: true})
			}
		case *ast.String:
			out = append(out, piece{text: r.unescape(c.Value), a: a})
		case *ast.CodeSpan:
			var b strings.Builder
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.WriteString(strings.ReplaceAll(string(t.Segment.Value(r.src)), "\n", " "))
				}
			}
			s := b.String()
			if !r.st.Color {
				s = "`" + s + "`"
			}
			out = append(out, piece{text: s, a: a | code})
		case *ast.Emphasis:
			style := italic
			if c.Level >= 2 {
				style = bold
			}
			out = r.inlines(c, a|style, out)
		case *east.Strikethrough:
			out = r.inlines(c, a|strike, out)
		case *ast.Link:
			before := len(out)
			out = r.inlines(c, a|link, out)
			var label strings.Builder
			for _, p := range out[before:] {
				label.WriteString(p.text)
			}
			if dest := string(c.Destination); dest != "" && label.String() != dest {
				out = append(out, piece{text: " (" + dest + ")", a: a})
			}
		case *ast.AutoLink:
			out = append(out, piece{text: string(c.Label(r.src)), a: a | link})
		case *ast.Image:
			out = r.inlines(c, a, out)
			out = append(out, piece{text: " (" + string(c.Destination) + ")", a: a})
		case *ast.RawHTML:
			for i := range c.Segments.Len() {
				seg := c.Segments.At(i)
				out = append(out, piece{text: string(seg.Value(r.src)), a: a})
			}
		default:
			out = r.inlines(c, a, out)
		}
	}
	return out
}

// unescape resolves backslash escapes and character references.
func (r *renderer) unescape(b []byte) string {
	return string(util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(b))))
}

// frag is a run of a word (or of the spaces between words) in one style.
type frag struct {
	text string
	a    attr
}

// wrap breaks pieces into lines of at most width columns, only between
// words; a word wider than width gets a line of its own.
func (r *renderer) wrap(ps []piece, width int) []line {
	var (
		out    []line
		cur    []frag // the line so far
		curW   int
		spaces []frag // spaces seen since the last word
		spaceW int
		word   []frag // the word being read
		wordW  int
	)
	endWord := func() {
		if len(word) == 0 {
			return
		}
		if curW > 0 && curW+spaceW+wordW > width {
			out = append(out, r.join(cur, curW))
			cur, curW = nil, 0
		}
		if curW > 0 {
			cur = append(cur, spaces...)
			curW += spaceW
		}
		cur = append(cur, word...)
		curW += wordW
		word, wordW, spaces, spaceW = nil, 0, nil, 0
	}
	for _, p := range ps {
		if p.newline {
			endWord()
			out = append(out, r.join(cur, curW))
			cur, curW, spaces, spaceW = nil, 0, nil, 0
			continue
		}
		for s := p.text; s != ""; {
			i := strings.IndexAny(s, " \t")
			if i < 0 {
				word = append(word, frag{s, p.a})
				wordW += runewidth.StringWidth(s)
				break
			}
			if i > 0 {
				word = append(word, frag{s[:i], p.a})
				wordW += runewidth.StringWidth(s[:i])
			}
			endWord()
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			sp := strings.ReplaceAll(s[i:j], "\t", " ")
			spaces = append(spaces, frag{sp, p.a})
			spaceW += len(sp)
			s = s[j:]
		}
	}
	endWord()
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, r.join(cur, curW))
	}
	return out
}

// join writes a line's fragments, each style opened and closed on the line
// so that a prefix or the next table column is never styled by mistake.
func (r *renderer) join(fs []frag, w int) line {
	var b strings.Builder
	for i := 0; i < len(fs); {
		j := i
		var run strings.Builder
		for j < len(fs) && fs[j].a == fs[i].a {
			run.WriteString(fs[j].text)
			j++
		}
		if r.st.Color && fs[i].a != 0 {
			b.WriteString(fs[i].a.sgr() + run.String() + reset)
		} else {
			b.WriteString(run.String())
		}
		i = j
	}
	return line{b.String(), w}
}
