package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"shipmate/bot"
)

// cmdGaps prints the learning loop: the most-asked questions without a
// good answer, from the same store `serve` writes (DATABASE_URL or
// DATA_DIR).
func cmdGaps(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("gaps", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: shipmate gaps [week|month]") }
	if err := fs.Parse(e.args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 1 {
		return usageError{"gaps takes at most a period: week or month"}
	}
	period := fs.Arg(0)
	getenv, err := withDotEnv(e.getenv, ".env")
	if err != nil {
		return err
	}
	conv, err := bot.ParseConversation(getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	// The terminal has no Slack user: whoever can read the store is an admin.
	conv.Admins = []string{"terminal"}
	reply, err := bot.GapsCommand(st, conv, time.Now).Run(ctx, nil, bot.Request{User: "terminal", Args: period})
	if err != nil {
		return err
	}
	if reply.Gaps == nil {
		return usageError{reply.Text}
	}
	_, err = io.WriteString(e.stdout, bot.RenderGapsText(reply.Gaps))
	return err
}
