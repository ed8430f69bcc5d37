package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
	"shipmate/store"
)

// Slack's faults against the real `shipmate serve` process: every mention
// and slash command is answered exactly once whatever Slack does to the
// calls, every envelope is acked, every click is answered.

// metric is the sum of every series of the counter name on c's /metrics.
func metric(t *testing.T, c *child, name string) float64 {
	t.Helper()
	resp, err := http.Get(c.health + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		end := strings.IndexAny(line, "{ ")
		if end < 0 || line[:end] != name {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// settle waits until serve has delivered n replies in all (the outbox
// counts a reply once Slack accepted it), so any second copy would have
// been posted by then, and checks that none was abandoned.
func settle(t *testing.T, ctx context.Context, c *child, n int) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for metric(t, c, "shipmate_replies_total") < float64(n) {
		select {
		case <-ctx.Done():
			t.Fatalf("%v replies delivered, want %d\nlogs:\n%s", metric(t, c, "shipmate_replies_total"), n, c.Logs())
		case <-tick.C:
		}
	}
	if got := metric(t, c, "shipmate_replies_total"); got != float64(n) {
		t.Errorf("%v replies delivered, want exactly %d", got, n)
	}
	if a := metric(t, c, "shipmate_replies_abandoned_total"); a != 0 {
		t.Errorf("%v replies abandoned\nlogs:\n%s", a, c.Logs())
	}
}

// inThread is the messages in Slack in channel's thread under ts, the
// thread's parent excluded.
func inThread(srv *fakeslack.Server, channel, ts string) []map[string]any {
	var out []map[string]any
	for _, m := range srv.Messages(channel) {
		if m["thread_ts"] == ts && m["ts"] != ts {
			out = append(out, m)
		}
	}
	return out
}

// answered waits until the URL of a slash command or click has been
// answered and returns the texts posted to it.
func answered(t *testing.T, ctx context.Context, srv *fakeslack.Server, c *child, url string) []string {
	t.Helper()
	if err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return len(responses(srv, url)) > 0 }); err != nil {
		t.Fatalf("no answer on the response URL: %v\nlogs:\n%s", err, c.Logs())
	}
	return responses(srv, url)
}

