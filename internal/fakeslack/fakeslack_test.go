package fakeslack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"shipmate/internal/fakeslack"
)

// testCtx bounds a test; every wait in these tests is on an event, never a sleep.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t *testing.T, opts ...fakeslack.Option) *fakeslack.Server {
	t.Helper()
	srv := fakeslack.New(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func newAPI(srv *fakeslack.Server, opts ...slack.Option) *slack.Client {
	opts = append([]slack.Option{
		slack.OptionAPIURL(srv.APIURL()),
		slack.OptionAppLevelToken(srv.AppToken()),
	}, opts...)
	return slack.New(srv.BotToken(), opts...)
}

// bot is a running socketmode client whose events are drained into a large
// buffer, so the client never blocks on a test that is busy elsewhere.
type bot struct {
	client *socketmode.Client
	events chan socketmode.Event
	stop   func() error // cancels RunContext and waits for it
}

func startBot(t *testing.T, srv *fakeslack.Server, opts ...socketmode.Option) *bot {
	t.Helper()
	client := socketmode.New(newAPI(srv), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	b := &bot{client: client, events: make(chan socketmode.Event, 4096)}
	runErr := make(chan error, 1)
	drained := make(chan struct{})
	go func() { runErr <- client.RunContext(ctx) }()
	go func() {
		defer close(drained)
		for {
			select {
			case e := <-client.Events:
				select {
				case b.events <- e:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	stopped := false
	b.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-runErr
			<-drained
		}
		return err
	}
	t.Cleanup(func() { _ = b.stop() })
	return b
}

// next returns the next event of type typ, skipping others.
func (b *bot) next(t *testing.T, ctx context.Context, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case e := <-b.events:
			if e.Type == typ {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %s event: %v", typ, ctx.Err())
		}
	}
}

// ackAll acks every envelope the bot receives until ctx ends.
func (b *bot) ackAll(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case e := <-b.events:
				if e.Request != nil && e.Request.EnvelopeID != "" {
					_ = b.client.Ack(*e.Request)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return done
}

func TestConnectSendsHello(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t)
	b := startBot(t, srv)

	hello := b.next(t, ctx, socketmode.EventTypeHello)
	if got := hello.Request.NumConnections; got != 1 {
		t.Errorf("hello num_connections = %d, want 1", got)
	}
	if got := hello.Request.ConnectionInfo.AppID; got != fakeslack.AppID {
		t.Errorf("hello app_id = %q, want %q", got, fakeslack.AppID)
	}
	if hello.Request.DebugInfo.Host == "" {
		t.Error("hello debug_info.host is empty")
	}
	if err := srv.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	opens := srv.CallsTo("apps.connections.open")
	if len(opens) != 1 || opens[0].Token != srv.AppToken() || opens[0].Status != http.StatusOK {
		t.Errorf("apps.connections.open calls = %+v, want one with the app token", opens)
	}
}

func TestEventsAPIEnvelopeIsDeliveredAndAcked(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t)
	b := startBot(t, srv)

	env := srv.EventEnvelope("Ev1", srv.AppMention("U1", "C1", "<@UBOT> where is the wiki?"))
	acked := srv.SendAsync(ctx, env)

	ev := b.next(t, ctx, socketmode.EventTypeEventsAPI)
	outer, ok := ev.Data.(slackevents.EventsAPIEvent)
	if !ok {
		t.Fatalf("event data is %T, want slackevents.EventsAPIEvent", ev.Data)
	}
	mention, ok := outer.InnerEvent.Data.(*slackevents.AppMentionEvent)
	if !ok {
		t.Fatalf("inner event is %T, want *slackevents.AppMentionEvent", outer.InnerEvent.Data)
	}
	if mention.Text != "<@UBOT> where is the wiki?" || mention.Channel != "C1" || mention.User != "U1" {
		t.Errorf("app_mention = %+v, want text, channel and user as sent", mention)
	}
	if cb, ok := outer.Data.(*slackevents.EventsAPICallbackEvent); !ok || cb.EventID != "Ev1" || cb.TeamID != fakeslack.TeamID {
		t.Errorf("callback = %+v, want event_id Ev1 and team %s", outer.Data, fakeslack.TeamID)
	}
	if err := b.client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}

	a := <-acked
	if a.Err != nil {
		t.Fatalf("ack: %v", a.Err)
	}
	if a.EnvelopeID != env.EnvelopeID || a.Type != fakeslack.TypeEventsAPI || a.Payload != nil || a.Latency <= 0 {
		t.Errorf("ack = %+v, want envelope %s, no payload, positive latency", a, env.EnvelopeID)
	}
}

func TestSlashCommandAckWithPayloadAndResponseURL(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t)
	b := startBot(t, srv)

	env := srv.SlashEnvelope("/shipmate", "help", "U1", "C1")
	acked := srv.SendAsync(ctx, env)
	ev := b.next(t, ctx, socketmode.EventTypeSlashCommand)
	cmd := ev.Data.(slack.SlashCommand)
	if cmd.Command != "/shipmate" || cmd.Text != "help" || cmd.UserID != "U1" || cmd.ChannelID != "C1" || cmd.TriggerID == "" {
		t.Errorf("slash command = %+v", cmd)
	}
	if !ev.Request.AcceptsResponsePayload {
		t.Error("slash envelope does not accept a response payload")
	}
	if err := b.client.Ack(*ev.Request, map[string]any{"response_type": "ephemeral", "text": "Try /shipmate search"}); err != nil {
		t.Fatal(err)
	}
	a := <-acked
	var payload struct{ Text string }
	if err := json.Unmarshal(a.Payload, &payload); err != nil || payload.Text != "Try /shipmate search" {
		t.Errorf("ack payload = %s (%v), want the text sent", a.Payload, err)
	}

	// Later replies go to the response_url, through either slack-go route.
	if err := slack.PostWebhookContext(ctx, cmd.ResponseURL, &slack.WebhookMessage{Text: "one", ResponseType: "ephemeral"}); err != nil {
		t.Fatal(err)
	}
	api := newAPI(srv)
	for i := range 4 {
		if _, _, _, err := api.SendMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, "in_channel"), slack.MsgOptionText("more", false)); err != nil {
			t.Fatalf("response_url post %d: %v", i+2, err)
		}
	}
	// Slack allows five uses; slack-go's SendMessage reports the sixth,
	// PostWebhook would not (it only checks the HTTP status).
	_, _, _, err := api.SendMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, "in_channel"), slack.MsgOptionText("too many", false))
	if err == nil || err.Error() != "used_url" {
		t.Errorf("sixth response_url post error = %v, want used_url", err)
	}
	posts := srv.CallsTo(fakeslack.MethodResponseURL)
	if len(posts) != 6 || posts[0].Param("text") != "one" || posts[0].Param("response_type") != "ephemeral" || posts[1].Param("response_type") != "in_channel" {
		t.Errorf("response_url posts = %+v", posts)
	}
}

