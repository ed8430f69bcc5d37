package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/index"
)

// loadBase loads CONTENT_DIR, or the embedded knowledge base.
func loadBase(getenv func(string) string) (*content.Base, error) {
	if dir := getenv("CONTENT_DIR"); dir != "" {
		b, err := content.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("CONTENT_DIR %s is invalid (run `shipmate validate %s`):\n%w", dir, dir, err)
		}
		return b, nil
	}
	return content.Load(content.Embedded)
}

func openIndex(getenv func(string) string) (*index.Index, error) {
	b, err := loadBase(getenv)
	if err != nil {
		return nil, err
	}
	return index.New(b)
}

func cmdAsk(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	explain := fs.Bool("explain", false, "show how the question is understood and scored")
	if err := fs.Parse(e.args); err != nil {
		return usageError{err.Error()}
	}
	question := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(question) == "" {
		return usageError{"ask needs a question"}
	}
	ix, err := openIndex(e.getenv)
	if err != nil {
		return err
	}
	defer ix.Close()
	if *explain {
		out, err := ix.Explain(ctx, index.Query{Text: question})
		if err != nil {
			return err
		}
		_, err = io.WriteString(e.stdout, out)
		return err
	}
	a, err := ix.Answer(ctx, index.Query{Text: question})
	if err != nil {
		return err
	}
	if *asJSON {
		out, err := bot.RenderJSON(&a, ix.ServiceName)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(out)
		return err
	}
	_, err = io.WriteString(e.stdout, bot.RenderText(bot.Reply{Answer: &a}, ix.ServiceName))
	return err
}

func cmdValidate(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var maxAge age
	fs.Var(&maxAge, "max-age", "warn about notes and service sheets reviewed longer ago than this (180d, 26w, 4320h)")
	if err := fs.Parse(e.args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 1 {
		return usageError{"validate takes at most one directory"}
	}
	var (
		b   *content.Base
		err error
	)
	where, dir := "built-in content", ""
	if fs.NArg() == 1 {
		where, dir = fs.Arg(0), fs.Arg(0)
		b, err = content.LoadDir(dir)
	} else {
		b, err = content.Load(content.Embedded)
	}
	var ps content.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(e.stdout, p)
		}
		fmt.Fprintf(e.stderr, "%s: %d problem(s)\n", where, len(ps))
		return errSilent
	}
	if err != nil {
		return err
	}
	if maxAge > 0 {
		stale := b.Stale(time.Now(), time.Duration(maxAge))
		for _, p := range stale {
			if dir != "" {
				p.File = filepath.Join(dir, filepath.FromSlash(p.File))
			}
			p.Msg = "warning: " + p.Msg
			fmt.Fprintln(e.stdout, p)
		}
		if len(stale) > 0 {
			fmt.Fprintf(e.stdout, "%s: ok, %d fact(s) reviewed more than %s ago\n", where, len(stale), maxAge)
			return nil
		}
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", where)
	return nil
}

// age is a flag value for how old a review may be: days (180d), weeks
// (26w) or a Go duration (4320h).
type age time.Duration

func (a *age) Set(s string) error {
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if n, err := strconv.Atoi(s[:max(len(s)-1, 0)]); err == nil && n > 0 && unit[s[len(s)-1]] > 0 {
		*a = age(time.Duration(n) * unit[s[len(s)-1]])
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not an age: write it as 180d, 26w or 4320h", s)
	}
	*a = age(d)
	return nil
}