// TestServeAnswersThroughFaults: one fault at a time on the calls that
// carry replies (5xx, 429 without Retry-After, a reset connection, a hung
// call that times out) and each mention and slash command is still
// answered exactly once; a hung post does not hold up a slash command.
func TestServeAnswersThroughFaults(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New(fakeslack.WithChannelLimit(fakeslack.ChannelLimit{Every: time.Second, Burst: 3}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 180*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv, "SLACK_CALL_TIMEOUT=1s", "LOG_LEVEL=debug")

	faults := []struct {
		name  string
		fault fakeslack.Fault
	}{
		{"HTTP 500", fakeslack.Fault{Status: 500}},
		{"HTTP 502", fakeslack.Fault{Status: 502}},
		{"HTTP 503", fakeslack.Fault{Status: 503}},
		{"429 without Retry-After", fakeslack.Fault{Status: 429, NoRetryAfter: true}},
		{"429 with Retry-After", fakeslack.Fault{Status: 429, RetryAfter: time.Second}},
		{"connection reset", fakeslack.Fault{Reset: true}},
		{"hung call", fakeslack.Fault{Hang: true}},
		{"two 503s in a row", fakeslack.Fault{Status: 503, Times: 2}},
	}
	replies := 0
	for i, f := range faults {
		// A mention whose reply meets the fault in chat.postMessage.
		channel := fmt.Sprintf("CFAULT%d", i)
		fault := f.fault
		fault.Method, fault.Channel = "chat.postMessage", channel
		if fault.Times == 0 {
			fault.Times = 1
		}
		srv.Inject(fault)
		ev := srv.AppMention("U1", channel, "<@UBOT> which service runs containers without servers?")
		if _, err := srv.Send(ctx, srv.EventEnvelope("", ev)); err != nil {
			t.Fatalf("%s: mention not acked: %v", f.name, err)
		}
		if f.name == "hung call" {
			// While the post hangs, /shipmate help is answered.
			env := srv.SlashEnvelope("/shipmate", "help", "U2", "C1")
			if _, err := srv.Send(ctx, env); err != nil {
				t.Fatal(err)
			}
			answered(t, ctx, srv, c, env.Payload["response_url"].(string))
			replies++
		}
		// A slash command whose answer meets it on the response URL.
		fault.Method, fault.Channel = fakeslack.MethodResponseURL, ""
		srv.Inject(fault)
		env := srv.SlashEnvelope("/shipmate", "what is ecr?", "U1", "C1")
		if _, err := srv.Send(ctx, env); err != nil {
			t.Fatalf("%s: slash command not acked: %v", f.name, err)
		}
		url := env.Payload["response_url"].(string)
		answered(t, ctx, srv, c, url)
		replies += 2
		settle(t, ctx, c, replies)
		if got := inThread(srv, channel, ev["ts"].(string)); len(got) != 1 {
			t.Errorf("%s on chat.postMessage: %d replies in the thread, want 1", f.name, len(got))
		}
		if got := responses(srv, url); len(got) != 1 {
			t.Errorf("%s on the response URL: %d answers, want 1", f.name, len(got))
		}
		for _, call := range srv.Calls() {
			if call.Fault != nil && call.Fault.Channel == channel {
				goto hit
			}
		}
		t.Errorf("%s: the fault never hit the post", f.name)
	hit:
	}
	if n := len(logRecords(c.Logs(), "slack call failed, retrying")); n == 0 {
		t.Errorf("no retry was logged")
	}
}

// TestServeChannelLimit: 30 mentions in one channel against Slack's limit
// of about one post a second (a 429 without Retry-After past it) are all
// answered, each once, in its own thread.
func TestServeChannelLimit(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New(fakeslack.WithChannelLimit(fakeslack.ChannelLimit{Every: time.Second, Burst: 1, NoRetryAfter: true}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 180*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv)
	const n = 30
	var threads []string
	var acks []<-chan fakeslack.Ack
	for i := range n {
		ev := srv.AppMention(fmt.Sprintf("U%d", i), "CBUSY", fmt.Sprintf("<@UBOT> ecs or eks for team %d?", i))
		threads = append(threads, ev["ts"].(string))
		acks = append(acks, srv.SendAsync(ctx, srv.EventEnvelope("", ev)))
	}
	for _, a := range acks {
		if r := <-a; r.Err != nil {
			t.Fatalf("mention not acked: %v", r.Err)
		}
	}
	settle(t, ctx, c, n)
	for i, ts := range threads {
		if got := inThread(srv, "CBUSY", ts); len(got) != 1 {
			t.Errorf("mention %d: %d replies in its thread, want 1", i, len(got))
		}
	}
	limited := 0
	for _, call := range srv.CallsTo("chat.postMessage") {
		if call.Limited {
			limited++
		}
	}
	t.Logf("%d mentions answered once each; %d posts met the channel limit", n, limited)
}

// TestServeRedelivery: Slack loses acks and sends the envelopes again
// (new envelope id, retry_attempt set, same event or trigger): each
// mention and slash command is answered once.
func TestServeRedelivery(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New(fakeslack.WithAckLoss(0.4), fakeslack.WithRedelivery(3), fakeslack.WithAckTimeout(time.Second), fakeslack.WithSeed(7))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv)
	const n = 15
	var threads []string
	var urls []string
	var acks []<-chan fakeslack.Ack
	for i := range n {
		ev := srv.AppMention("U1", fmt.Sprintf("CRE%d", i), "<@UBOT> fargate or ec2 launch type?")
		threads = append(threads, ev["ts"].(string))
		acks = append(acks, srv.SendAsync(ctx, srv.EventEnvelope("", ev)))
		env := srv.SlashEnvelope("/shipmate", "explain ecr", "U1", "C1")
		urls = append(urls, env.Payload["response_url"].(string))
		acks = append(acks, srv.SendAsync(ctx, env))
	}
	for _, a := range acks {
		<-a // acked at some attempt, or every ack lost: both are fine here
	}
	settle(t, ctx, c, 2*n)
	for i := range n {
		if got := inThread(srv, fmt.Sprintf("CRE%d", i), threads[i]); len(got) != 1 {
			t.Errorf("mention %d: %d replies, want 1", i, len(got))
		}
		if got := responses(srv, urls[i]); len(got) != 1 {
			t.Errorf("slash command %d: %d answers, want 1", i, len(got))
		}
	}
	st := srv.Stats()
	if st.Redelivered == 0 {
		t.Errorf("no envelope was redelivered: the test proves nothing")
	}
	t.Logf("%d acks lost, %d envelopes redelivered", st.AcksLost, st.Redelivered)
}

// TestServeOddEnvelopes: envelopes of unknown types and with fields of
// unexpected types are acked (and logged at DEBUG), a slash command among
// them is told it could not be read, and serve goes on answering.
func TestServeOddEnvelopes(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv, "LOG_LEVEL=debug")
	url := srv.ResponseURL()
	frames := []struct{ id, frame string }{
		{"odd-type", `{"envelope_id":"odd-type","type":"brand_new_kind","payload":{"x":1}}`},
		{"odd-event-field", `{"envelope_id":"odd-event-field","type":"events_api","payload":{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","user":"U1","channel":"C1","text":"<@UBOT> hi","ts":17}}}`},
		{"odd-event", `{"envelope_id":"odd-event","type":"events_api","payload":{"type":"event_callback","event_id":"Ev2","event":"not an object"}}`},
		{"odd-inner-type", `{"envelope_id":"odd-inner-type","type":"events_api","payload":{"type":"event_callback","event_id":"Ev3","event":{"type":"reaction_added","user":"U1","reaction":"tada","item":{"type":"message","channel":"C1","ts":"1.1"}}}}`},
		{"odd-slash", `{"envelope_id":"odd-slash","type":"slash_commands","payload":{"command":"/shipmate","text":["help"],"user_id":7,"response_url":"` + url + `"}}`},
		{"odd-click", `{"envelope_id":"odd-click","type":"interactive","payload":{"type":"block_actions","actions":{"not":"a list"},"user":"U1"}}`},
		{"odd-payload", `{"envelope_id":"odd-payload","type":"events_api","payload":"nope"}`},
		{"odd-retry", `{"envelope_id":"odd-retry","type":"events_api","retry_attempt":"one","payload":{}}`},
	}
	for _, f := range frames {
		a := <-srv.SendRaw(ctx, f.id, []byte(f.frame))
		if a.Err != nil {
			t.Errorf("envelope %s not acked: %v", f.id, a.Err)
		}
	}
	if got := answered(t, ctx, srv, c, url); len(got) != 1 || !strings.Contains(got[0], "could not read") {
		t.Errorf("the unreadable slash command got %q, want one answer saying it could not be read", got)
	}
	// Still answering.
	ev := srv.AppMention("U1", "C1", "<@UBOT> what is fargate?")
	if _, err := srv.Send(ctx, srv.EventEnvelope("", ev)); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, c, 2)
	debug := 0
	for _, msg := range []string{"unreadable envelope acked", "socket event ignored"} {
		for _, r := range logRecords(c.Logs(), msg) {
			if r["level"] != "DEBUG" {
				t.Errorf("%q logged at %v, want DEBUG", msg, r["level"])
			}
			debug++
		}
	}
	if debug < 5 {
		t.Errorf("%d odd envelopes logged at DEBUG, want most of them:\n%s", debug, c.Logs())
	}
}