func TestInteractiveBlockActions(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t)
	b := startBot(t, srv)

	env := srv.InteractiveEnvelope(map[string]any{
		"user":      map[string]any{"id": "U2", "username": "ann"},
		"channel":   map[string]any{"id": "C1", "name": "general"},
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C1"},
		"actions": []any{map[string]any{
			"type": "button", "action_id": "quiz_answer", "block_id": "q1", "value": "b", "action_ts": "1700000001.000000",
		}},
	})
	acked := srv.SendAsync(ctx, env)
	ev := b.next(t, ctx, socketmode.EventTypeInteractive)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U2" || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Errorf("interaction = type %q user %q response_url %q trigger %q", cb.Type, cb.User.ID, cb.ResponseURL, cb.TriggerID)
	}
	if len(cb.ActionCallback.BlockActions) != 1 || cb.ActionCallback.BlockActions[0].ActionID != "quiz_answer" || cb.ActionCallback.BlockActions[0].Value != "b" {
		t.Errorf("block actions = %+v, want quiz_answer=b", cb.ActionCallback.BlockActions)
	}
	if err := b.client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}
	if a := <-acked; a.Err != nil {
		t.Fatal(a.Err)
	}
}

// roundTrip sends one event and checks that the bot receives and acks it.
func roundTrip(t *testing.T, ctx context.Context, srv *fakeslack.Server, b *bot) fakeslack.Ack {
	t.Helper()
	acked := srv.SendAsync(ctx, srv.EventEnvelope("", srv.Message("U1", "D1", "hi")))
	ev := b.next(t, ctx, socketmode.EventTypeEventsAPI)
	if err := b.client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}
	a := <-acked
	if a.Err != nil {
		t.Fatalf("ack after reconnect: %v", a.Err)
	}
	return a
}

func TestReconnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cut   func(*fakeslack.Server) int
		opens int // sockets the server may still hold at once
	}{
		{"disconnect message", func(s *fakeslack.Server) int { return s.Disconnect("refresh_requested") }, 1},
		{"dropped socket", (*fakeslack.Server).DropConnections, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			// A long grace proves slack-go closes the socket itself on disconnect.
			srv := newServer(t, fakeslack.WithDisconnectGrace(time.Minute))
			b := startBot(t, srv)
			first := roundTrip(t, ctx, srv, b)

			if n := tt.cut(srv); n != 1 {
				t.Fatalf("cut %d connections, want 1", n)
			}
			err := srv.WaitStats(ctx, func(st fakeslack.Stats) bool { return st.Total == 2 && st.Live == 1 && st.Open == 1 })
			if err != nil {
				t.Fatalf("waiting for reconnect: %v (stats %+v)", err, srv.Stats())
			}
			if got := len(srv.CallsTo("apps.connections.open")); got != 2 {
				t.Errorf("apps.connections.open called %d times, want 2", got)
			}
			if second := roundTrip(t, ctx, srv, b); second.Conn == first.Conn {
				t.Errorf("ack came on connection %d again, want a new one", second.Conn)
			}
		})
	}
}

func TestEnvelopeWaitsForAConnection(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t)
	acked := srv.SendAsync(ctx, srv.EventEnvelope("", srv.Message("U1", "D1", "early")))
	b := startBot(t, srv)
	ev := b.next(t, ctx, socketmode.EventTypeEventsAPI)
	if err := b.client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}
	if a := <-acked; a.Err != nil {
		t.Fatal(a.Err)
	}
}

func TestPingsArePonged(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t, fakeslack.WithPingInterval(10*time.Millisecond))
	startBot(t, srv)
	if err := srv.WaitStats(ctx, func(st fakeslack.Stats) bool { return st.Pongs >= 3 }); err != nil {
		t.Fatalf("waiting for pongs: %v (stats %+v)", err, srv.Stats())
	}
}

