package bot_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"shipmate/bot"
	"shipmate/internal/fakeslack"
)

// A bot started while Slack is unavailable waits for it instead of exiting,
// and stops cleanly if asked to while waiting.
func TestAuthRetriedWhileSlackIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New(fakeslack.WithPingInterval(fakePingInterval))
	t.Cleanup(srv.Close)
	srv.RateLimit("auth.test", 1, time.Second)
	ix := sharedIndex(t)
	logs := &logBuffer{}
	newBot := func() *bot.Bot {
		return bot.New(bot.Config{BotToken: bot.Secret(srv.BotToken()), AppToken: bot.Secret(srv.AppToken()), APIURL: srv.APIURL()},
			bot.NewCommands(ix, ix.Base()), ix.ServiceName, slog.New(slog.NewJSONHandler(logs, nil)),
			bot.Options{SocketOptions: []socketmode.Option{socketmode.OptionPingInterval(clientPingInterval)}})
	}
	b := newBot()

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	if err := srv.WaitConnections(ctx, 1); err != nil {
		t.Fatalf("bot did not connect after the outage: %v\n%s", err, logs)
	}
	if n := len(srv.CallsTo("auth.test")); n < 2 {
		t.Errorf("auth.test called %d times, want a retry", n)
	}
	if len(logs.records("slack call failed, retrying")) == 0 {
		t.Errorf("no retry logged:\n%s", logs)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}

	// Cancelled while still waiting for Slack: Run returns nil at once.
	srv.RateLimit("auth.test", 100, time.Minute)
	runCtx, stop = context.WithCancel(ctx)
	b = newBot()
	go func() { done <- b.Run(runCtx) }()
	if _, err := srv.WaitCalls(ctx, "auth.test", 1); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run cancelled during the outage = %v, want nil", err)
	}
}