// TestServeQuizClicks: a click with an out-of-range, empty or garbage
// value, or on a copy of the quiz message in another channel, gets a
// private "out of date" and is not scored; a real click is.
func TestServeQuizClicks(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	c := startServe(t, ctx, srv, quizEnv(dataDir)...)
	if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")); err != nil {
		t.Fatal(err)
	}
	qm := ofKind(waitQuiz(t, ctx, srv, "CQUIZ", "the question", func(ms []quizMsg) bool { return len(ofKind(ms, "question")) == 1 }, c.Logs), "question")[0]

	click := func(user, channel, ts, actionID, value string) string {
		t.Helper()
		env := srv.InteractiveEnvelope(map[string]any{
			"user":      map[string]any{"id": user},
			"channel":   map[string]any{"id": channel},
			"container": map[string]any{"type": "message", "message_ts": ts, "channel_id": channel},
			"actions": []any{map[string]any{
				"type": "button", "action_id": actionID, "block_id": "quiz", "value": value, "action_ts": srv.NextTS(),
			}},
		})
		if _, err := srv.Send(ctx, env); err != nil {
			t.Fatal(err)
		}
		got := answered(t, ctx, srv, c, env.Payload["response_url"].(string))
		return strings.Join(got, "\n")
	}
	bad := []struct{ name, channel, ts, action, value string }{
		{"choice out of range", "CQUIZ", qm.TS, "quiz_answer_9", qm.QuizID + "|9"},
		{"negative choice", "CQUIZ", qm.TS, "quiz_answer_0", qm.QuizID + "|-1"},
		{"empty value", "CQUIZ", qm.TS, "quiz_answer_0", ""},
		{"garbage value", "CQUIZ", qm.TS, "quiz_answer_0", "}}garbage{{"},
		{"choice not a number", "CQUIZ", qm.TS, "quiz_answer_0", qm.QuizID + "|one"},
		{"unknown quiz", "CQUIZ", qm.TS, "quiz_answer_0", "987654|0"},
		{"copy in another channel", "CCOPY", qm.TS, "quiz_answer_0", qm.QuizID + "|0"},
		{"another message's ts", "CQUIZ", srv.NextTS(), "quiz_answer_0", qm.QuizID + "|0"},
	}
	for i, b := range bad {
		got := click(fmt.Sprintf("UBAD%d", i), b.channel, b.ts, b.action, b.value)
		if !strings.Contains(got, "out of date") || strings.Contains(got, "recorded") {
			t.Errorf("%s: answered %q, want out of date, not recorded", b.name, got)
		}
	}
	if got := click("UGOOD", "CQUIZ", qm.TS, "quiz_answer_1", qm.QuizID+"|1"); !strings.Contains(got, "recorded") {
		t.Errorf("a real click: answered %q, want recorded", got)
	}
	c.stop(t)
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, _ := strconv.ParseInt(qm.QuizID, 10, 64)
	answers, err := st.Answers(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != 1 || answers[0].User != "UGOOD" {
		t.Errorf("stored answers %+v, want UGOOD's only", answers)
	}
}

