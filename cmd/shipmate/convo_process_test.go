package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// The conversation features against the real `shipmate serve` process.

// convo drives one serve process through a fake Slack.
type convo struct {
	t   *testing.T
	ctx context.Context
	srv *fakeslack.Server
	c   *child
}

// send delivers env and returns its envelope id once serve has handled it
// (its debug log says so).
func (v *convo) send(env fakeslack.Envelope) {
	v.t.Helper()
	if _, err := v.srv.Send(v.ctx, env); err != nil {
		v.t.Fatalf("envelope not acked: %v\n%s", err, v.c.Logs())
	}
	for {
		for _, r := range logRecords(v.c.Logs(), "handled envelope") {
			if r["envelope"] == env.EnvelopeID {
				return
			}
		}
		select {
		case <-v.ctx.Done():
			v.t.Fatalf("envelope %s never handled:\n%s", env.EnvelopeID, v.c.Logs())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// posts waits for chat.postMessage calls to channel (in thread, if not
// empty) that succeeded, at least n, and returns them.
func (v *convo) posts(channel, thread string, n int) []fakeslack.Call {
	v.t.Helper()
	var got []fakeslack.Call
	err := v.srv.WaitFor(v.ctx, func(cs []fakeslack.Call) bool {
		got = got[:0]
		for _, c := range cs {
			if c.Method == "chat.postMessage" && c.Error == "" && !c.Limited && c.Param("channel") == channel && (thread == "" || c.Param("thread_ts") == thread) {
				got = append(got, c)
			}
		}
		return len(got) >= n
	})
	if err != nil {
		v.v(err, "waiting for %d posts to %s/%s (got %d)", n, channel, thread, len(got))
	}
	return got
}

func (v *convo) v(err error, format string, args ...any) {
	v.t.Helper()
	v.t.Fatalf(format+": %v\n%s", append(args, err, v.c.Logs())...)
}

// mention sends an app_mention in channel and waits for the reply in its
// thread; it returns the thread's ts and the reply.
func (v *convo) mention(channel, text string) (string, fakeslack.Call) {
	v.t.Helper()
	ev := v.srv.AppMention("U1", channel, "<@UBOT> "+text)
	v.send(v.srv.EventEnvelope("", ev))
	ts := ev["ts"].(string)
	return ts, v.posts(channel, ts, 1)[0]
}

// slash runs /shipmate text as user and returns the text of the reply.
func (v *convo) slash(user, text string) (string, fakeslack.Call) {
	v.t.Helper()
	env := v.srv.SlashEnvelope("/shipmate", text, user, "C1")
	v.send(env)
	url := env.Payload["response_url"].(string)
	var reply fakeslack.Call
	err := v.srv.WaitFor(v.ctx, func(cs []fakeslack.Call) bool {
		for _, c := range cs {
			if c.Method == fakeslack.MethodResponseURL && c.Error == "" && strings.HasSuffix(url, c.Path) {
				reply = c
				return true
			}
		}
		return false
	})
	if err != nil {
		v.v(err, "no reply to /shipmate %s", text)
	}
	return reply.Param("text"), reply
}

func threadMessage(srv *fakeslack.Server, channel, thread, text string) map[string]any {
	m := srv.Message("U2", channel, text)
	m["thread_ts"] = thread
	return m
}

// blocksText is the text of a call's blocks and fallback, entities decoded.
func blocksText(c fakeslack.Call) string {
	var b strings.Builder
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && k == "text" {
					b.WriteString(s + "\n")
				} else {
					walk(y)
				}
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	var blocks []any
	_ = json.Unmarshal([]byte(c.Param("blocks")), &blocks)
	walk(blocks)
	b.WriteString(c.Param("text"))
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(b.String())
}

// topServices is the "Services:" line of an answer: what it recommends.
func topServices(c fakeslack.Call) string {
	for line := range strings.Lines(blocksText(c)) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "Services: "); ok {
			return s
		}
	}
	return ""
}

// TestServeThreadConversation: follow-ups without a mention in Shipmate's
// thread are answered there; chatter, another thread and another channel
// get nothing.
func TestServeThreadConversation(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, "LOG_LEVEL=debug")}

	thread, first := v.mention("C1", "can I run containers on Fargate without managing servers?")
	if !strings.Contains(topServices(first), "Fargate") {
		t.Fatalf("the first question was not answered with Fargate:\n%s", blocksText(first))
	}
	v.send(srv.EventEnvelope("", threadMessage(srv, "C1", thread, "and what is fargate spot?")))
	if text := blocksText(v.posts("C1", thread, 2)[1]); !strings.Contains(text, "Fargate Spot") {
		t.Errorf("a follow-up without a mention is not answered in the thread:\n%s", text)
	}
	v.send(srv.EventEnvelope("", threadMessage(srv, "C1", thread, "what about storing the images in ecr?")))
	if text := blocksText(v.posts("C1", thread, 3)[2]); !strings.Contains(text, "ECR") {
		t.Errorf("a second follow-up is not answered in the thread:\n%s", text)
	}

	// Left alone: chatter in the thread, a question in a thread Shipmate is
	// not in, top-level messages here and in another channel.
	other := srv.Message("U3", "C1", "lunch at noon?")["ts"].(string)
	for _, ev := range []map[string]any{
		threadMessage(srv, "C1", thread, "thanks, will do"),
		threadMessage(srv, "C1", thread, "cool, I'll try that tomorrow"),
		threadMessage(srv, "C1", other, "what if we need GPUs?"),
		srv.Message("U2", "C1", "what if we need GPUs?"),
		srv.Message("U2", "C2", "which service runs containers without managing servers?"),
	} {
		v.send(srv.EventEnvelope("", ev))
	}
	// Later mentions in each channel are answered after anything queued
	// before them there (replies to a channel go out in order).
	later1, _ := v.mention("C1", "what is ecr?")
	later2, _ := v.mention("C2", "what is ecr?")
	for _, ch := range []struct{ channel, last string }{{"C1", later1}, {"C2", later2}} {
		all := v.posts(ch.channel, "", 1)
		for _, p := range all {
			if ts := p.Param("thread_ts"); ts != thread && ts != ch.last {
				t.Errorf("posted to %s in thread %q: %s", ch.channel, ts, blocksText(p))
			}
		}
	}
	if n := len(v.posts("C1", thread, 3)); n != 3 {
		t.Errorf("the Kubernetes thread has %d replies, want 3 (chatter left alone)", n)
	}
}

