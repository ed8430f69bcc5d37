package bot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/internal/fakeslack"
	"shipmate/metrics"
)

// fastCalls makes a hung call fail quickly, so tests of hangs stay short.
func fastCalls(c *bot.Config) { c.CallTimeout = 300 * time.Millisecond }

// TestReplySurvivesWebAPIFaults: a reply meets each of Slack's ordinary
// faults on its way and is still delivered, exactly once.
func TestReplySurvivesWebAPIFaults(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name  string
		fault fakeslack.Fault
	}{
		{"500", fakeslack.Fault{Status: http.StatusInternalServerError, Times: 1}},
		{"502 twice", fakeslack.Fault{Status: http.StatusBadGateway, Times: 2}},
		{"503", fakeslack.Fault{Status: http.StatusServiceUnavailable, Times: 1}},
		{"429 without Retry-After", fakeslack.Fault{Status: http.StatusTooManyRequests, NoRetryAfter: true, Times: 2}},
		{"429 with Retry-After", fakeslack.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 1}},
		{"connection reset", fakeslack.Fault{Reset: true, Times: 1}},
		{"hung call", fakeslack.Fault{Hang: true, Times: 1}},
		{"slow call", fakeslack.Fault{Delay: 100 * time.Millisecond, Times: 1}},
	}
	for _, f := range faults {
		t.Run("mention/"+f.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, setup{cfg: fastCalls})
			f.fault.Method = "chat.postMessage"
			h.srv.Inject(f.fault)
			ev := h.mention(t, "C1", "<@UBOT> what is ecr?")
			h.posts(t, 1)
			h.stop()
			checkOnce(t, okCalls(h.srv.Calls(), "chat.postMessage", ""), ev["ts"].(string))
			if f.fault.Delay == 0 {
				checkHit(t, h.srv.CallsTo("chat.postMessage"))
			}
			h.noErrors(t)
		})
		t.Run("response_url/"+f.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, setup{cfg: fastCalls})
			f.fault.Method = fakeslack.MethodResponseURL
			h.srv.Inject(f.fault)
			url := h.slash(t, "explain fargate")
			h.responses(t, url, 1)
			h.stop()
			if n := len(okCalls(h.srv.Calls(), fakeslack.MethodResponseURL, url)); n != 1 {
				t.Errorf("%d answers on the response URL, want 1", n)
			}
			if f.fault.Delay == 0 {
				checkHit(t, h.srv.CallsTo(fakeslack.MethodResponseURL))
			}
			h.noErrors(t)
		})
	}
}

// checkOnce checks exactly one post went to thread ts.
func checkOnce(t *testing.T, posts []fakeslack.Call, ts string) {
	t.Helper()
	n := 0
	for _, p := range posts {
		if p.Param("thread_ts") == ts {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d replies in thread %s, want exactly 1", n, ts)
	}
}

// checkHit checks the fault was met before the success.
func checkHit(t *testing.T, calls []fakeslack.Call) {
	t.Helper()
	if len(calls) < 2 || calls[0].Fault == nil {
		t.Errorf("calls %d, first fault %v: want the fault met, then a retry", len(calls), calls[0].Fault)
	}
}

// TestHungCallsDoNotBlockOthers: posts to one channel hang; a reply in
// another channel, and a slash command, are answered meanwhile; the hung
// reply is delivered once Slack answers again.
func TestHungCallsDoNotBlockOthers(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 2}, cfg: func(c *bot.Config) { c.CallTimeout = 2 * time.Second }})
	h.srv.Inject(fakeslack.Fault{Method: "chat.postMessage", Channel: "CSTUCK", Hang: true})
	var stuck []string
	for range 5 {
		stuck = append(stuck, h.mention(t, "CSTUCK", "<@UBOT> what is ecr?")["ts"].(string))
	}
	if _, err := h.srv.WaitCalls(h.ctx, "chat.postMessage", 1); err != nil {
		t.Fatal(err)
	}
	ev := h.mention(t, "CFREE", "<@UBOT> what is eks?")
	url := h.slash(t, "help")
	h.responses(t, url, 1)
	posts := h.posts(t, 1)
	checkOnce(t, posts, ev["ts"].(string))

	h.srv.ClearFaults()
	h.srv.ReleaseHangs()
	posts = h.posts(t, 6)
	for _, ts := range stuck {
		checkOnce(t, posts, ts)
	}
}

