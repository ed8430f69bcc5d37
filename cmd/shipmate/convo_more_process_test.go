package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// More of the conversation features against the real `shipmate serve`,
// the way Slack delivers them.

// button returns the value of the button action in a posted call's blocks.
func buttonValue(c fakeslack.Call, action string) string {
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal([]byte(c.Param("blocks")), &blocks)
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == action {
				return e.Value
			}
		}
	}
	return ""
}

// TestServeMentionInThread: a reply in Shipmate's thread that mentions it
// reaches Slack's subscribers twice (app_mention and message.channels,
// with different event ids); it is answered once, in context.
func TestServeMentionInThread(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, "LOG_LEVEL=debug")}
	thread, _ := v.mention("C1", "we want to run our containers on Kubernetes on AWS")

	msg := threadMessage(srv, "C1", thread, "<@UBOT> what if we need GPUs?")
	mention := map[string]any{"type": "app_mention", "user": msg["user"], "text": msg["text"], "ts": msg["ts"],
		"thread_ts": thread, "channel": "C1", "event_ts": msg["ts"], "team": fakeslack.TeamID}
	v.send(srv.EventEnvelope("", msg))
	v.send(srv.EventEnvelope("", mention))
	gpu := v.posts("C1", thread, 2)[1]
	if !strings.Contains(topServices(gpu), "EKS") {
		t.Errorf("a mention in the Kubernetes thread lost its context:\n%s", blocksText(gpu))
	}
	// A later mention in the channel settles the channel's queue.
	v.mention("C1", "what is ecr?")
	if n := len(v.posts("C1", thread, 2)); n != 2 {
		t.Errorf("the thread has %d replies, want 2 (the mention answered once)", n)
	}
}

// TestServeFollowupsOff: with THREAD_FOLLOWUPS=off a follow-up without a
// mention is left alone; mentions work as before.
func TestServeFollowupsOff(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, "LOG_LEVEL=debug", "THREAD_FOLLOWUPS=off")}
	thread, _ := v.mention("C1", "we want to run our containers on Kubernetes on AWS")
	v.send(srv.EventEnvelope("", threadMessage(srv, "C1", thread, "what if we need GPUs?")))
	later, _ := v.mention("C1", "what is ecr?")
	for _, p := range v.posts("C1", "", 2) {
		if ts := p.Param("thread_ts"); ts != thread && ts != later {
			t.Errorf("posted in thread %q", ts)
		}
	}
	if n := len(v.posts("C1", thread, 1)); n != 1 {
		t.Errorf("THREAD_FOLLOWUPS=off: the thread has %d replies, want the first answer only", n)
	}
}

// TestServeGapsFromMentions: questions declined in a channel and a Not
// helpful click on a channel answer (with what was wrong, from the form it
// opens) are in an admin's `/shipmate gaps week` (QUIZ_ADMINS, no ADMINS
// set), also after a SIGTERM and a restart; anyone else is refused.
func TestServeGapsFromMentions(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	env := []string{"LOG_LEVEL=debug", "DATA_DIR=" + t.TempDir(), "QUIZ_ADMINS=UBOSS"}
	v := &convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, env...)}

	_, declined := v.mention("C1", "how do I bake sourdough bread?")
	if !strings.Contains(blocksText(declined), "know") {
		t.Logf("the declined question's reply:\n%s", blocksText(declined))
	}
	_, answer := v.mention("C1", "which service runs containers without managing servers?")
	value := buttonValue(answer, "feedback_not_helpful")
	if value == "" {
		t.Fatalf("no Not helpful button on the channel answer:\n%s", answer.Param("blocks"))
	}
	v.send(srv.InteractiveEnvelope(map[string]any{
		"user":      map[string]any{"id": "U2"},
		"channel":   map[string]any{"id": "C1"},
		"container": map[string]any{"type": "message", "message_ts": srv.NextTS(), "channel_id": "C1"},
		"actions":   []any{map[string]any{"type": "button", "action_id": "feedback_not_helpful", "block_id": "feedback", "value": value, "action_ts": srv.NextTS()}},
	}))
	if err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return len(srv.Modals()) == 1 }); err != nil {
		v.v(err, "the Not helpful click opened no form")
	}
	m := srv.Modals()[0]
	values := map[string]map[string]string{}
	var view struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Element struct {
				ActionID string `json:"action_id"`
			} `json:"element"`
		} `json:"blocks"`
	}
	raw, _ := json.Marshal(m.View)
	_ = json.Unmarshal(raw, &view)
	for _, b := range view.Blocks {
		if b.Element.ActionID != "" {
			values[b.BlockID] = map[string]string{b.Element.ActionID: "it should mention App Runner's status"}
		}
	}
	v.send(srv.ViewSubmission("U2", m, values))

	check := func(v *convo, when string) {
		t.Helper()
		report, _ := v.slash("UBOSS", "gaps week")
		for _, want := range []string{"sourdough", "without managing servers", "not helpful", "App Runner's status"} {
			if !strings.Contains(strings.ToLower(report), strings.ToLower(want)) {
				t.Errorf("%s: the admin's gaps report lacks %q:\n%s\n%s", when, want, report, v.c.Logs())
			}
		}
		for _, user := range []string{"U1", "U2"} {
			if refused, _ := v.slash(user, "gaps"); strings.Contains(refused, "sourdough") || strings.Contains(refused, "managing servers") {
				t.Errorf("%s: %s, not an admin, read the gaps: %q", when, user, refused)
			}
		}
	}
	check(v, "before a restart")
	v.c.stop(t)
	if err := srv.WaitStats(ctx, func(s fakeslack.Stats) bool { return s.Live == 0 }); err != nil {
		t.Fatal(err)
	}
	check(&convo{t: t, ctx: ctx, srv: srv, c: startServe(t, ctx, srv, env...)}, "after a restart")
}