// TestServeSlashAcrossRefresh: slash commands and mentions that arrive just
// before Slack's refresh_requested disconnect (or a dropped socket) are
// acked and answered, each once.
func TestServeSlashAcrossRefresh(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New(fakeslack.WithRedelivery(3))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv)
	const rounds = 8
	var urls []string
	var threads []string
	for i := range rounds {
		env := srv.SlashEnvelope("/shipmate", "help", "U1", "C1")
		urls = append(urls, env.Payload["response_url"].(string))
		ev := srv.AppMention("U1", fmt.Sprintf("CREF%d", i), "<@UBOT> what is app runner?")
		threads = append(threads, ev["ts"].(string))
		a1 := srv.SendAsync(ctx, env)
		a2 := srv.SendAsync(ctx, srv.EventEnvelope("", ev))
		if i%2 == 0 {
			srv.Disconnect("refresh_requested")
		} else {
			srv.DropConnections()
		}
		for _, a := range []<-chan fakeslack.Ack{a1, a2} {
			if r := <-a; r.Err != nil {
				t.Errorf("round %d: an envelope was never acked: %v", i, r.Err)
			}
		}
		if err := srv.WaitTotalConnections(ctx, i+2); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, ctx, c, 2*rounds)
	for i := range rounds {
		if got := responses(srv, urls[i]); len(got) != 1 {
			t.Errorf("round %d: slash command answered %d times, want 1", i, len(got))
		}
		if got := inThread(srv, fmt.Sprintf("CREF%d", i), threads[i]); len(got) != 1 {
			t.Errorf("round %d: mention answered %d times, want 1", i, len(got))
		}
	}
}

// hangingAPI is an endpoint that accepts connections and never answers.
func hangingAPI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go io.Copy(io.Discard, conn) // read the request, never answer
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(done)
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/api/"
}

// startServeRaw starts serve with env and the fake's tokens against any
// API URL, without waiting for a connection.
func startServeRaw(t *testing.T, ctx context.Context, env ...string) *child {
	t.Helper()
	c, _ := launchServe(t, ctx, append([]string{
		"SLACK_BOT_TOKEN=" + fakeslack.DefaultBotToken,
		"SLACK_APP_TOKEN=" + fakeslack.DefaultAppToken,
	}, env...)...)
	return c
}