// TestChannelPacing: a burst of mentions in one channel, against Slack's
// per-channel limit, is answered in full without running into it, and a
// mention in another channel does not wait behind the burst.
func TestChannelPacing(t *testing.T) {
	t.Parallel()
	const every = 100 * time.Millisecond // a tenth of Slack's 1 s, to keep the test short
	h := start(t, setup{
		fake: []fakeslack.Option{fakeslack.WithChannelLimit(fakeslack.ChannelLimit{Every: every, Burst: 3})},
		opts: bot.Options{ChannelRate: float64(time.Second / every), ChannelBurst: 3},
	})
	const burst = 12
	var want []string
	for range burst {
		want = append(want, h.mention(t, "CBUSY", "<@UBOT> what is ecr?")["ts"].(string))
	}
	other := h.mention(t, "CQUIET", "<@UBOT> what is eks?")["ts"].(string)
	posts := h.posts(t, burst+1)
	for _, ts := range append(want, other) {
		checkOnce(t, posts, ts)
	}
	last := 0
	for i, p := range posts {
		if p.Param("thread_ts") == other {
			last = i
		}
	}
	if last == len(posts)-1 {
		t.Errorf("the quiet channel's reply came last, behind the busy channel's %d", burst)
	}
	limited := 0
	for _, c := range h.srv.CallsTo("chat.postMessage") {
		if c.Limited {
			limited++
		}
	}
	t.Logf("%d posts answered 429 by the per-channel limit", limited)
	if limited > burst/4 {
		t.Errorf("%d of %d posts ran into the per-channel limit, want them paced", limited, burst)
	}
}

// TestAbandonedReplyIsLoggedOnce: a reply Slack refuses, and one that keeps
// failing past its deadline, are each logged once at ERROR with the
// channel, the reason and how long they were tried.
func TestAbandonedReplyIsLoggedOnce(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{ReplyDeadline: 1500 * time.Millisecond}, cfg: fastCalls})
	h.srv.Inject(fakeslack.Fault{Method: "chat.postMessage", Channel: "CDOWN", Status: http.StatusServiceUnavailable})
	h.mention(t, "CDOWN", "<@UBOT> what is ecr?")
	h.srv.Handle("chat.postMessage", func(c fakeslack.Call) map[string]any {
		if c.Param("channel") == "CGONE" {
			return map[string]any{"ok": false, "error": "channel_not_found"}
		}
		return map[string]any{"ok": true, "channel": c.Param("channel"), "ts": "1700000001.000001"}
	})
	h.mention(t, "CGONE", "<@UBOT> what is eks?")
	var recs []map[string]any
	err := waitUntil(h.ctx, func() bool {
		recs = h.logs.records("reply abandoned")
		return len(recs) >= 2
	})
	if err != nil {
		t.Fatalf("abandoned replies not logged: %v\n%s", err, h.logs)
	}
	h.stop()
	recs = h.logs.records("reply abandoned")
	if len(recs) != 2 {
		t.Fatalf("%d abandoned logs, want 2 (once each):\n%s", len(recs), h.logs)
	}
	byChannel := map[string]map[string]any{}
	for _, r := range recs {
		if r["level"] != "ERROR" || r["tried_for"] == nil || r["err"] == "" {
			t.Errorf("abandoned log %v: want ERROR with tried_for and err", r)
		}
		byChannel[r["channel"].(string)] = r
	}
	if r := byChannel["CDOWN"]; r == nil || r["reason"] != "deadline" || !strings.Contains(r["err"].(string), "503") {
		t.Errorf("CDOWN abandoned as %v, want reason deadline after HTTP 503s", r)
	}
	if r := byChannel["CGONE"]; r == nil || r["reason"] != "rejected" || !strings.Contains(r["err"].(string), "channel_not_found") {
		t.Errorf("CGONE abandoned as %v, want reason rejected with channel_not_found", r)
	}
	if n := len(h.srv.CallsTo("chat.postMessage")); n < 3 {
		t.Errorf("%d calls, want the 503s retried until the deadline", n)
	}
}

