package bot_test

import (
	"strings"
	"testing"

	"shipmate/bot"
	"shipmate/internal/fakeslack"
)

func TestSlashCommands(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})

	// help must list every command of the table, whatever is in it.
	var usages []string
	for _, c := range h.cmds.Table() {
		usages = append(usages, c.Usage)
	}
	if len(usages) < 5 {
		t.Fatalf("command table has %d commands, want at least the 5 core ones", len(usages))
	}
	tests := []struct {
		text    string
		want    []string // in the blocks
		share   bool     // has a "Share in channel" button replaying text
		buttons string   // action id prefix of other buttons that must be there
	}{
		{"which service runs containers without managing servers?", []string{"Fargate"}, true, bot.ActionHelpful},
		{"ask run containers without managing servers", []string{"Fargate"}, true, bot.ActionHelpful},
		{"explain fargate", []string{"AWS Fargate", "Pricing"}, true, ""},
		{"compare ecs eks", []string{"Amazon Elastic Container Service", "Amazon Elastic Kubernetes Service"}, true, ""},
		{"compare ecs vs eks", []string{"Amazon Elastic Container Service", "Amazon Elastic Kubernetes Service"}, true, ""},
		{"quiz", []string{"Practice question"}, false, bot.ActionPractice},
		{"help", usages, false, ""},
		{"", usages, false, ""},
		{"HELP", usages, false, ""},
		{"frobnicate the widgets", nil, false, ""},
		{"explain", []string{"Which service?"}, false, ""},
		{"compare ecs", []string{"Compare which two?"}, false, ""},
		// Not a service: explained as a concept.
		{"explain capacity providers", []string{"capacity provider"}, true, bot.ActionHelpful},
		{"explain the meaning of life", []string{"I don't know that one"}, false, ""},
	}
	for _, tt := range tests {
		url := h.slash(t, tt.text)
		resp := h.responses(t, url, 1)[0]
		name := "/shipmate " + tt.text
		if got := resp.Param("response_type"); got != "ephemeral" {
			t.Errorf("%s: response_type = %q, want ephemeral", name, got)
		}
		if strings.TrimSpace(resp.Param("text")) == "" {
			t.Errorf("%s: no text fallback", name)
		}
		text := blockText(t, resp)
		for _, w := range tt.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: blocks do not mention %q:\n%s", name, w, text)
			}
		}
		if strings.Contains(text, "Sorry, something went wrong") {
			t.Errorf("%s: got the error message", name)
		}
		buttons := buttonsOf(t, resp)
		share, ok := findButton(buttons, bot.ActionShare)
		if ok != tt.share {
			t.Errorf("%s: has share button = %v, want %v", name, ok, tt.share)
		}
		if ok && share.Value != tt.text {
			t.Errorf("%s: share button value = %q, want the command text", name, share.Value)
		}
		if tt.buttons != "" && !hasButtonPrefix(buttons, tt.buttons) {
			t.Errorf("%s: no %s… button in %+v", name, tt.buttons, buttons)
		}
	}
	// Replies go to the response URL only: nothing is posted in the channel.
	if posts := h.srv.CallsTo("chat.postMessage"); len(posts) != 0 {
		t.Errorf("slash commands posted %d channel messages, want none", len(posts))
	}
	h.noErrors(t)
}

func hasButtonPrefix(bs []button, prefix string) bool {
	for _, b := range bs {
		if strings.HasPrefix(b.ActionID, prefix) {
			return true
		}
	}
	return false
}

func TestFeedbackButtons(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}})

	const question = "which service runs containers without managing servers?"
	resp := h.responses(t, h.slash(t, question), 1)[0]
	buttons := buttonsOf(t, resp)
	helpful, ok := findButton(buttons, bot.ActionHelpful)
	if !ok {
		t.Fatalf("no Helpful button in %+v", buttons)
	}
	notHelpful, ok := findButton(buttons, bot.ActionNotHelpful)
	if !ok {
		t.Fatalf("no Not helpful button in %+v", buttons)
	}

	// Two clicks on Helpful (and a change of mind) on the same message log once.
	msg := ephemeral(h.srv.NextTS())
	first := h.click("U1", msg, helpful)
	second := h.click("U1", msg, helpful)
	third := h.click("U1", msg, notHelpful)
	for _, env := range []fakeslack.Envelope{first, second, third} {
		h.send(t, env)
	}
	thanks := h.responses(t, responseURL(first), 1)[0]
	if !strings.Contains(thanks.Param("text"), "Thanks") || thanks.Param("response_type") != "ephemeral" {
		t.Errorf("feedback answer = %q (%s), want an ephemeral thanks", thanks.Param("text"), thanks.Param("response_type"))
	}

	// Another user's Not helpful on another message is logged too, and with
	// one worker it is handled after the clicks above.
	other := h.click("U2", ephemeral(h.srv.NextTS()), notHelpful)
	h.send(t, other)
	h.responses(t, responseURL(other), 1)

	logs := h.logs.records("feedback")
	if len(logs) != 2 {
		t.Fatalf("feedback logged %d times, want 2 (one per user and message):\n%s", len(logs), h.logs)
	}
	for i, want := range []struct {
		user    string
		helpful bool
	}{{"U1", true}, {"U2", false}} {
		r := logs[i]
		if r["user"] != want.user || r["helpful"] != want.helpful || r["question"] != question {
			t.Errorf("feedback log %d = %v, want user %s helpful %v question %q", i, r, want.user, want.helpful, question)
		}
		if a, _ := r["answer"].(string); !strings.HasPrefix(a, "scenario/") && !strings.HasPrefix(a, "note/") {
			t.Errorf("feedback log %d answer = %q, want the kind/id of the answer shown", i, a)
		}
	}
	// Repeated clicks are not counted again, but each gets an answer.
	for _, env := range []fakeslack.Envelope{second, third} {
		r := h.responses(t, responseURL(env), 1)
		if len(r) != 1 || !strings.Contains(r[0].Param("text"), "already recorded") {
			t.Errorf("repeated click answered %d times (%q), want once: already recorded", len(r), r[0].Param("text"))
		}
	}
	h.noErrors(t)
}