// TestServeAgainstSilentEndpoint: with SLACK_API_URL at an endpoint that
// accepts connections and never answers, serve says so within the call
// timeout, stops promptly on SIGTERM, and left alone exits non-zero after
// SLACK_DOWN_EXIT_AFTER.
func TestServeAgainstSilentEndpoint(t *testing.T) {
	t.Parallel()
	api := hangingAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	// The default call timeout (10 s): a warning naming the timeout.
	c := startServeRaw(t, ctx, "SLACK_API_URL="+api)
	waitLog(t, ctx, c, "slack call failed, retrying")
	rec := logRecords(c.Logs(), "slack call failed, retrying")[0]
	if r, _ := rec["reason"].(string); !strings.Contains(strings.ToLower(r), "timeout") && !strings.Contains(r, "deadline") {
		t.Errorf("the first failure says %q, want a timeout", r)
	}
	began := time.Now()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.wait(); err != nil {
		t.Errorf("serve after SIGTERM while Slack hangs: %v, want exit 0\n%s", err, c.Logs())
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("serve took %v to stop, want under 5 s", took)
	}

	// Left alone: a non-zero exit, saying why.
	c = startServeRaw(t, ctx, "SLACK_API_URL="+api, "SLACK_CALL_TIMEOUT=500ms", "SLACK_DOWN_EXIT_AFTER=3s")
	err := c.wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("serve against a silent endpoint: %v, want a non-zero exit\n%s", err, c.Logs())
	}
	if !strings.Contains(c.Logs(), "slack out of reach") {
		t.Errorf("serve did not say why it exited:\n%s", c.Logs())
	}
}

// checkNoTokens fails the test if logs hold anything shaped like a Slack
// token.
func checkNoTokens(t testing.TB, logs string) {
	t.Helper()
	for _, prefix := range []string{"xoxb-", "xapp-", "xoxp-"} {
		if i := strings.Index(logs, prefix); i >= 0 {
			t.Errorf("a token (%s…) appears in serve's logs: %q", prefix, logs[max(0, i-80):min(len(logs), i+40)])
		}
	}
}

// TestServeAnswerLostAfterPosting: Slack posts the reply and then the
// answer is lost (a 5xx from the load balancer, a reset connection, a
// call that hangs past the timeout). serve cannot tell from the call
// whether the reply is in Slack; it looks, and posts again only if it is
// not, so each mention and DM is still answered exactly once.
func TestServeAnswerLostAfterPosting(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv, "SLACK_CALL_TIMEOUT=1s")
	faults := []struct {
		name  string
		fault fakeslack.Fault
	}{
		{"HTTP 503 after posting", fakeslack.Fault{Status: 503}},
		{"HTTP 500 after posting", fakeslack.Fault{Status: 500}},
		{"reset after posting", fakeslack.Fault{Reset: true}},
		{"hung after posting", fakeslack.Fault{Hang: true}},
		{"slow answer after posting", fakeslack.Fault{Delay: 3 * time.Second}},
	}
	replies := 0
	for i, f := range faults {
		for _, where := range []string{"thread", "dm"} {
			channel := fmt.Sprintf("CLOST%d", i)
			ev := srv.AppMention("U1", channel, "<@UBOT> which service runs containers without servers?")
			if where == "dm" {
				channel = fmt.Sprintf("DLOST%d", i)
				ev = srv.Message("U1", channel, "which service runs containers without servers?")
			}
			fault := f.fault
			fault.Method, fault.Channel, fault.Times, fault.AfterProcessing = "chat.postMessage", channel, 1, true
			srv.Inject(fault)
			if _, err := srv.Send(ctx, srv.EventEnvelope("", ev)); err != nil {
				t.Fatal(err)
			}
			replies++
			settle(t, ctx, c, replies)
			bots := 0
			for _, m := range srv.Messages(channel) {
				if m["bot_id"] != nil {
					bots++
				}
			}
			if bots != 1 {
				t.Errorf("%s (%s): %d replies in Slack, want 1", f.name, where, bots)
			}
		}
	}
	if n := len(logRecords(c.Logs(), "reply's answer was lost but the message is in Slack: not posting it again")); n != 2*len(faults) {
		t.Errorf("%d posts found in Slack after their answer was lost, want %d\n%s", n, 2*len(faults), c.Logs())
	}
}