func TestClientReconnectsWhenPingsStop(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t, fakeslack.WithPingInterval(0))
	startBot(t, srv, socketmode.OptionPingInterval(100*time.Millisecond))
	if err := srv.WaitTotalConnections(ctx, 2); err != nil {
		t.Fatalf("slack-go did not reconnect a silent socket: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	post := func(ctx context.Context, api *slack.Client) error {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
		return err
	}

	t.Run("without retry the caller sees RateLimitedError", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		srv := newServer(t)
		srv.RateLimit("chat.postMessage", 1, 1500*time.Millisecond)
		err := post(ctx, newAPI(srv))
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
			t.Fatalf("error = %v, want RateLimitedError with RetryAfter 2s (whole seconds, rounded up)", err)
		}
		if err := post(ctx, newAPI(srv)); err != nil {
			t.Fatalf("call after the limit: %v", err)
		}
		calls := srv.CallsTo("chat.postMessage")
		if len(calls) != 2 || !calls[0].Limited || calls[0].Status != http.StatusTooManyRequests || calls[1].Limited {
			t.Errorf("calls = %+v, want one limited then one ok", calls)
		}
	})

	t.Run("OptionRetry waits Retry-After and retries", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		srv := newServer(t)
		srv.RateLimit("chat.postMessage", 1, time.Second)
		if err := post(ctx, newAPI(srv, slack.OptionRetry(1))); err != nil {
			t.Fatal(err)
		}
		calls := srv.CallsTo("chat.postMessage")
		if len(calls) != 2 || !calls[0].Limited || calls[1].Error != "" {
			t.Fatalf("calls = %+v, want a limited call and a retried ok one", calls)
		}
		if gap := calls[1].Time.Sub(calls[0].Time); gap < time.Second {
			t.Errorf("retry came %v after the 429, want at least Retry-After (1s)", gap)
		}
	})

	t.Run("socketmode reconnect honours Retry-After", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		srv := newServer(t)
		srv.RateLimit("apps.connections.open", 1, time.Second)
		startBot(t, srv)
		if err := srv.WaitConnections(ctx, 1); err != nil {
			t.Fatal(err)
		}
		calls := srv.CallsTo("apps.connections.open")
		if len(calls) != 2 || calls[1].Time.Sub(calls[0].Time) < time.Second {
			t.Errorf("apps.connections.open calls = %+v, want a retry at least 1s after the 429", calls)
		}
	})
}

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name string
		call func(context.Context) error
		want string
	}{
		{"wrong bot token", func(ctx context.Context) error {
			_, err := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.APIURL())).AuthTestContext(ctx)
			return err
		}, "invalid_auth"},
		{"no token", func(ctx context.Context) error {
			_, err := slack.New("", slack.OptionAPIURL(srv.APIURL())).AuthTestContext(ctx)
			return err
		}, "not_authed"},
		{"app token on a bot method", func(ctx context.Context) error {
			_, _, err := slack.New(srv.AppToken(), slack.OptionAPIURL(srv.APIURL())).PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
			return err
		}, "not_allowed_token_type"},
		{"bot token on apps.connections.open", func(ctx context.Context) error {
			_, _, err := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(srv.BotToken())).StartSocketModeContext(ctx)
			return err
		}, "not_allowed_token_type"},
		{"socketmode with a wrong app token stops", func(ctx context.Context) error {
			api := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken("xapp-wrong"))
			client := socketmode.New(api)
			go func() { // RunContext reports "connecting" events before it gives up
				for {
					select {
					case <-client.Events:
					case <-ctx.Done():
						return
					}
				}
			}()
			return client.RunContext(ctx)
		}, "invalid_auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			if err := tt.call(ctx); err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestWebAPI(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t)
	api := newAPI(srv)

	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if auth.UserID != fakeslack.BotUserID || auth.BotID != fakeslack.BotID || auth.TeamID != fakeslack.TeamID {
		t.Errorf("auth.test = %+v", auth)
	}

	ch, ts1, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("first", false))
	if err != nil || ch != "C1" || ts1 == "" {
		t.Fatalf("PostMessage = %q, %q, %v", ch, ts1, err)
	}
	_, ts2, msg, err := api.PostMessageWithResponseContext(ctx, "C1",
		slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts1),
		slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*reply*", false, false), nil, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if ts2 <= ts1 {
		t.Errorf("second ts %q not after first %q", ts2, ts1)
	}
	if msg.BotID != fakeslack.BotID || msg.ThreadTimestamp != ts1 || len(msg.Blocks.BlockSet) != 1 {
		t.Errorf("message = %+v, want bot %s in thread %s with one block", msg.Msg, fakeslack.BotID, ts1)
	}
	last := srv.CallsTo("chat.postMessage")[1]
	if last.Param("thread_ts") != ts1 || !strings.Contains(last.Param("blocks"), `"section"`) {
		t.Errorf("recorded params = %v", last.Params)
	}

	if _, ts, text, err := api.UpdateMessageContext(ctx, "C1", ts1, slack.MsgOptionText("edited", false)); err != nil || ts != ts1 || text != "edited" {
		t.Errorf("UpdateMessage = %q, %q, %v; want same ts and new text", ts, text, err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", "1.000001", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("UpdateMessage of unknown ts error = %v, want message_not_found", err)
	}
	if ts, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("psst", false)); err != nil || ts == "" {
		t.Errorf("PostEphemeral = %q, %v", ts, err)
	}

	errCases := []struct {
		name string
		opts []slack.MsgOption
		want string
	}{
		{"no text", nil, "no_text"},
		{"too many blocks", []slack.MsgOption{slack.MsgOptionBlocks(manyDividers(51)...)}, "invalid_blocks"},
	}
	for _, tc := range errCases {
		if _, _, err := api.PostMessageContext(ctx, "C1", tc.opts...); err == nil || err.Error() != tc.want {
			t.Errorf("PostMessage(%s) error = %v, want %s", tc.name, err, tc.want)
		}
	}

	// JSON-bodied methods can be added; the body is decoded.
	srv.Handle("views.open", func(c fakeslack.Call) map[string]any {
		return map[string]any{"view": map[string]any{"id": "V1", "type": "modal"}}
	})
	view := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Quiz", false, false)}
	if _, err := api.OpenViewContext(ctx, "trigger-1", view); err != nil {
		t.Fatalf("views.open: %v", err)
	}
	if got := srv.CallsTo("views.open")[0]; got.Param("trigger_id") != "trigger-1" || got.Token != srv.BotToken() {
		t.Errorf("views.open call = %+v", got)
	}

	resp, err := http.PostForm(srv.APIURL()+"no.such", url.Values{"token": {srv.BotToken()}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"error":"unknown_method"`) {
		t.Errorf("unknown method answered %d %s", resp.StatusCode, body)
	}
}

func manyDividers(n int) []slack.Block {
	blocks := make([]slack.Block, n)
	for i := range blocks {
		blocks[i] = slack.NewDividerBlock()
	}
	return blocks
}

func TestAckTimeoutThenLateAckAndRetry(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := newServer(t, fakeslack.WithAckTimeout(50*time.Millisecond))
	b := startBot(t, srv)

	env := srv.EventEnvelope("Ev9", srv.Message("U1", "D1", "slow"))
	acked := srv.SendAsync(ctx, env)
	ev := b.next(t, ctx, socketmode.EventTypeEventsAPI)
	if a := <-acked; !errors.Is(a.Err, fakeslack.ErrAckTimeout) {
		t.Fatalf("Send error = %v, want ErrAckTimeout", a.Err)
	}
	if err := b.client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}
	acks, err := srv.WaitAcks(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !acks[0].Late {
		t.Errorf("ack after the timeout = %+v, want Late", acks[0])
	}

	// Retrying is the test's job, as Slack would do it. This time the ack
	// may take as long as it needs.
	srv.SetAckTimeout(0)
	env.RetryAttempt, env.RetryReason = 1, "timeout"
	acked = srv.SendAsync(ctx, env)
	ev = b.next(t, ctx, socketmode.EventTypeEventsAPI)
	if ev.Request.RetryAttempt != 1 || ev.Request.RetryReason != "timeout" {
		t.Errorf("retry arrived as attempt %d reason %q", ev.Request.RetryAttempt, ev.Request.RetryReason)
	}
	if err := b.client.Ack(*ev.Request); err != nil {
		t.Fatal(err)
	}
	if a := <-acked; a.Err != nil || a.RetryAttempt != 1 || a.Late {
		t.Errorf("retry ack = %+v", a)
	}
}

func TestManyEnvelopesAsync(t *testing.T) {
	t.Parallel()
	// A bound for a wedged test, not a speed target.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// No ack deadline: on a loaded machine an ack may take longer than
	// Slack's 3 s, which is not what this test is about (one ack each).
	srv := newServer(t, fakeslack.WithAckTimeout(0))
	b := startBot(t, srv)
	ackCtx, stopAcking := context.WithCancel(ctx)
	done := b.ackAll(ackCtx)
	defer func() { stopAcking(); <-done }()

	const n = 300
	results := make([]<-chan fakeslack.Ack, n)
	for i := range results {
		results[i] = srv.SendAsync(ctx, srv.EventEnvelope("", srv.Message("U1", "D1", "load")))
	}
	seen := map[string]bool{}
	for _, r := range results {
		a := <-r
		if a.Err != nil || a.Latency <= 0 || seen[a.EnvelopeID] {
			t.Fatalf("ack = %+v, want a unique ack", a)
		}
		seen[a.EnvelopeID] = true
	}
	if st := srv.Stats(); st.Acks != n || st.Envelopes != n {
		t.Errorf("stats = %+v, want %d envelopes and acks", st, n)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := srv.WaitCalls(ctx, "chat.postMessage", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitCalls error = %v, want DeadlineExceeded", err)
	}
}

// TestCloseLeavesNoGoroutines is not parallel so that no other test's server
// is running while it looks at every goroutine's stack.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	ctx := testCtx(t)
	srv := fakeslack.New(fakeslack.WithPingInterval(5*time.Millisecond), fakeslack.WithAckTimeout(0), fakeslack.WithDisconnectGrace(time.Minute))
	t.Cleanup(srv.Close) // a no-op after the Close below, unless the test fails first
	b := startBot(t, srv)
	if err := srv.WaitStats(ctx, func(st fakeslack.Stats) bool { return st.Pongs > 0 }); err != nil {
		t.Fatal(err)
	}
	srv.Disconnect("warning")
	if err := srv.WaitTotalConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("RunContext = %v, want context.Canceled", err)
	}
	unacked := srv.SendAsync(ctx, srv.EventEnvelope("", nil)) // waits for a connection that never comes

	srv.Close()
	if a := <-unacked; !errors.Is(a.Err, fakeslack.ErrClosed) {
		t.Errorf("pending send after Close: %v, want ErrClosed", a.Err)
	}
	if err := srv.WaitConnections(ctx, 1); !errors.Is(err, fakeslack.ErrClosed) {
		t.Errorf("wait after Close: %v, want ErrClosed", err)
	}
	buf := make([]byte, 1<<20)
	for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		for line := range strings.SplitSeq(g, "\n") {
			if strings.Contains(line, "/internal/fakeslack/") && !strings.Contains(line, "_test.go") {
				t.Errorf("goroutine left after Close:\n%s", g)
				break
			}
		}
	}
}