// waitUntil polls cond until it holds or ctx ends. For conditions the fake
// Slack cannot signal (the bot's own logs and state).
func waitUntil(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// TestOddEnvelopesAreAcked: envelopes slack-go cannot decode are acked by
// their envelope id (so Slack stops sending them) and logged at DEBUG; a
// slash command or click among them gets a private answer.
func TestOddEnvelopesAreAcked(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	url1, url2 := h.srv.ResponseURL(), h.srv.ResponseURL()
	frames := []struct {
		name, id, frame, answerOn string
	}{
		{"unknown type", "E-UNKNOWN", `{"envelope_id":"E-UNKNOWN","type":"brand_new_kind","accepts_response_payload":false,"payload":{"x":1}}`, ""},
		{"retry_attempt as a string", "E-RETRY", `{"envelope_id":"E-RETRY","type":"events_api","retry_attempt":"one","payload":{"type":"event_callback","event":{"type":"app_mention"}}}`, ""},
		{"event not an object", "E-EVENT", `{"envelope_id":"E-EVENT","type":"events_api","payload":{"type":"event_callback","event":"mention"}}`, ""},
		{"unknown event type", "E-INNER", `{"envelope_id":"E-INNER","type":"events_api","payload":{"type":"event_callback","event_id":"Ev9","event":{"type":"emoji_changed","subtype":"add"}}}`, ""},
		{"slash command with a number for text", "E-SLASH", `{"envelope_id":"E-SLASH","type":"slash_commands","payload":{"command":"/shipmate","text":42,"user_id":"U1","response_url":"` + url1 + `"}}`, url1},
		{"click with actions as a string", "E-CLICK", `{"envelope_id":"E-CLICK","type":"interactive","payload":{"type":"block_actions","actions":"quiz_answer_0","user":{"id":"U1"},"response_url":"` + url2 + `"}}`, url2},
		{"payload missing", "E-EMPTY", `{"envelope_id":"E-EMPTY","type":"interactive"}`, ""},
	}
	for _, f := range frames {
		a := <-h.srv.SendRaw(h.ctx, f.id, []byte(f.frame))
		if a.Err != nil {
			t.Errorf("%s: not acked: %v\n%s", f.name, a.Err, h.logs)
		}
		if f.answerOn != "" {
			r := h.responses(t, f.answerOn, 1)[0]
			if !strings.Contains(r.Param("text"), "Sorry") {
				t.Errorf("%s: answered %q, want an apology", f.name, r.Param("text"))
			}
		}
	}
	// The bot is still fine.
	h.mention(t, "C1", "<@UBOT> what is ecr?")
	h.posts(t, 1)
	if len(h.logs.records("unreadable envelope acked")) == 0 {
		t.Errorf("no DEBUG log of the unreadable envelopes:\n%s", h.logs)
	}
	for _, r := range h.logs.records("unreadable envelope acked") {
		if r["level"] != "DEBUG" {
			t.Errorf("unreadable envelope logged at %v, want DEBUG", r["level"])
		}
	}
}

// TestPanicIsAnswered: a command that panics gets an apology, and the bot
// goes on answering.
func TestPanicIsAnswered(t *testing.T) {
	t.Parallel()
	boom := bot.Command{Name: "boom", Usage: "boom", Help: "Panics.",
		Run: func(context.Context, *bot.Commands, bot.Request) (bot.Reply, error) { panic("boom") }}
	h := start(t, setup{extra: []bot.Command{boom}})
	ev := h.mention(t, "C1", "<@UBOT> boom")
	url := h.slash(t, "boom")
	r := h.responses(t, url, 1)[0]
	posts := h.posts(t, 1)
	if posts[0].Param("thread_ts") != ev["ts"] || !strings.Contains(posts[0].Param("text"), "Sorry") {
		t.Errorf("mention reply %q in %q, want an apology in thread %s", posts[0].Param("text"), posts[0].Param("thread_ts"), ev["ts"])
	}
	if !strings.Contains(r.Param("text"), "Sorry") {
		t.Errorf("slash reply %q, want an apology", r.Param("text"))
	}
	h.mention(t, "C1", "<@UBOT> what is ecr?")
	h.posts(t, 2)
	if n := len(h.logs.records("panic handling envelope")); n != 2 {
		t.Errorf("%d panics logged, want 2", n)
	}
}

// TestOddTextIsAnswered: whatever the text, the bot answers, promptly.
func TestOddTextIsAnswered(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	texts := []string{
		"<@UBOT> " + strings.Repeat("fargate ", 20_000),
		"<@UBOT> \xff\xfe\xfd invalid utf-8 \xc3",
		"<@UBOT> <@UBOT> <@U2> <@U3|x>",
		"<@UBOT> \x00\x01\x02\u200b\u202e ecs",
		"<@UBOT> " + strings.Repeat("<", 5000) + strings.Repeat(">", 5000),
		"<@UBOT> " + strings.Repeat("<https://example.com|", 1000),
		"<@UBOT> 🚢🐳📦 " + strings.Repeat("é", 3000),
		"<@UBOT> &amp;&lt;&gt;&amp;amp; " + strings.Repeat("&amp;", 2000),
		"<@UBOT> *_~`" + strings.Repeat("`", 3000),
	}
	var want []string
	for _, text := range texts {
		want = append(want, h.mention(t, fmt.Sprintf("C%d", len(want)), text)["ts"].(string))
	}
	posts := h.posts(t, len(texts))
	for i, ts := range want {
		n := 0
		for _, p := range posts {
			if p.Param("thread_ts") == ts {
				n++
			}
		}
		if n != 1 {
			t.Errorf("text %d (%.40q…) answered %d times, want once", i, texts[i], n)
		}
	}
	h.noErrors(t)
}

// TestLateAckRedelivery: Slack sends an envelope again when its ack does
// not reach it in time (late or lost on the way: the bot cannot tell
// which); the bot handles every delivery and answers once. The acks are
// lost rather than made late, so the test does not hang on timing.
func TestLateAckRedelivery(t *testing.T) {
	t.Parallel()
	h := start(t, setup{fake: []fakeslack.Option{fakeslack.WithRedelivery(2), fakeslack.WithAckTimeout(200 * time.Millisecond), fakeslack.WithAckLoss(1)}})
	ev := h.srv.AppMention("U1", "C1", "<@UBOT> what is ecr?")
	a := <-h.srv.SendAsync(h.ctx, h.srv.EventEnvelope("", ev))
	if !errors.Is(a.Err, fakeslack.ErrAckTimeout) {
		t.Fatalf("every ack lost: Send = %+v, want ErrAckTimeout", a)
	}
	if st := h.srv.Stats(); st.Redelivered != 2 || st.AcksLost != 3 || st.Envelopes != 3 {
		t.Errorf("stats %+v, want the envelope and 2 redeliveries, each ack lost", st)
	}
	h.posts(t, 1)
	// Anything more would be posted by now: the next mention is answered
	// after the redeliveries were handled (the replies share a lane).
	next := h.srv.AppMention("U1", "C1", "<@UBOT> what is eks?")
	<-h.srv.SendAsync(h.ctx, h.srv.EventEnvelope("", next))
	posts := h.posts(t, 2)
	checkOnce(t, posts, ev["ts"].(string))
	checkOnce(t, posts, next["ts"].(string))
}

// TestSlashJustBeforeRefresh: a slash command that arrives just before
// Slack asks for a refresh, or just before the socket drops, is acked and
// answered once.
func TestSlashJustBeforeRefresh(t *testing.T) {
	t.Parallel()
	cuts := map[string]struct {
		fake []fakeslack.Option
		cut  func(*fakeslack.Server)
	}{
		"refresh_requested": {nil, func(s *fakeslack.Server) { s.Disconnect("refresh_requested") }},
		// Harsher than Slack, which keeps the socket open for seconds
		// after asking for a refresh.
		"refresh_requested, closed at once": {[]fakeslack.Option{fakeslack.WithDisconnectGrace(0)},
			func(s *fakeslack.Server) { s.Disconnect("refresh_requested") }},
		"dropped socket": {nil, func(s *fakeslack.Server) { s.DropConnections() }},
	}
	for name, tc := range cuts {
		for i := range 3 {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				t.Parallel()
				h := start(t, setup{fake: tc.fake})
				env := h.srv.SlashEnvelope("/shipmate", "explain ecs", "U1", "C1")
				ack := h.srv.SendAsync(h.ctx, env)
				if err := h.srv.WaitStats(h.ctx, func(st fakeslack.Stats) bool { return st.Envelopes >= 1 }); err != nil {
					t.Fatal(err)
				}
				tc.cut(h.srv)
				if a := <-ack; a.Err != nil {
					t.Fatalf("slash command not acked across the cut: %v\nacks %+v\n%s", a.Err, h.srv.Acks(), h.logs)
				}
				h.responses(t, responseURL(env), 1)
				if err := h.srv.WaitTotalConnections(h.ctx, 2); err != nil {
					t.Fatal(err)
				}
				h.stop()
				if n := len(okCalls(h.srv.Calls(), fakeslack.MethodResponseURL, responseURL(env))); n != 1 {
					t.Errorf("answered %d times, want once", n)
				}
			})
		}
	}
}

