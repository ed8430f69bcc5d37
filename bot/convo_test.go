package bot_test

import (
	"encoding/json"
	"strings"
	"testing"

	"shipmate/bot"
	"shipmate/index"
	"shipmate/internal/fakeslack"
)

// threadMessage builds a message event by user replying in a thread.
func (h *harness) threadMessage(user, channel, thread, text string) map[string]any {
	m := h.srv.Message(user, channel, text)
	m["thread_ts"] = thread
	return m
}

// sentinel sends a DM that is always answered and waits for the answer: with
// one worker, everything sent before it has been handled by then.
func (h *harness) sentinel(t *testing.T, n int) {
	t.Helper()
	h.send(t, h.srv.EventEnvelope("", h.srv.Message("U7", "DSENTINEL", "what is ecr?")))
	posts := h.posts(t, n)
	if last := posts[len(posts)-1]; last.Param("channel") != "DSENTINEL" {
		var where []string
		for _, p := range posts {
			where = append(where, p.Param("channel")+"/"+p.Param("thread_ts"))
		}
		t.Fatalf("posts went to %v, want the sentinel DM last", where)
	}
}

func TestThreadFollowUps(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}})

	mention := h.mention(t, "C1", "<@UBOT> can I run containers on Fargate without managing servers?")
	thread := mention["ts"].(string)
	if got := h.posts(t, 1)[0].Param("thread_ts"); got != thread {
		t.Fatalf("mention answered in thread %q, want %q", got, thread)
	}

	// A question in the thread, no mention: answered in the thread.
	h.send(t, h.srv.EventEnvelope("", h.threadMessage("U2", "C1", thread, "and what is fargate spot?")))
	reply := h.posts(t, 2)[1]
	if reply.Param("channel") != "C1" || reply.Param("thread_ts") != thread {
		t.Fatalf("follow-up answered in %s/%s, want C1/%s", reply.Param("channel"), reply.Param("thread_ts"), thread)
	}
	if text := blockText(t, reply); !strings.Contains(text, "Fargate Spot") {
		t.Errorf("follow-up answer does not mention Fargate Spot:\n%s", text)
	}

	// Left alone, each followed by the sentinel.
	other := h.srv.Message("U3", "C1", "an unrelated top-level message")["ts"].(string)
	ignored := []struct {
		name  string
		event map[string]any
	}{
		{"chatter", h.threadMessage("U1", "C1", thread, "thanks, will do")},
		{"thanks with an emoji", h.threadMessage("U1", "C1", thread, "great, thanks :+1:")},
		{"a question Shipmate cannot answer", h.threadMessage("U1", "C1", thread, "how do I bake sourdough bread?")},
		{"addressed to someone else", h.threadMessage("U1", "C1", thread, "<@U2> what is fargate spot?")},
		{"a thread Shipmate is not part of", h.threadMessage("U1", "C1", other, "what is fargate spot?")},
		{"the same thread ts in another channel", h.threadMessage("U1", "C2", thread, "what is fargate spot?")},
		{"top-level channel message", h.srv.Message("U1", "C1", "what is fargate spot?")},
		{"private channel top level", h.srv.Message("U1", "G1", "what is fargate spot?")},
		{"a bot in the thread", func() map[string]any {
			m := h.threadMessage("U9", "C1", thread, "what is fargate spot?")
			m["bot_id"] = "B9"
			return m
		}()},
		{"Shipmate itself", func() map[string]any {
			m := h.threadMessage(fakeslack.BotUserID, "C1", thread, "what is fargate spot?")
			m["bot_id"] = fakeslack.BotID
			return m
		}()},
		{"an edit", func() map[string]any {
			m := h.threadMessage("U1", "C1", thread, "what is fargate spot?")
			m["subtype"] = "message_changed"
			return m
		}()},
		{"thread_broadcast", func() map[string]any {
			m := h.threadMessage("U1", "C1", thread, "what is fargate spot?")
			m["subtype"] = "thread_broadcast"
			return m
		}()},
	}
	posts := 2
	for _, tt := range ignored {
		h.send(t, h.srv.EventEnvelope("", tt.event))
		posts++
		h.sentinel(t, posts)
		if got := len(h.posts(t, posts)); got != posts {
			t.Fatalf("%s: %d posts, want %d (it was answered)", tt.name, got, posts)
		}
	}

	// A message mentioning Shipmate arrives twice (app_mention and
	// message): answered once, in the thread.
	text := "<@UBOT> what is ecr?"
	msg := h.threadMessage("U2", "C1", thread, text)
	app := h.srv.AppMention("U2", "C1", text)
	app["ts"], app["thread_ts"] = msg["ts"], thread
	h.send(t, h.srv.EventEnvelope("", msg))
	h.send(t, h.srv.EventEnvelope("", app))
	posts++
	h.sentinel(t, posts+1)
	all := h.posts(t, posts+1)
	if len(all) != posts+1 || all[posts-1].Param("thread_ts") != thread {
		t.Errorf("a mention in the thread got %d posts, want exactly one answer in the thread", len(all)-posts+1)
	}
	h.noErrors(t)
}