// TestServeQuizAnswerLost: the quiz post, the reveal's edit and the result
// line each take effect in Slack and then lose their answer (HTTP 503):
// one question, revealed, with one result line.
func TestServeQuizAnswerLost(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv, quizEnv(t.TempDir(), "QUIZ_REVEAL_AFTER=1h")...)
	lost := fakeslack.Fault{Method: "chat.postMessage", Channel: "CQUIZ", Status: 503, AfterProcessing: true, Times: 1}
	srv.Inject(lost)
	if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, `"msg":"quiz: posted"`)
	qm := ofKind(waitQuiz(t, ctx, srv, "CQUIZ", "the question", func(ms []quizMsg) bool { return len(ms) > 0 }, c.Logs), "question")[0]
	if _, err := srv.Send(ctx, quizClick(srv, "CQUIZ", qm, "U1", 0)); err != nil {
		t.Fatal(err)
	}
	srv.Inject(lost)
	srv.Inject(fakeslack.Fault{Method: "chat.update", Channel: "CQUIZ", Status: 503, AfterProcessing: true, Times: 1})
	if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz reveal-now", "UADMIN", "C1")); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, c, "quiz: revealed")
	ms := quizMessages(srv, "CQUIZ")
	qs, rs := ofKind(ms, "question"), ofKind(ms, "result")
	if len(qs) != 1 || !qs[0].revealed() || len(rs) != 1 {
		t.Errorf("quiz messages = %+v, want one question, revealed, and one result line\n%s", ms, c.Logs())
	}
	faulted := 0
	for _, call := range srv.Calls() {
		if call.Fault != nil {
			faulted++
		}
	}
	if faulted != 3 {
		t.Errorf("%d calls met the faults, want 3", faulted)
	}
}

// TestServeHungPostsDoNotBlockHelp: every chat.postMessage hangs (Slack
// sits on them); twenty mentions' replies wait on it, and /shipmate help
// is still answered at once; once Slack answers again, every mention is
// answered exactly once.
func TestServeHungPostsDoNotBlockHelp(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv, "SLACK_CALL_TIMEOUT=2s")
	remove := srv.Inject(fakeslack.Fault{Method: "chat.postMessage", Hang: true})
	const n = 20
	var threads []string
	for i := range n {
		ev := srv.AppMention("U1", fmt.Sprintf("CHUNG%d", i), "<@UBOT> what is fargate?")
		threads = append(threads, ev["ts"].(string))
		if _, err := srv.Send(ctx, srv.EventEnvelope("", ev)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.WaitCalls(ctx, "chat.postMessage", n); err != nil {
		t.Fatal(err)
	}
	env := srv.SlashEnvelope("/shipmate", "help", "U2", "C1")
	if _, err := srv.Send(ctx, env); err != nil {
		t.Fatal(err)
	}
	if got := answered(t, ctx, srv, c, env.Payload["response_url"].(string)); len(got) != 1 {
		t.Errorf("help answered %d times while posts hang, want 1", len(got))
	}
	remove()
	settle(t, ctx, c, n+1)
	for i, ts := range threads {
		if got := inThread(srv, fmt.Sprintf("CHUNG%d", i), ts); len(got) != 1 {
			t.Errorf("mention %d: %d replies, want 1", i, len(got))
		}
	}
}

// TestServeSlackErrorsRetried: Slack answers HTTP 200 with ok:false and an
// error of its own side (internal_error, fatal_error, service_unavailable,
// request_timeout). Those are retried as a 5xx is; internal_error and
// fatal_error may come after the message was posted ("some aspect of the
// operation succeeded"), so the post is looked for first. Each mention is
// answered exactly once.
func TestServeSlackErrorsRetried(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cases := []struct {
		code   string
		posted bool // Slack posted the message before failing
	}{
		{"internal_error", true}, {"fatal_error", true}, {"internal_error", false},
		{"service_unavailable", false}, {"request_timeout", false},
	}
	var mu sync.Mutex
	failed := map[string]bool{}
	srv.Handle("chat.postMessage", func(call fakeslack.Call) map[string]any {
		ch := call.Param("channel")
		var i int
		if _, err := fmt.Sscanf(ch, "CERR%d", &i); err != nil || i >= len(cases) {
			return srv.Builtin(call)
		}
		mu.Lock()
		first := !failed[ch]
		failed[ch] = true
		mu.Unlock()
		if !first {
			return srv.Builtin(call)
		}
		if cases[i].posted {
			srv.Builtin(call)
		}
		return map[string]any{"ok": false, "error": cases[i].code}
	})
	c := startServe(t, ctx, srv)
	var threads []string
	for i := range cases {
		ev := srv.AppMention("U1", fmt.Sprintf("CERR%d", i), "<@UBOT> what is ecs?")
		threads = append(threads, ev["ts"].(string))
		if _, err := srv.Send(ctx, srv.EventEnvelope("", ev)); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, ctx, c, len(cases))
	for i, tc := range cases {
		if got := inThread(srv, fmt.Sprintf("CERR%d", i), threads[i]); len(got) != 1 {
			t.Errorf("%s (posted first: %t): %d replies, want 1", tc.code, tc.posted, len(got))
		}
	}
}
