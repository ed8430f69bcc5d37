package bot_test

import (
	"strings"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/internal/fakeslack"
)

func TestMentionRepliesInThread(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})

	mention := h.mention(t, "C1", "<@UBOT> can I run containers on Fargate without managing servers?")
	reply := h.posts(t, 1)[0]
	if got := reply.Param("channel"); got != "C1" {
		t.Errorf("reply channel = %q, want C1", got)
	}
	if got, want := reply.Param("thread_ts"), mention["ts"]; got != want {
		t.Errorf("reply thread_ts = %q, want the mention's ts %q", got, want)
	}
	if text := blockText(t, reply); !strings.Contains(text, "Fargate") {
		t.Errorf("reply blocks do not mention Fargate:\n%s", text)
	}
	if strings.TrimSpace(reply.Param("text")) == "" {
		t.Error("reply has no text fallback")
	}
	if reply.Token != h.srv.BotToken() {
		t.Errorf("reply posted with token %q, want the bot token", reply.Token)
	}

	// A follow-up inside the thread is answered in that thread, not in a
	// thread of its own.
	follow := h.srv.AppMention("U2", "C1", "<@UBOT> and what about ECR image scanning?")
	follow["thread_ts"] = mention["ts"]
	h.send(t, h.srv.EventEnvelope("", follow))
	second := h.posts(t, 2)[1]
	if got, want := second.Param("thread_ts"), mention["ts"]; got != want {
		t.Errorf("follow-up reply thread_ts = %q, want the thread's ts %q", got, want)
	}
	if text := blockText(t, second); !strings.Contains(text, "ECR") {
		t.Errorf("follow-up reply does not mention ECR:\n%s", text)
	}
	h.noErrors(t)
}

func TestDirectMessage(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})

	msg := h.srv.Message("U1", "D1", "what is fargate spot?")
	h.send(t, h.srv.EventEnvelope("", msg))
	reply := h.posts(t, 1)[0]
	if got := reply.Param("channel"); got != "D1" {
		t.Errorf("reply channel = %q, want the DM D1", got)
	}
	if got := reply.Param("thread_ts"); got != "" {
		t.Errorf("DM reply thread_ts = %q, want none (reply in the DM itself)", got)
	}
	if text := blockText(t, reply); !strings.Contains(text, "Fargate Spot") {
		t.Errorf("DM reply does not mention Fargate Spot:\n%s", text)
	}
}

