package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"shipmate/bot"
)

// cmdGaps prints the learning loop: the most-asked questions without a
// good answer, from the same store `serve` writes (DATABASE_URL or
// DATA_DIR).
func cmdGaps(ctx context.Context, e env) error {
	fs := e.flags()
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return e.usageErr(fs, "gaps takes at most a period: week or month")
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
		return e.usageErr(fs, "%s", reply.Text)
	}
	_, err = io.WriteString(e.stdout, bot.RenderGapsText(reply.Gaps))
	return err
}
