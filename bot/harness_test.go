package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/index"
	"shipmate/internal/fakeslack"
	"shipmate/store"
)

// The fake pings often and the client gives up on a silent socket after a
// few missed pings, so a test that cuts the socket sees a quick reconnect
// and a slow race-enabled run does not reconnect by mistake.
const (
	fakePingInterval   = 200 * time.Millisecond
	clientPingInterval = 10 * fakePingInterval
)

var (
	ixOnce sync.Once
	ix     *index.Index
	ixErr  error
)

// sharedIndex returns one index over the embedded content for the whole test
// binary; an Index is safe for concurrent use.
func sharedIndex(tb testing.TB) *index.Index {
	tb.Helper()
	ixOnce.Do(func() { ix, ixErr = index.New(content.MustLoadEmbedded()) })
	if ixErr != nil {
		tb.Fatal(ixErr)
	}
	return ix
}

// logBuffer is an io.Writer safe for the bot's concurrent loggers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the JSON log records whose msg is msg.
func (l *logBuffer) records(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// harness is a bot running against a fake Slack.
type harness struct {
	srv  *fakeslack.Server
	bot  *bot.Bot
	cmds *bot.Commands
	logs *logBuffer
	ctx  context.Context // the test's deadline; every wait uses it

	cancelTest context.CancelFunc
	stopOnce   sync.Once
	cancel     context.CancelFunc
	runErr     chan error
	err        error
}

type setup struct {
	fake []fakeslack.Option
	opts bot.Options
	cfg  func(*bot.Config)
	// wire adds collaborators (the daily quiz) before the bot runs.
	wire func(*bot.Bot, *bot.Commands)
	// extra commands for the table (a command that panics).
	extra []bot.Command
	// faults are injected into the fake before the bot starts.
	faults []fakeslack.Fault
	// logLevel is the bot's log level (nil: DEBUG, so tests see all).
	logLevel slog.Leveler
	// dataDir holds the bot's store; empty: a new one. conv replaces
	// the default conversation settings (follow-ups on, admin UADMIN).
	dataDir string
	conv    *bot.Conversation
}

// start runs a bot against a new fake Slack and waits until it is connected.
// Cleanup stops the bot (Run must return nil) before closing the fake.
func start(t testing.TB, s setup) *harness {
	t.Helper()
	h := startNoWait(t, s)
	if err := h.srv.WaitConnections(h.ctx, 1); err != nil {
		t.Fatalf("bot did not connect: %v\nlogs:\n%s", err, h.logs)
	}
	return h
}

func startNoWait(t testing.TB, s setup) *harness {
	t.Helper()
	h := launch(t, s)
	t.Cleanup(func() {
		if err := h.shutdown(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	return h
}

// launch is startNoWait without the cleanup: the caller must call shutdown.
// The load run uses it so that nothing keeps its fake Slack's records alive
// once it is over.
func launch(t testing.TB, s setup) *harness {
	t.Helper()
	ix := sharedIndex(t)
	ctx, cancelTest := context.WithTimeout(t.Context(), 20*time.Second)
	srv := fakeslack.New(append([]fakeslack.Option{fakeslack.WithPingInterval(fakePingInterval)}, s.fake...)...)
	cfg := bot.Config{
		BotToken: bot.Secret(srv.BotToken()),
		AppToken: bot.Secret(srv.AppToken()),
		APIURL:   srv.APIURL(),
	}
	if s.cfg != nil {
		s.cfg(&cfg)
	}
	opts := s.opts
	if opts.Memory == nil {
		opts.Memory = openStore(t, s.dataDir)
	}
	opts.Conversation = bot.Conversation{Followups: true, Admins: []string{"UADMIN"}}
	if s.conv != nil {
		opts.Conversation = *s.conv
	}
	opts.SocketOptions = append([]socketmode.Option{socketmode.OptionPingInterval(clientPingInterval)}, opts.SocketOptions...)
	logs := &logBuffer{}
	level := slog.LevelDebug
	if s.logLevel != nil {
		level = s.logLevel.Level()
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	cmds := bot.NewCommands(ix, ix.Base(), append([]bot.Command{bot.GapsCommand(opts.Memory, opts.Conversation, time.Now)}, s.extra...)...)
	b := bot.New(cfg, cmds, ix.ServiceName, log, opts)
	for _, f := range s.faults {
		srv.Inject(f)
	}
	if s.wire != nil {
		s.wire(b, cmds)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	h := &harness{srv: srv, bot: b, cmds: cmds, logs: logs, ctx: ctx, cancelTest: cancelTest, cancel: cancel, runErr: make(chan error, 1)}
	go func() { h.runErr <- b.Run(runCtx) }()
	return h
}

// openStore opens the store in dir (a new directory if empty) until the
// test ends.
func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// shutdown stops the bot, then closes the fake Slack, and returns Run's
// error.
func (h *harness) shutdown() error {
	err := h.stop()
	h.srv.Close()
	h.cancelTest()
	return err
}

// stop cancels Run's context and waits for Run to return.
func (h *harness) stop() error {
	h.stopOnce.Do(func() {
		h.cancel()
		select {
		case h.err = <-h.runErr:
		case <-time.After(30 * time.Second):
			h.err = errors.New("Run did not return within 30s of cancel")
		}
	})
	return h.err
}

// runResult waits for Run to return on its own.
func (h *harness) runResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.runErr:
		h.stopOnce.Do(h.cancel) // Run has returned: nothing left for cleanup to check
		return err
	case <-h.ctx.Done():
		t.Fatalf("Run did not return: %v", h.ctx.Err())
		return nil
	}
}

// send delivers env and fails the test unless it is acked in time.
func (h *harness) send(t *testing.T, env fakeslack.Envelope) fakeslack.Ack {
	t.Helper()
	a, err := h.srv.Send(h.ctx, env)
	if err != nil {
		t.Fatalf("envelope %s (%s) not acked: %v", env.EnvelopeID, env.Type, err)
	}
	return a
}

// mention sends an app_mention and returns the event.
func (h *harness) mention(t *testing.T, channel, text string) map[string]any {
	t.Helper()
	ev := h.srv.AppMention("U1", channel, text)
	h.send(t, h.srv.EventEnvelope("", ev))
	return ev
}

// posts waits for n chat.postMessage calls that succeeded and returns them.
func (h *harness) posts(t *testing.T, n int) []fakeslack.Call {
	t.Helper()
	var got []fakeslack.Call
	err := h.srv.WaitFor(h.ctx, func(cs []fakeslack.Call) bool {
		got = okCalls(cs, "chat.postMessage", "")
		return len(got) >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d chat.postMessage: %v (got %d)\nlogs:\n%s", n, err, len(got), h.logs)
	}
	return got
}

// responses waits for n successful posts to the response URL url.
func (h *harness) responses(t *testing.T, url string, n int) []fakeslack.Call {
	t.Helper()
	var got []fakeslack.Call
	err := h.srv.WaitFor(h.ctx, func(cs []fakeslack.Call) bool {
		got = okCalls(cs, fakeslack.MethodResponseURL, url)
		return len(got) >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d posts to %s: %v (got %d)\nlogs:\n%s", n, url, err, len(got), h.logs)
	}
	return got
}

// slash sends /shipmate text and returns the envelope's response URL.
func (h *harness) slash(t *testing.T, text string) string {
	t.Helper()
	env := h.srv.SlashEnvelope("/shipmate", text, "U1", "C1")
	h.send(t, env)
	return env.Payload["response_url"].(string)
}

// okCalls returns the successful calls to method; for response URLs, only
// those to url when it is not empty.
func okCalls(cs []fakeslack.Call, method, url string) []fakeslack.Call {
	var out []fakeslack.Call
	for _, c := range cs {
		if c.Method != method || c.Error != "" || c.Limited {
			continue
		}
		if url != "" && !strings.HasSuffix(url, c.Path) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// noErrors fails the test if the bot logged an error.
func (h *harness) noErrors(t *testing.T) {
	t.Helper()
	for line := range strings.Lines(h.logs.String()) {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("bot logged an error: %s", line)
		}
	}
}

// button is a button element of a rendered message.
type button struct {
	Block    string
	ActionID string
	Label    string
	Value    string
}

// blocksOf decodes the blocks of a posted message.
func blocksOf(t *testing.T, c fakeslack.Call) []map[string]any {
	t.Helper()
	raw := c.Param("blocks")
	if raw == "" {
		return nil
	}
	var bs []map[string]any
	if err := json.Unmarshal([]byte(raw), &bs); err != nil {
		t.Fatalf("blocks of %s are not JSON: %v", c.Method, err)
	}
	return bs
}

func buttonsOf(t *testing.T, c fakeslack.Call) []button {
	t.Helper()
	var out []button
	for _, b := range blocksOf(t, c) {
		if b["type"] != "actions" {
			continue
		}
		els, _ := b["elements"].([]any)
		for _, e := range els {
			m, _ := e.(map[string]any)
			if m["type"] != "button" {
				continue
			}
			label, _ := m["text"].(map[string]any)["text"].(string)
			id, _ := m["action_id"].(string)
			value, _ := m["value"].(string)
			blockID, _ := b["block_id"].(string)
			out = append(out, button{Block: blockID, ActionID: id, Label: label, Value: value})
		}
	}
	return out
}

func findButton(bs []button, actionID string) (button, bool) {
	for _, b := range bs {
		if b.ActionID == actionID {
			return b, true
		}
	}
	return button{}, false
}

// blockText is all the text of a message's blocks as Slack shows it
// (entities decoded), for "mentions X" checks.
func blockText(t *testing.T, c fakeslack.Call) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				b.WriteString(s)
				b.WriteByte('\n')
			}
			for k, x := range v {
				if k != "text" || !isString(x) {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, blk := range blocksOf(t, c) {
		walk(blk)
	}
	return unescape(b.String())
}

var unescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace

func isString(v any) bool { _, ok := v.(string); return ok }

// click builds a block_actions envelope for a click by user on a button of a
// message; the envelope carries a fresh response URL.
func (h *harness) click(user string, container map[string]any, b button) fakeslack.Envelope {
	return h.srv.InteractiveEnvelope(map[string]any{
		"user":      map[string]any{"id": user, "username": strings.ToLower(user), "name": strings.ToLower(user), "team_id": fakeslack.TeamID},
		"channel":   map[string]any{"id": "C1", "name": "general"},
		"container": container,
		"actions": []any{map[string]any{
			"type": "button", "action_id": b.ActionID, "block_id": b.Block, "value": b.Value,
			"text":      map[string]any{"type": "plain_text", "text": b.Label},
			"action_ts": h.srv.NextTS(),
		}},
	})
}

// ephemeral is the container of a click on an ephemeral message.
func ephemeral(ts string) map[string]any {
	return map[string]any{"type": "message", "message_ts": ts, "channel_id": "C1", "is_ephemeral": true}
}

func responseURL(env fakeslack.Envelope) string { return env.Payload["response_url"].(string) }