// TestIgnoredMessages proves negatives: each ignored event is followed by a
// real one, and with one worker the real reply comes only after the ignored
// event was handled.
func TestIgnoredMessages(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}})
	ignored := []struct {
		name  string
		event func() map[string]any
	}{
		{"own message by user id", func() map[string]any {
			return h.srv.Message(fakeslack.BotUserID, "D1", "what is fargate?")
		}},
		{"own message by bot id", func() map[string]any {
			m := h.srv.Message(fakeslack.BotUserID, "D1", "what is fargate?")
			m["bot_id"] = fakeslack.BotID
			return m
		}},
		{"another bot", func() map[string]any {
			m := h.srv.Message("U9", "D1", "what is fargate?")
			m["bot_id"] = "B9"
			return m
		}},
		{"bot_message subtype", func() map[string]any {
			m := h.srv.Message("", "D1", "what is fargate?")
			m["subtype"], m["bot_id"] = "bot_message", "B9"
			return m
		}},
		{"another bot mentioning us", func() map[string]any {
			m := h.srv.AppMention("U9", "C1", "<@UBOT> what is fargate?")
			m["bot_id"] = "B9"
			return m
		}},
		{"message_changed", func() map[string]any {
			ts := h.srv.NextTS()
			return map[string]any{
				"type": "message", "subtype": "message_changed", "hidden": true,
				"channel": "D1", "channel_type": "im", "ts": h.srv.NextTS(), "event_ts": h.srv.NextTS(),
				"message":          map[string]any{"type": "message", "user": "U1", "text": "what is fargate? (edited)", "ts": ts, "edited": map[string]any{"user": "U1", "ts": h.srv.NextTS()}},
				"previous_message": map[string]any{"type": "message", "user": "U1", "text": "what is fargate?", "ts": ts},
			}
		}},
		{"channel_join", func() map[string]any {
			m := h.srv.Message("U1", "D1", "<@U1> has joined the channel")
			m["subtype"] = "channel_join"
			return m
		}},
		{"message_deleted", func() map[string]any {
			return map[string]any{
				"type": "message", "subtype": "message_deleted", "hidden": true,
				"channel": "D1", "channel_type": "im", "ts": h.srv.NextTS(), "deleted_ts": h.srv.NextTS(),
			}
		}},
		{"channel message without a mention", func() map[string]any {
			return h.srv.Message("U1", "C1", "what is fargate?")
		}},
	}
	for i, tt := range ignored {
		h.send(t, h.srv.EventEnvelope("", tt.event()))
		channel := "D" + string(rune('A'+i))
		h.send(t, h.srv.EventEnvelope("", h.srv.Message("U1", channel, "what is ecr?")))
		posts := h.posts(t, i+1)
		if len(posts) != i+1 || posts[i].Param("channel") != channel {
			var chans []string
			for _, p := range posts {
				chans = append(chans, p.Param("channel"))
			}
			t.Fatalf("%s: replies went to %v, want only the real message's %s last", tt.name, chans, channel)
		}
	}
	h.noErrors(t)
}

func TestSlackMarkup(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	tests := []struct {
		name string
		text string
		want string // in the reply's blocks
	}{
		{"user, channel and link markup",
			"<@UBOT> <@U123|ann> asked in <#C42|fargate-help>: can we run containers without managing servers? See <https://aws.amazon.com/fargate/|the Fargate page> &amp; <https://example.com>",
			"Fargate"},
		{"escaped entities",
			"<@UBOT> ecs &amp; eks: which needs Kubernetes &gt; docker compose?",
			"EKS"},
		{"query syntax",
			`<@UBOT> +fargate -ecs title:"spot" *price* ~2 ^3 (a OR b) [x TO y] {z} \ / ? && || !`,
			""},
		{"40k characters",
			"<@UBOT> " + strings.Repeat("which service runs my containers without servers? ", 800)[:40000],
			""},
		{"only markup", "<@UBOT> <#C1|general> <https://example.com>", ""},
	}
	for i, tt := range tests {
		ev := h.srv.AppMention("U1", "C1", tt.text)
		h.send(t, h.srv.EventEnvelope("", ev))
		reply := h.posts(t, i+1)[i]
		if reply.Param("thread_ts") != ev["ts"] {
			t.Fatalf("%s: replies out of order: got thread %s, want %s", tt.name, reply.Param("thread_ts"), ev["ts"])
		}
		text := blockText(t, reply)
		if strings.TrimSpace(reply.Param("text")) == "" || text == "" {
			t.Errorf("%s: empty reply: text %q blocks %q", tt.name, reply.Param("text"), text)
		}
		if tt.want != "" && !strings.Contains(text, tt.want) {
			t.Errorf("%s: reply does not mention %s:\n%s", tt.name, tt.want, text)
		}
		if strings.Contains(text, "Sorry, something went wrong") {
			t.Errorf("%s: reply is the error message", tt.name)
		}
		if strings.Contains(text, "&amp;") || strings.Contains(text, "<https://aws") {
			t.Errorf("%s: reply echoes raw markup:\n%s", tt.name, text)
		}
	}
	h.noErrors(t)
}