func TestThreadFollowUpsOff(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}, conv: &bot.Conversation{}})
	mention := h.mention(t, "C1", "<@UBOT> what is ecr?")
	h.posts(t, 1)
	h.send(t, h.srv.EventEnvelope("", h.threadMessage("U2", "C1", mention["ts"].(string), "and what is fargate spot?")))
	h.sentinel(t, 2)
}

// TestThreadSurvivesRestart: the thread state is in the store, so a
// follow-up after a restart is still answered.
func TestThreadSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, setup{dataDir: dir})
	mention := first.mention(t, "C1", "<@UBOT> what is ecr?")
	first.posts(t, 1)
	if err := first.shutdown(); err != nil {
		t.Fatal(err)
	}

	second := start(t, setup{dataDir: dir})
	follow := second.threadMessage("U2", "C1", mention["ts"].(string), "what is fargate spot?")
	follow["ts"] = "1800000000.000100" // the new fake's clock starts over
	second.send(t, second.srv.EventEnvelope("", follow))
	if got := second.posts(t, 1)[0]; got.Param("thread_ts") != mention["ts"] {
		t.Errorf("follow-up after a restart answered in %q, want thread %q", got.Param("thread_ts"), mention["ts"])
	}
}

// TestGapsOverSlack records a declined question and a Not helpful click
// with what was wrong, and shows them to an admin, again after a restart;
// a non-admin gets a refusal.
func TestGapsOverSlack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := start(t, setup{dataDir: dir, opts: bot.Options{Workers: 1}})

	declined := h.slashAs(t, "U1", "how do I bake sourdough bread?")
	if !strings.Contains(declined, "/shipmate help") {
		t.Errorf("declined slash reply = %q, want a pointer to /shipmate help", declined)
	}
	env := h.srv.SlashEnvelope("/shipmate", "which service runs containers without managing servers?", "U2", "C1")
	h.send(t, env)
	answer := h.responses(t, responseURL(env), 1)[0]
	notHelpful, ok := findButton(buttonsOf(t, answer), bot.ActionNotHelpful)
	if !ok {
		t.Fatal("no Not helpful button")
	}
	click := h.click("U2", ephemeral(h.srv.NextTS()), notHelpful)
	h.send(t, click)
	h.responses(t, responseURL(click), 1)
	h.send(t, click) // Slack's retry of the same click: stored once
	modals := waitModals(t, h, 1)
	if cb := modals[0].View["callback_id"]; cb != bot.CallbackGapComment {
		t.Errorf("modal callback_id = %v, want %s", cb, bot.CallbackGapComment)
	}
	h.send(t, h.srv.ViewSubmission("U2", modals[0], map[string]map[string]string{
		"comment": {"comment_input": "it ignored that we need GPUs"},
	}))

	report := h.slashAs(t, "UADMIN", "gaps")
	for _, want := range []string{"bake sourdough bread", "1 declined", "without managing servers", "1 not helpful", "it ignored that we need GPUs", "scenario/"} {
		if !strings.Contains(report, want) {
			t.Errorf("admin's gaps report does not contain %q:\n%s", want, report)
		}
	}
	if refused := h.slashAs(t, "U1", "gaps"); !strings.Contains(refused, "only Shipmate admins") || strings.Contains(refused, "sourdough") {
		t.Errorf("non-admin gaps = %q, want a refusal without the records", refused)
	}
	if err := h.shutdown(); err != nil {
		t.Fatal(err)
	}

	again := start(t, setup{dataDir: dir})
	report = again.slashAs(t, "UADMIN", "gaps month")
	if !strings.Contains(report, "bake sourdough bread") || !strings.Contains(report, "1 not helpful") {
		t.Errorf("gaps after a restart:\n%s", report)
	}
}