// TestReadiness: Ready turns false when the socket stays down past the
// grace, true again on reconnecting; and false while the Web API fails.
func TestReadiness(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{ReadyGrace: 200 * time.Millisecond}, cfg: fastCalls})
	if err := waitUntil(h.ctx, h.bot.Ready); err != nil {
		t.Fatal("never ready")
	}
	remove := h.srv.Inject(fakeslack.Fault{Method: "apps.connections.open", Status: http.StatusServiceUnavailable})
	h.srv.DropConnections()
	if err := waitUntil(h.ctx, func() bool { return !h.bot.Ready() }); err != nil {
		t.Fatal("still ready with the socket down")
	}
	remove()
	if err := waitUntil(h.ctx, h.bot.Ready); err != nil {
		t.Fatal("not ready after reconnecting")
	}
	h.srv.Inject(fakeslack.Fault{Method: "chat.postMessage", Hang: true})
	h.mention(t, "C1", "<@UBOT> what is ecr?")
	if err := waitUntil(h.ctx, func() bool { return !h.bot.Ready() }); err != nil {
		t.Fatal("still ready with every post timing out")
	}
	h.srv.ClearFaults()
	h.srv.ReleaseHangs()
	h.posts(t, 1)
	if err := waitUntil(h.ctx, h.bot.Ready); err != nil {
		t.Fatal("not ready after posts went through again")
	}
}