func TestShareButton(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	tests := []struct {
		text string
		want string
	}{
		{"explain fargate", "AWS Fargate"},
		{"compare ecs eks", "Amazon Elastic Kubernetes Service"},
		{"run containers without managing servers", "Fargate"},
	}
	for _, tt := range tests {
		resp := h.responses(t, h.slash(t, tt.text), 1)[0]
		share, ok := findButton(buttonsOf(t, resp), bot.ActionShare)
		if !ok {
			t.Fatalf("/shipmate %s: no share button", tt.text)
		}
		env := h.click("U7", ephemeral(h.srv.NextTS()), share)
		h.send(t, env)
		posts := h.responses(t, responseURL(env), 2)
		shared, deleted := posts[0], posts[1]
		if got := shared.Param("response_type"); got != "in_channel" {
			t.Errorf("share %q: response_type = %q, want in_channel", tt.text, got)
		}
		if shared.Param("replace_original") == "true" {
			t.Errorf("share %q: replaces the ephemeral original instead of posting", tt.text)
		}
		text := blockText(t, shared)
		if !strings.Contains(text, tt.want) || !strings.Contains(text, "<@U7>") {
			t.Errorf("share %q: shared blocks lack %q or the sharer <@U7>:\n%s", tt.text, tt.want, text)
		}
		if _, ok := findButton(buttonsOf(t, shared), bot.ActionShare); ok {
			t.Errorf("share %q: the shared message has a share button", tt.text)
		}
		if deleted.Param("delete_original") != "true" {
			t.Errorf("share %q: second post = %s, want delete_original", tt.text, deleted.Body)
		}
	}
	if posts := h.srv.CallsTo("chat.postMessage"); len(posts) != 0 {
		t.Errorf("share posted %d messages with chat.postMessage, want it to use the response URL", len(posts))
	}
	h.noErrors(t)
}

func TestPracticeAnswer(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	base := sharedIndex(t).Base()

	resp := h.responses(t, h.slash(t, "quiz"), 1)[0]
	var choices []button
	for _, b := range buttonsOf(t, resp) {
		if strings.HasPrefix(b.ActionID, bot.ActionPractice) {
			choices = append(choices, b)
		}
	}
	if len(choices) < 2 {
		t.Fatalf("quiz has %d answer buttons, want at least 2", len(choices))
	}
	id, _, _ := strings.Cut(choices[0].Value, "|")
	q := base.Question(id)
	if q == nil {
		t.Fatalf("button value %q names no question", choices[0].Value)
	}
	if len(choices) != len(q.Choices) {
		t.Errorf("quiz has %d buttons, want one per choice (%d)", len(choices), len(q.Choices))
	}
	right := choices[q.Correct()]
	wrong := choices[(q.Correct()+1)%len(choices)]

	tests := []struct {
		name      string
		container map[string]any
		choice    button
		want      string
		replace   string
	}{
		// An ephemeral quiz is the user's own: the grade replaces it.
		{"right, ephemeral", ephemeral(h.srv.NextTS()), right, "Right", "true"},
		{"wrong, ephemeral", ephemeral(h.srv.NextTS()), wrong, "Not quite", "true"},
		// A quiz posted in a channel (after "@shipmate quiz") is everyone's:
		// the grade is a new ephemeral message and the quiz stays.
		{"right, in channel", map[string]any{"type": "message", "message_ts": h.srv.NextTS(), "channel_id": "C1", "is_ephemeral": false}, right, "Right", "false"},
	}
	for _, tt := range tests {
		env := h.click("U3", tt.container, tt.choice)
		h.send(t, env)
		grade := h.responses(t, responseURL(env), 1)[0]
		if got := grade.Param("response_type"); got != "ephemeral" {
			t.Errorf("%s: response_type = %q, want ephemeral", tt.name, got)
		}
		if got := grade.Param("replace_original"); got != tt.replace {
			t.Errorf("%s: replace_original = %s, want %s", tt.name, got, tt.replace)
		}
		if text := grade.Param("text"); !strings.HasPrefix(text, tt.want) {
			t.Errorf("%s: grade = %q, want it to start with %q", tt.name, text, tt.want)
		}
	}
	if posts := h.srv.CallsTo("chat.postMessage"); len(posts) != 0 {
		t.Errorf("grading posted %d public messages, want none", len(posts))
	}
	h.noErrors(t)
}

func TestBadPracticeAnswerIsLoggedNotFatal(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}})
	bad := h.click("U3", ephemeral(h.srv.NextTS()), button{ActionID: bot.ActionPractice + "_9", Value: "no-such-question|9"})
	h.send(t, bad)
	// The bot keeps answering.
	ev := h.mention(t, "C1", "<@UBOT> what is ecr?")
	if got := h.posts(t, 1)[0].Param("thread_ts"); got != ev["ts"] {
		t.Errorf("reply thread = %q, want %q", got, ev["ts"])
	}
	if len(h.logs.records("handle envelope")) != 1 {
		t.Errorf("a bad practice answer was not logged as an error:\n%s", h.logs)
	}
}