func waitModals(t *testing.T, h *harness, n int) []fakeslack.Modal {
	t.Helper()
	var ms []fakeslack.Modal
	err := h.srv.WaitFor(h.ctx, func([]fakeslack.Call) bool {
		ms = h.srv.Modals()
		return len(ms) >= n
	})
	if err != nil {
		t.Fatalf("waiting for %d modals: %v (got %d)\n%s", n, err, len(ms), h.logs)
	}
	return ms
}

func TestSlashHelpHint(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	examples := map[string]bool{}
	for _, s := range sharedIndex(t).Base().Scenarios {
		for _, e := range s.Examples {
			examples[e] = true
		}
	}
	for _, text := range []string{"frobnicate", "frobnicate the widgets", "asdf qwerty"} {
		env := h.srv.SlashEnvelope("/shipmate", text, "U1", "C1")
		h.send(t, env)
		resp := h.responses(t, responseURL(env), 1)[0]
		got := blockText(t, resp)
		if !strings.Contains(got, "/shipmate help") {
			t.Errorf("/shipmate %s: reply does not point to /shipmate help:\n%s", text, got)
		}
		n := 0
		for line := range strings.Lines(got) {
			if e, ok := strings.CutPrefix(strings.TrimSpace(line), "• `/shipmate "); ok && examples[strings.TrimSuffix(e, "`")] {
				n++
			}
		}
		if n != 2 {
			t.Errorf("/shipmate %s: %d example questions from the content, want 2:\n%s", text, n, got)
		}
		if !strings.Contains(resp.Param("text"), "/shipmate help") {
			t.Errorf("/shipmate %s: text fallback lacks the help pointer: %q", text, resp.Param("text"))
		}
	}
}