func (a age) String() string {
	d := time.Duration(a)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

func cmdEval(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	minP := fs.Float64("min-precision", 0, "exit 1 if precision@1 is below this (0-1 or a percentage)")
	minA := fs.Float64("min-abstain", 0, "exit 1 if the share of out-of-domain questions declined is below this (0-1 or a percentage)")
	if err := fs.Parse(e.args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"eval needs one FILE.jsonl"}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	set, err := index.ReadLabelled(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	ix, err := openIndex(e.getenv)
	if err != nil {
		return err
	}
	defer ix.Close()
	r, err := ix.Evaluate(ctx, set)
	if err != nil {
		return err
	}
	r.Write(e.stdout)
	var failed []string
	if p := fraction(*minP); r.Precision() < p {
		failed = append(failed, fmt.Sprintf("precision@1 %.1f%% is below %.1f%%", 100*r.Precision(), 100*p))
	}
	if a := fraction(*minA); r.Abstention() < a {
		failed = append(failed, fmt.Sprintf("declined %.1f%% is below %.1f%%", 100*r.Abstention(), 100*a))
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// fraction accepts 0.95 or 95 for 95%.
func fraction(v float64) float64 {
	if v > 1 {
		return v / 100
	}
	return v
}

// cmdChat is a terminal conversation with the same commands as Slack.
func cmdChat(ctx context.Context, e env) error {
	ix, err := openIndex(e.getenv)
	if err != nil {
		return err
	}
	defer ix.Close()
	conv := &conversation{ix: ix}
	cmds := bot.NewCommands(conv, ix.Base())
	in := bufio.NewScanner(e.stdin)
	in.Buffer(make([]byte, 64*1024), 1024*1024)
	fmt.Fprint(e.stdout, "Shipmate here. Ask which AWS container service fits your need, or type `help`. Ctrl-D to leave.\n")
	var pending *content.Question
	var clarify *index.Clarify
	for {
		fmt.Fprint(e.stdout, "> ")
		if !in.Scan() {
			fmt.Fprintln(e.stdout)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		if line == "exit" || line == "quit" {
			return nil
		}
		if pending != nil {
			if i, ok := bot.ParseChoice(line, len(pending.Choices)); ok {
				fmt.Fprint(e.stdout, bot.Grade(pending, i, ix.Base().Note(pending.Note)))
				pending = nil
				continue
			}
			pending = nil
		}
		// A number after a question back picks one of its options.
		if clarify != nil {
			if i, err := strconv.Atoi(line); err == nil && i >= 1 && i <= len(clarify.Options) {
				line = clarify.Options[i-1].Question
				fmt.Fprintf(e.stdout, "(%s)\n", line)
			}
			clarify = nil
		}
		r, err := cmds.Dispatch(ctx, "", line)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintln(e.stdout, "Sorry, that went wrong:", err)
			continue
		}
		fmt.Fprint(e.stdout, bot.RenderText(r, ix.ServiceName))
		if r.Answer != nil {
			clarify = r.Answer.Clarify
		}
		if r.Question != nil {
			pending = r.Question
			fmt.Fprintf(e.stdout, "Your answer (%s)? ", choiceLetters(len(r.Question.Choices)))
			fmt.Fprintln(e.stdout)
		}
	}
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

func choiceLetters(n int) string {
	return strings.Join(strings.Split(bot.Letters[:n], ""), "/")
}

// cmdQuiz asks one question in the terminal and grades the answer.
func cmdQuiz(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("quiz", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	id := fs.String("id", "", "ask this question (its id in content/quiz/*.yaml) instead of a random one")
	if err := fs.Parse(e.args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"quiz takes no arguments besides --id"}
	}
	b, err := loadBase(e.getenv)
	if err != nil {
		return err
	}
	if len(b.Questions) == 0 {
		return errors.New("the quiz bank is empty")
	}
	q := &b.Questions[rand.IntN(len(b.Questions))]
	if *id != "" {
		if q = b.Question(*id); q == nil {
			return fmt.Errorf("no quiz question with id %q (ids are in content/quiz/*.yaml)", *id)
		}
	}
	fmt.Fprint(e.stdout, bot.RenderText(bot.Reply{Question: q}, nil))
	in := bufio.NewScanner(e.stdin)
	for {
		fmt.Fprintf(e.stdout, "Your answer (%s): ", choiceLetters(len(q.Choices)))
		if !in.Scan() {
			fmt.Fprintln(e.stdout)
			return in.Err()
		}
		if i, ok := bot.ParseChoice(in.Text(), len(q.Choices)); ok {
			fmt.Fprint(e.stdout, bot.Grade(q, i, b.Note(q.Note)))
			return nil
		}
	}
}