// TestServeAppHomeAndShortcut: App Home is published on open; the Ask
// Shipmate shortcut answers the message privately; nonsense after
// /shipmate points to help.
func TestServeAppHomeAndShortcut(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, "LOG_LEVEL=debug")}

	v.send(srv.EventEnvelope("", srv.AppHomeOpened("U1")))
	home, err := srv.WaitHome(ctx, "U1", func(map[string]any) bool { return true })
	if err != nil {
		v.v(err, "no App Home published")
	}
	raw, _ := json.Marshal(home["blocks"])
	if !strings.Contains(string(raw), "Ask Shipmate") || !strings.Contains(string(raw), "Daily quiz") {
		t.Errorf("App Home:\n%s", raw)
	}

	msg := srv.Message("U5", "C1", "which service runs containers without managing servers?")
	env := srv.MessageShortcut("ask_shipmate", "U1", msg)
	v.send(env)
	url := env.Payload["response_url"].(string)
	var private fakeslack.Call
	if err := srv.WaitFor(ctx, func(cs []fakeslack.Call) bool {
		for _, c := range cs {
			if c.Method == fakeslack.MethodResponseURL && c.Error == "" && strings.HasSuffix(url, c.Path) {
				private = c
				return true
			}
		}
		return false
	}); err != nil {
		v.v(err, "the shortcut got no answer")
	}
	if private.Param("response_type") != "ephemeral" || !strings.Contains(blocksText(private), "Fargate") || !strings.Contains(private.Param("blocks"), "share_thread") {
		t.Errorf("shortcut answer (%s):\n%s", private.Param("response_type"), blocksText(private))
	}

	for _, nonsense := range []string{"frobnicate", "xyzzy plugh"} {
		text, reply := v.slash("U1", nonsense)
		if !strings.Contains(text, "/shipmate help") || strings.Count(blocksText(reply), "• `/shipmate ") != 4 { // blocks and fallback
			t.Errorf("/shipmate %s = %q, want a pointer to /shipmate help and two examples", nonsense, text)
		}
	}
}

// TestServeGaps: an admin's /shipmate gaps lists a declined question and a
// Not helpful one, also after a restart; a non-admin cannot read them.
func TestServeGaps(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	env := []string{"LOG_LEVEL=debug", "DATA_DIR=" + dataDir, "ADMINS=UADMIN"}
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, env...)}

	v.slash("U1", "how do I bake sourdough bread?")
	_, answer := v.slash("U2", "which service runs containers without managing servers?")
	var value string
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal([]byte(answer.Param("blocks")), &blocks)
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == "feedback_not_helpful" {
				value = e.Value
			}
		}
	}
	if value == "" {
		t.Fatalf("no Not helpful button:\n%s", answer.Param("blocks"))
	}
	v.send(srv.InteractiveEnvelope(map[string]any{
		"user":      map[string]any{"id": "U2"},
		"channel":   map[string]any{"id": "C1"},
		"container": map[string]any{"type": "message", "message_ts": srv.NextTS(), "channel_id": "C1", "is_ephemeral": true},
		"actions":   []any{map[string]any{"type": "button", "action_id": "feedback_not_helpful", "block_id": "feedback", "value": value, "action_ts": srv.NextTS()}},
	}))

	check := func(v *convo, when string) {
		t.Helper()
		report, _ := v.slash("UADMIN", "gaps")
		for _, want := range []string{"bake sourdough bread", "1 declined", "without managing servers", "1 not helpful"} {
			if !strings.Contains(report, want) {
				t.Errorf("%s: the admin's gaps report lacks %q:\n%s", when, want, report)
			}
		}
		if refused, _ := v.slash("U1", "gaps"); !strings.Contains(refused, "only Shipmate admins") || strings.Contains(refused, "sourdough") {
			t.Errorf("%s: a non-admin's gaps = %q, want a refusal", when, refused)
		}
	}
	check(v, "before a restart")

	if err := v.c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	v.c.wait()
	if err := srv.WaitStats(ctx, func(s fakeslack.Stats) bool { return s.Live == 0 }); err != nil {
		t.Fatal(err)
	}
	again := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, env...)}
	check(again, "after a restart")
}
