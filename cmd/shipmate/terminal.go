package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/index"
	"shipmate/terminal"
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
	defer startupGC(getenv)()
	b, err := loadBase(getenv)
	if err != nil {
		return nil, err
	}
	return index.New(b)
}

func cmdAsk(ctx context.Context, e env) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object")
	explain := fs.Bool("explain", false, "show how the question is understood and scored")
	if err := e.parse(fs); err != nil {
		return err
	}
	question := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(question) == "" {
		return e.usageErr(fs, "ask needs a question")
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
	md := bot.RenderMarkdown(bot.Reply{Answer: &a}, ix.ServiceName)
	_, err = io.WriteString(e.stdout, terminal.Render(md, outputStyle(e.stdout, e.getenv)))
	return err
}

func cmdValidate(ctx context.Context, e env) error {
	fs := e.flags()
	var maxAge age
	fs.Var(&maxAge, "max-age", "warn about notes and service sheets reviewed longer ago than this (180d, 26w, 4320h)")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return e.usageErr(fs, "validate takes at most one directory")
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
	fs := e.flags()
	minP := fs.Float64("min-precision", 0, "exit 1 if precision@1 is below this (0-1 or a percentage)")
	minA := fs.Float64("min-abstain", 0, "exit 1 if the share of out-of-domain questions declined is below this (0-1 or a percentage)")
	figures := fs.Bool("figures", false, "print the figures only, not the misses (for a blind set, whose questions nobody should read)")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return e.usageErr(fs, "eval needs one FILE.jsonl")
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
	if *figures {
		r.Misses = nil
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

// cmdQuiz asks one question in the terminal and grades the answer.
func cmdQuiz(ctx context.Context, e env) error {
	fs := e.flags()
	id := fs.String("id", "", "ask this question (its id in content/quiz/*.yaml) instead of a random one")
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return e.usageErr(fs, "quiz takes no arguments besides --id")
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
	style := outputStyle(e.stdout, e.getenv)
	say := func(md string) { io.WriteString(e.stdout, terminal.Render(md, style)) }
	say(bot.RenderMarkdown(bot.Reply{Question: q}, nil))
	_, interactive := isTerminal(e.stdin)
	in := newLineReader(e.stdin, e.stderr)
	for {
		if interactive {
			fmt.Fprintf(e.stdout, "Your answer (%s): ", choiceLetters(len(q.Choices)))
		}
		line, err := readLine(ctx, in.ReadLine)
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			// Leaving without an answer (Ctrl-D, Ctrl-C) still shows it.
			if interactive {
				fmt.Fprintln(e.stdout)
			}
			say(bot.Reveal(q, b.Note(q.Note)))
			return nil
		}
		if err != nil {
			return err
		}
		if i, ok := bot.ParseChoice(line, len(q.Choices)); ok {
			say(bot.Grade(q, i, b.Note(q.Note)))
			return nil
		}
		say(fmt.Sprintf("Answer with %s.", choiceList(len(q.Choices))))
	}
}

func choiceLetters(n int) string {
	return strings.Join(strings.Split(bot.Letters[:n], ""), "/")
}

// choiceList names the choices as "A, B, C or D".
func choiceList(n int) string {
	l := strings.Split(bot.Letters[:n], "")
	if n < 2 {
		return strings.Join(l, "")
	}
	return strings.Join(l[:n-1], ", ") + " or " + l[n-1]
}