func TestAppHome(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	h.send(t, h.srv.EventEnvelope("", h.srv.AppHomeOpened("U1")))
	view, err := h.srv.WaitHome(h.ctx, "U1", func(map[string]any) bool { return true })
	if err != nil {
		t.Fatalf("no App Home published: %v\n%s", err, h.logs)
	}
	text := viewText(t, view)
	for _, want := range []string{"Shipmate", "Mention me", "Ask Shipmate", "/shipmate help", "Daily quiz"} {
		if !strings.Contains(text, want) {
			t.Errorf("App Home does not contain %q:\n%s", want, text)
		}
	}
	// The Messages tab publishes nothing.
	msgTab := h.srv.AppHomeOpened("U2")
	msgTab["tab"] = "messages"
	h.send(t, h.srv.EventEnvelope("", msgTab))
	h.send(t, h.srv.EventEnvelope("", h.srv.AppHomeOpened("U3")))
	if _, err := h.srv.WaitHome(h.ctx, "U3", func(map[string]any) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if h.srv.HomeView("U2") != nil {
		t.Error("opening the Messages tab published an App Home")
	}
	h.noErrors(t)
}

// viewText is the text of a view's blocks, entities decoded.
func viewText(t *testing.T, view map[string]any) string {
	t.Helper()
	blocks, _ := json.Marshal(view["blocks"])
	return blockText(t, fakeslack.Call{JSON: map[string]any{"blocks": string(blocks)}})
}

func TestAskShipmateShortcut(t *testing.T) {
	t.Parallel()
	h := start(t, setup{opts: bot.Options{Workers: 1}})
	message := h.srv.Message("U5", "C1", "which service runs containers without managing servers?")
	env := h.srv.MessageShortcut(bot.CallbackAskShipmate, "U1", message)
	h.send(t, env)
	private := h.responses(t, responseURL(env), 1)[0]
	if got := private.Param("response_type"); got != "ephemeral" {
		t.Errorf("shortcut answer response_type = %q, want ephemeral", got)
	}
	if text := blockText(t, private); !strings.Contains(text, "Fargate") {
		t.Errorf("shortcut answer does not mention Fargate:\n%s", text)
	}
	share, ok := findButton(buttonsOf(t, private), bot.ActionShareThread)
	if !ok {
		t.Fatalf("shortcut answer has no Share button: %+v", buttonsOf(t, private))
	}
	if n := len(okCalls(h.srv.Calls(), "chat.postMessage", "")); n != 0 {
		t.Errorf("%d public posts before sharing, want none", n)
	}

	click := h.click("U1", ephemeral(h.srv.NextTS()), share)
	h.send(t, click)
	shared := h.posts(t, 1)[0]
	if shared.Param("channel") != "C1" || shared.Param("thread_ts") != message["ts"] {
		t.Errorf("shared to %s/%s, want the message's thread C1/%s", shared.Param("channel"), shared.Param("thread_ts"), message["ts"])
	}
	if text := blockText(t, shared); !strings.Contains(text, "Shared by <@U1>") || !strings.Contains(text, "Fargate") {
		t.Errorf("shared answer:\n%s", text)
	}
	if del := h.responses(t, responseURL(click), 1)[0]; del.Param("delete_original") != "true" {
		t.Errorf("private copy not deleted: %v", del.Params)
	}
	// Shipmate is part of that thread now.
	h.send(t, h.srv.EventEnvelope("", h.threadMessage("U5", "C1", message["ts"].(string), "what is fargate spot?")))
	if got := h.posts(t, 2)[1]; got.Param("thread_ts") != message["ts"] {
		t.Errorf("follow-up in the shared thread answered in %q", got.Param("thread_ts"))
	}
}

// TestShortcutFallsBackToDM: where the response URL refuses the answer,
// it comes as a direct message instead.
func TestShortcutFallsBackToDM(t *testing.T) {
	t.Parallel()
	h := start(t, setup{})
	message := h.srv.Message("U5", "C9", "what is fargate spot?")
	env := h.srv.MessageShortcut(bot.CallbackAskShipmate, "U1", message)
	env.Payload["response_url"] = strings.Replace(responseURL(env), "/response/", "/response/gone", 1)
	h.send(t, env)
	dm := h.posts(t, 1)[0]
	if dm.Param("channel") != "U1" {
		t.Errorf("fallback posted to %q, want the user's DM (U1)", dm.Param("channel"))
	}
	if text := blockText(t, dm); !strings.Contains(text, "Fargate Spot") {
		t.Errorf("fallback DM:\n%s", text)
	}
}

// clarifyButtons renders an answer asking back, as the engine gives it,
// and returns its buttons.
func clarifyButtons(t *testing.T) []button {
	t.Helper()
	a := answer(t, "run containers without managing servers")
	a.Clarify = &index.Clarify{Question: "Do you need the Kubernetes API?", Options: []index.ClarifyOption{
		{Label: "Yes, Kubernetes", Question: "what is eks?"},
		{Label: "No", Question: "what is ecr?"},
	}}
	msg := bot.RenderBlocks(bot.Reply{Answer: a}, sharedIndex(t).ServiceName, bot.RenderOptions{Command: a.Question})
	var bs []button
	for _, b := range buttonsOf(t, fakeslack.Call{JSON: map[string]any{"blocks": mustJSON(t, msg.Blocks)}}) {
		if strings.HasPrefix(b.ActionID, bot.ActionClarify) {
			bs = append(bs, b)
		}
	}
	if len(bs) != 2 {
		t.Fatalf("clarify buttons = %+v, want 2", bs)
	}
	return bs
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClarifyButtons: a click answers the chosen variant in the thread of
// the message, once however often it is clicked, also after a restart.
func TestClarifyButtons(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := start(t, setup{dataDir: dir, opts: bot.Options{Workers: 1}})
	yes := clarifyButtons(t)[0]
	container := map[string]any{"type": "message", "message_ts": "1700000000.000500", "channel_id": "C1", "is_ephemeral": false, "thread_ts": "1700000000.000400"}
	h.send(t, h.click("U1", container, yes))
	reply := h.posts(t, 1)[0]
	if reply.Param("channel") != "C1" || reply.Param("thread_ts") != "1700000000.000400" {
		t.Errorf("clarified answer posted to %s/%s, want the thread C1/1700000000.000400", reply.Param("channel"), reply.Param("thread_ts"))
	}
	if text := blockText(t, reply); !strings.Contains(text, "EKS") {
		t.Errorf("clarified answer does not answer the chosen variant (EKS):\n%s", text)
	}
	h.send(t, h.click("U2", container, yes)) // a double click, by anyone
	h.sentinel(t, 2)
	report := h.slashAs(t, "UADMIN", "gaps")
	if !strings.Contains(report, "Yes, Kubernetes") || !strings.Contains(report, "ask back") {
		t.Errorf("gaps report does not list the clarification:\n%s", report)
	}
	if err := h.shutdown(); err != nil {
		t.Fatal(err)
	}
	again := start(t, setup{dataDir: dir, opts: bot.Options{Workers: 1}})
	again.send(t, again.click("U1", container, yes))
	again.sentinel(t, 1)
}
