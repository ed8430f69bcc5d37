package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/index"
	"shipmate/terminal"
)

// cmdChat is a terminal conversation with the same commands as Slack. On a
// terminal it edits lines (with history) and lays answers out at the
// window's width, in colour unless NO_COLOR is set; from a pipe it prints
// only the answers, plain, at terminal.DefaultWidth.
func cmdChat(ctx context.Context, e env) error {
	fs := e.flags()
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return e.usageErr(fs, "chat takes no arguments: type your questions once it has started")
	}
	ix, err := openIndex(e.getenv)
	if err != nil {
		return err
	}
	defer ix.Close()
	c := newChat(ix, e.stdout)
	var (
		read func() (string, error)
		ed   *editor
	)
	in, inOK := e.stdin.(*os.File)
	out, outOK := e.stdout.(*os.File)
	_, inTTY := isTerminal(e.stdin)
	_, outTTY := isTerminal(e.stdout)
	if inOK && outOK && inTTY && outTTY {
		if ed, err = newEditor(in, out, "> "); err != nil {
			return err
		}
		defer ed.close()
		color := outputStyle(out, e.getenv).Color
		c.out, c.interactive, read = ed, true, ed.ReadLine
		c.style = func() terminal.Style { return terminal.Style{Width: ed.resize(), Color: color} }
		c.say("Shipmate here. Ask which AWS container service fits your need, or type `help`. " +
			"↑ and ↓ recall earlier lines; Ctrl-D or Ctrl-C leaves.")
	} else {
		read = newLineReader(e.stdin, e.stderr).ReadLine
	}
	// leave says goodbye with the terminal back in its normal mode: the
	// line editor may still hold a half-typed line (Ctrl-C).
	leave := func() {
		if ed != nil {
			ed.close()
			c.out = e.stdout
		}
		c.leave()
	}
	for {
		line, err := readLine(ctx, read)
		if err != nil {
			leave()
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		if done := c.turn(ctx, line); done {
			leave()
			return nil
		}
	}
}

// readLine reads a line while ctx lasts. The read runs in a goroutine of
// its own because a blocked read of a terminal or pipe cannot be
// cancelled: on a signal the chat ends at once, and the process exits with
// the read still waiting.
func readLine(ctx context.Context, read func() (string, error)) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := read()
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// chat is the state of one terminal conversation.
type chat struct {
	cmds        *bot.Commands
	base        *content.Base
	name        func(string) string
	out         io.Writer
	style       func() terminal.Style
	interactive bool

	// pending is the practice question asked last and not answered yet:
	// an answer is taken until the next question, which reveals it.
	pending *content.Question
	// clarify is the question back of the last answer: a number picks one
	// of its options.
	clarify *index.Clarify
}

// newChat is a chat on ix that writes plain text to out.
func newChat(ix *index.Index, out io.Writer) *chat {
	return &chat{
		cmds:  bot.NewCommands(&conversation{ix: ix}, ix.Base()),
		base:  ix.Base(),
		name:  ix.ServiceName,
		out:   out,
		style: func() terminal.Style { return terminal.Style{Width: terminal.DefaultWidth} },
	}
}

// say writes Markdown laid out for the terminal, and a blank line that
// sets it apart from what comes next.
func (c *chat) say(md string) {
	io.WriteString(c.out, terminal.Render(md, c.style())+"\n")
}

// turn answers one line; done reports that the user asked to leave.
func (c *chat) turn(ctx context.Context, line string) (done bool) {
	line = strings.TrimSpace(line)
	switch strings.ToLower(line) {
	case "":
		return false
	case "exit", "quit", "bye":
		return true
	}
	if cl := c.clarify; cl != nil {
		c.clarify = nil
		if i, err := strconv.Atoi(line); err == nil && i >= 1 && i <= len(cl.Options) {
			line = cl.Options[i-1].Question
			c.say("(" + line + ")")
		}
	}
	if q := c.pending; q != nil {
		if i, ok := bot.ParseChoice(line, len(q.Choices)); ok {
			c.pending = nil
			c.say(bot.Grade(q, i, c.base.Note(q.Note)))
			return false
		}
		if looksLikeChoice(line) {
			c.say(fmt.Sprintf("The choices are %s.", choiceList(len(q.Choices))))
			return false
		}
	}
	r, err := c.cmds.Dispatch(ctx, "", line)
	if err != nil {
		if ctx.Err() == nil {
			c.say("Sorry, that went wrong: " + err.Error())
		}
		return false
	}
	if r.Question != nil && c.pending != nil {
		c.say(bot.Reveal(c.pending, c.base.Note(c.pending.Note)))
		c.pending = nil
	}
	c.say(bot.RenderMarkdown(r, c.name))
	if r.Answer != nil {
		c.clarify = r.Answer.Clarify
	}
	if r.Question != nil {
		c.pending = r.Question
		c.say(fmt.Sprintf("Answer with %s, now or after other questions, until the next quiz question.", choiceList(len(r.Question.Choices))))
	}
	return false
}

// leave ends the chat, revealing a practice question left unanswered.
func (c *chat) leave() {
	if c.interactive {
		io.WriteString(c.out, "\n")
	}
	if q := c.pending; q != nil {
		c.pending = nil
		c.say(bot.Reveal(q, c.base.Note(q.Note)))
	}
}

// looksLikeChoice reports whether s is shaped like a quiz answer ("e",
// "6)") without being a valid one.
func looksLikeChoice(s string) bool {
	s = strings.Trim(s, ").: ")
	return len(s) == 1 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' || s[0] >= '0' && s[0] <= '9')
}

// conversation answers the questions of one terminal chat with the earlier
// ones as context, so a follow-up ("what about cost?") is read in the
// context of what came before.
type conversation struct {
	ix      *index.Index
	history []index.Turn
}

// maxTurns is how many earlier questions a chat remembers.
const maxTurns = 6

// Answer answers q with the chat's earlier turns and remembers it.
func (c *conversation) Answer(ctx context.Context, q index.Query) (index.Answer, error) {
	q.History = append(slices.Clone(c.history), q.History...)
	a, err := c.ix.Answer(ctx, q)
	if err != nil {
		return a, err
	}
	turn := index.Turn{Question: q.Text}
	if top := a.Top(); top != nil {
		turn.Services = slices.Clone(top.Services)
	}
	c.history = append(c.history, turn)
	if len(c.history) > maxTurns {
		c.history = c.history[len(c.history)-maxTurns:]
	}
	return a, nil
}