func TestDuplicateDelivery(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}})

	ev := h.srv.AppMention("U1", "C1", "<@UBOT> what is ecr?")
	first := h.srv.EventEnvelope("Ev0DUP", ev)
	retry := first
	retry.EnvelopeID = "" // a retry comes in a new envelope
	retry.RetryAttempt, retry.RetryReason = 1, "timeout"
	again := retry
	again.RetryAttempt = 2
	for _, env := range []fakeslack.Envelope{first, retry, again} {
		h.send(t, env)
	}
	// A later event is answered after the retries were handled (one worker).
	h.mention(t, "C2", "<@UBOT> what is eks?")
	posts := h.posts(t, 2)
	in := map[string]int{}
	for _, p := range posts {
		in[p.Param("channel")]++
	}
	if in["C1"] != 1 || in["C2"] != 1 || len(posts) != 2 {
		t.Errorf("replies per channel = %v, want one answer to the event sent 3 times and one to the later event", in)
	}
	if st := h.srv.Stats(); st.Acks != 4 {
		t.Errorf("acks = %d, want every envelope (4) acked", st.Acks)
	}
	for _, a := range h.srv.Acks() {
		if a.Late || a.Duplicate || a.Unknown {
			t.Errorf("ack %+v: want timely and matching", a)
		}
	}
}

func TestDuplicateOfLostDeliveryIsAnswered(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	// A retry may be the only delivery that arrives; it must not be dropped.
	ev := h.srv.AppMention("U1", "C1", "<@UBOT> what is ecr?")
	env := h.srv.EventEnvelope("", ev)
	env.RetryAttempt, env.RetryReason = 1, "timeout"
	h.send(t, env)
	if got := h.posts(t, 1)[0].Param("thread_ts"); got != ev["ts"] {
		t.Errorf("reply thread_ts = %q, want %q", got, ev["ts"])
	}
}

func TestReconnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cut  func(*fakeslack.Server) int
	}{
		{"disconnect message", func(s *fakeslack.Server) int { return s.Disconnect("refresh_requested") }},
		{"dropped socket", (*fakeslack.Server).DropConnections},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A long grace shows the client leaves on the message itself.
			h := start(t, setup{fake: []fakeslack.Option{fakeslack.WithDisconnectGrace(time.Minute)}})
			h.mention(t, "C1", "<@UBOT> what is ecr?")
			h.posts(t, 1)

			if n := tt.cut(h.srv); n != 1 {
				t.Fatalf("cut %d connections, want 1", n)
			}
			err := h.srv.WaitStats(h.ctx, func(st fakeslack.Stats) bool { return st.Total >= 2 && st.Live == 1 })
			if err != nil {
				t.Fatalf("bot did not reconnect: %v (stats %+v)", err, h.srv.Stats())
			}
			ev := h.mention(t, "C1", "<@UBOT> what is eks?")
			reply := h.posts(t, 2)[1]
			if reply.Param("thread_ts") != ev["ts"] {
				t.Errorf("reply after reconnect in thread %q, want %q", reply.Param("thread_ts"), ev["ts"])
			}
			if !h.bot.Ready() {
				t.Error("Ready() = false after reconnecting")
			}
		})
	}
}

// TestMentionCommands: the command table works in mentions too, once the
// mention itself is taken off.
func TestMentionCommands(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	var usages []string
	for _, c := range h.cmds.Table() {
		usages = append(usages, c.Usage)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"<@UBOT> compare ecs eks", []string{"Amazon Elastic Container Service (ECS) vs Amazon Elastic Kubernetes Service (EKS)"}},
		{"<@UBOT|shipmate> explain fargate", []string{"AWS Fargate", "Pricing"}},
		{"<@UBOT> help", usages},
		{"<@UBOT>", usages},
		{"<@UBOT> quiz", []string{"Practice question"}},
	}
	for i, tt := range tests {
		h.mention(t, "C1", tt.text)
		reply := h.posts(t, i+1)[i]
		text := blockText(t, reply)
		for _, w := range tt.want {
			if !strings.Contains(text, w) {
				t.Errorf("%q: reply does not contain %q:\n%s", tt.text, w, text)
			}
		}
	}
}