// TestExitWhenSlackStaysDown: Run fails with ErrSlackDown once Slack has
// been out of reach for DownExitAfter, at start-up and later.
func TestExitWhenSlackStaysDown(t *testing.T) {
	t.Parallel()
	down := func(c *bot.Config) { c.DownExitAfter = 500 * time.Millisecond; c.CallTimeout = 100 * time.Millisecond }
	t.Run("at start-up", func(t *testing.T) {
		t.Parallel()
		h := startNoWait(t, setup{cfg: down, faults: []fakeslack.Fault{{Method: "auth.test", Hang: true}}})
		if err := h.runResult(t); !errors.Is(err, bot.ErrSlackDown) {
			t.Errorf("Run = %v, want ErrSlackDown", err)
		}
	})
	t.Run("after a connection", func(t *testing.T) {
		t.Parallel()
		h := start(t, setup{cfg: down})
		h.srv.Inject(fakeslack.Fault{Method: "apps.connections.open", Reset: true})
		h.srv.DropConnections()
		if err := h.runResult(t); !errors.Is(err, bot.ErrSlackDown) {
			t.Errorf("Run = %v, want ErrSlackDown", err)
		}
	})
}

// TestShutdownCutsHungPost: a post that hangs is cancelled when the grace
// ends, logged as abandoned, and Run returns.
func TestShutdownCutsHungPost(t *testing.T) {
	t.Parallel()
	h := start(t, setup{cfg: func(c *bot.Config) { c.ShutdownGrace = 200 * time.Millisecond }})
	h.srv.Inject(fakeslack.Fault{Method: "chat.postMessage", Hang: true})
	h.mention(t, "C1", "<@UBOT> what is ecr?")
	if _, err := h.srv.WaitCalls(h.ctx, "chat.postMessage", 1); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	recs := h.logs.records("reply abandoned")
	if len(recs) != 1 || recs[0]["reason"] != "shutdown" {
		t.Errorf("abandoned logs %v, want one with reason shutdown", recs)
	}
	assertNoMoreConnections(t, h)
}

// TestMetricsMove: the bot's counters follow what it does.
func TestMetricsMove(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := start(t, setup{opts: bot.Options{Metrics: m}})
	h.srv.Inject(fakeslack.Fault{Method: "chat.postMessage", Status: http.StatusTooManyRequests, NoRetryAfter: true, Times: 1})
	h.mention(t, "C1", "<@UBOT> what is ecr?")
	h.mention(t, "C2", "<@UBOT> what is the weather on mars?")
	h.posts(t, 2)
	url := h.slash(t, "help")
	h.responses(t, url, 1)
	<-h.srv.SendRaw(h.ctx, "E-ODD", []byte(`{"envelope_id":"E-ODD","type":"new_kind"}`))
	h.stop()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`shipmate_envelopes_total{type="events_api"} 2`,
		`shipmate_envelopes_total{type="slash_commands"} 1`,
		`shipmate_envelopes_total{type="unreadable"} 1`,
		`shipmate_ack_seconds_count 4`,
		`shipmate_replies_total{kind="mention"} 2`,
		`shipmate_replies_total{kind="slash"} 1`,
		`shipmate_answers_total{outcome="confident"} 1`,
		`shipmate_answers_total{outcome="declined"} 1`,
		`shipmate_answers_total{outcome="command"} 1`,
		`shipmate_slack_api_calls_total{method="chat.postMessage",result="429"} 1`,
		`shipmate_slack_api_calls_total{method="chat.postMessage",result="ok"} 2`,
		`shipmate_slack_api_calls_total{method="response_url",result="ok"} 1`,
		`shipmate_slack_api_calls_total{method="apps.connections.open",result="ok"} 1`,
		`shipmate_slack_api_calls_total{method="auth.test",result="ok"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
