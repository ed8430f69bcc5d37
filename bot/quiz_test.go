package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/internal/fakeslack"
	"shipmate/quiz"
	"shipmate/store"
)

const (
	quizChannel = "CQUIZ"
	quizAdmin   = "UADMIN"
)

// startQuiz runs a bot with the daily quiz on a real SQLite store.
func startQuiz(t *testing.T) *harness {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := quiz.ParseConfig(func(k string) string {
		return map[string]string{"QUIZ_CHANNEL": quizChannel, "QUIZ_ADMINS": quizAdmin}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	base := sharedIndex(t).Base()
	return start(t, setup{wire: func(b *bot.Bot, cmds *bot.Commands) {
		// A fake clock that is never advanced: no scheduled slot fires, so
		// the test drives the quiz with admin commands.
		clock := quiz.NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
		q := quiz.New(cfg, st, b.QuizPublisher(base), base.Questions, quiz.Options{Seed: 7, Clock: clock})
		cmds.WithQuiz(q, clock.Now)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- q.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("quiz Run = %v", err)
			}
		})
	}})
}

// waitUpdate waits for a chat.update whose blocks contain text.
func (h *harness) waitUpdate(t *testing.T, text string) fakeslack.Call {
	t.Helper()
	var found fakeslack.Call
	err := h.srv.WaitFor(h.ctx, func(cs []fakeslack.Call) bool {
		for _, c := range okCalls(cs, "chat.update", "") {
			if strings.Contains(c.Param("blocks"), text) {
				found = c
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no chat.update with %q: %v\n%s", text, err, h.logs)
	}
	return found
}

// slashAs runs /shipmate text as user and returns the reply's text.
func (h *harness) slashAs(t *testing.T, user, text string) string {
	t.Helper()
	env := h.srv.SlashEnvelope("/shipmate", text, user, "C1")
	h.send(t, env)
	return h.responses(t, responseURL(env), 1)[0].Param("text")
}

func TestDailyQuizOverSlack(t *testing.T) {
	t.Parallel()
	h := startQuiz(t)
	base := sharedIndex(t).Base()

	if got := h.slashAs(t, "U1", "quiz post-now"); !strings.Contains(got, "only quiz admins") {
		t.Errorf("non-admin post-now = %q, want a polite refusal", got)
	}
	if got := h.slashAs(t, quizAdmin, "quiz post-now"); !strings.Contains(got, "Posted") {
		t.Fatalf("admin post-now = %q", got)
	}
	post := h.posts(t, 1)[0]
	if got := post.Param("channel"); got != quizChannel {
		t.Fatalf("quiz posted to %q, want %q", got, quizChannel)
	}
	var choices []button
	for _, b := range buttonsOf(t, post) {
		if strings.HasPrefix(b.ActionID, bot.ActionQuizAnswer) {
			choices = append(choices, b)
		}
	}
	if len(choices) < 2 {
		t.Fatalf("quiz post has %d answer buttons", len(choices))
	}
	var q = findQuestion(t, base.Questions, blockText(t, post))
	right, wrong := choices[q.Correct()], choices[(q.Correct()+1)%len(choices)]
	msgs := h.srv.Messages(quizChannel)
	if len(msgs) != 1 {
		t.Fatalf("quiz channel has %d messages, want the quiz", len(msgs))
	}
	quizTS := msgs[0]["ts"].(string)
	container := map[string]any{"type": "message", "message_ts": quizTS, "channel_id": quizChannel, "is_ephemeral": false}

	// First click: private feedback, recorded. Second click: refused.
	env := h.click("U1", container, right)
	h.send(t, env)
	if got := h.responses(t, responseURL(env), 1)[0]; !strings.Contains(got.Param("text"), "Right") || got.Param("response_type") != "ephemeral" {
		t.Errorf("first click feedback = %q (%s), want a private Right", got.Param("text"), got.Param("response_type"))
	}
	env = h.click("U1", container, wrong)
	h.send(t, env)
	want := fmt.Sprintf("You already answered %c", bot.Letters[q.Correct()])
	if got := h.responses(t, responseURL(env), 1)[0].Param("text"); !strings.Contains(got, want) {
		t.Errorf("second click = %q, want %q", got, want)
	}

	// The live count shows that someone answered, never what.
	live := h.waitUpdate(t, "1 answered")
	if text := blockText(t, live); strings.Contains(text, "the answer is") {
		t.Errorf("live count update reveals the answer:\n%s", text)
	}

	// 100 people click at once: every click is acked and recorded once.
	var wg sync.WaitGroup
	urls := make([]string, 100)
	for i := range 100 {
		env := h.click(fmt.Sprintf("UCROWD%03d", i), container, choices[i%len(choices)])
		urls[i] = responseURL(env)
		ack := h.srv.SendAsync(h.ctx, env)
		wg.Go(func() {
			if a := <-ack; a.Err != nil {
				t.Errorf("click %d not acked: %v", i, a.Err)
			}
		})
	}
	wg.Wait()
	for _, u := range urls {
		h.responses(t, u, 1)
	}
	h.waitUpdate(t, "101 answered")

	// Reveal: the message is edited with the right per-choice counts.
	if got := h.slashAs(t, quizAdmin, "quiz reveal-now"); !strings.Contains(got, "Revealed 1") {
		t.Fatalf("reveal-now = %q", got)
	}
	update := h.waitUpdate(t, "the answer is")
	text := blockText(t, update)
	for i, c := range q.Choices {
		n := 100 / len(choices)
		if i < 100%len(choices) {
			n++
		}
		if i == q.Correct() {
			n++ // U1
		}
		if want := fmt.Sprintf("%s: %d", c.Text, n); !strings.Contains(text, want) {
			t.Errorf("reveal lacks count %q:\n%s", want, text)
		}
	}
	// A click after the reveal gets the answer privately and does not score.
	env = h.click("ULATE", container, right)
	h.send(t, env)
	if got := h.responses(t, responseURL(env), 1)[0].Param("text"); !strings.Contains(got, "closed") {
		t.Errorf("click after reveal = %q, want it closed", got)
	}

	// The result line is in the quiz's thread, tagged so that a restarted
	// scheduler finds it instead of posting it again.
	var result fakeslack.Call
	for _, c := range okCalls(h.srv.Calls(), "chat.postMessage", "") {
		if c.Param("thread_ts") == quizTS {
			result = c
		}
	}
	if !strings.Contains(result.Param("text"), "Well done <@U1>") || !strings.Contains(result.Param("metadata"), `"kind":"result"`) {
		t.Errorf("result line = %q with metadata %s", result.Param("text"), result.Param("metadata"))
	}
	if !strings.Contains(post.Param("metadata"), `"event_type":"shipmate_quiz"`) {
		t.Errorf("quiz post metadata = %s, want the quiz's marker", post.Param("metadata"))
	}

	// Every odd click is answered privately, never ignored, and scores
	// nothing: a quiz that does not exist, a choice the question lacks,
	// garbage, and a copy of the message in another channel.
	quizID, _, _ := strings.Cut(right.Value, "|")
	for _, tt := range []struct {
		value     string
		container map[string]any
		want      string
	}{
		{"999999|0", container, "out of date"},
		{quizID + "|7", container, "out of date"},
		{quizID + "|-1", container, "out of date"},
		{"", container, "out of date"},
		{"garbage", container, "out of date"},
		{"1|2|3|x", container, "out of date"},
		{right.Value, map[string]any{"type": "message", "message_ts": "1700000099.000001", "channel_id": "COTHER"}, "copy of the daily quiz"},
		{right.Value, map[string]any{"type": "message", "message_ts": "1700000099.000001", "channel_id": quizChannel}, "copy of the daily quiz"},
	} {
		env := h.click("UODD", tt.container, button{Block: "quiz", ActionID: bot.ActionQuizAnswer + "_0", Value: tt.value, Label: "A"})
		h.send(t, env)
		if got := h.responses(t, responseURL(env), 1)[0].Param("text"); !strings.Contains(got, tt.want) {
			t.Errorf("click with value %q on %v = %q, want %q", tt.value, tt.container, got, tt.want)
		}
	}

	// Asked by mention in a channel, the leaderboard is shown only to the
	// asker: a public list would ping everyone on it.
	h.send(t, h.srv.EventEnvelope("", h.srv.AppMention("U2", "C1", "<@UBOT> leaderboard all")))
	eph, err := h.srv.WaitCalls(h.ctx, "chat.postEphemeral", 1)
	if err != nil {
		t.Fatal(err)
	}
	if eph[0].Param("user") != "U2" || !strings.Contains(eph[0].Param("text"), "<@U1>") {
		t.Errorf("leaderboard by mention = %q to %q, want it privately to U2", eph[0].Param("text"), eph[0].Param("user"))
	}

	// The leaderboard shows the points.
	board := h.slashAs(t, "U2", "leaderboard all")
	if !strings.Contains(board, "<@U1>: 1 pts") {
		t.Errorf("leaderboard = %q, want U1 with 1 point", board)
	}
	if strings.Contains(board, "ULATE") || strings.Contains(board, "UODD") {
		t.Errorf("leaderboard scores a click after the reveal: %q", board)
	}
	if got := h.slashAs(t, "U1", "stats"); !strings.Contains(got, "All time: 1 pts, 1/1 right") {
		t.Errorf("stats = %q", got)
	}
	h.noErrors(t)
}

func findQuestion(t *testing.T, qs []content.Question, text string) *content.Question {
	t.Helper()
	for i := range qs {
		if strings.Contains(text, qs[i].Question) {
			return &qs[i]
		}
	}
	t.Fatalf("posted quiz matches no question in the bank:\n%s", text)
	return nil
}

// TestQuizMessagesGolden pins the daily quiz's messages: the post (on time,
// late, review), the reveal and the private feedback; all within limits.
func TestQuizMessagesGolden(t *testing.T) {
	t.Parallel()
	base := sharedIndex(t).Base()
	q := base.Questions[0]
	post := quiz.Post{QuizID: 42, Channel: quizChannel, MessageTS: "1700000000.000100", Question: q}
	late, review := post, post
	late.Late, review.Review = true, true
	counts := make([]int, len(q.Choices))
	for i := range counts {
		counts[i] = i + 1
	}
	wrong := (q.Correct() + 1) % len(q.Choices)
	tests := []struct {
		name string
		msg  bot.Message
	}{
		{"quiz-post", bot.QuizMessage(post, q, 0)},
		{"quiz-post-late", bot.QuizMessage(late, q, 3)},
		{"quiz-post-review", bot.QuizMessage(review, q, 1)},
		{"quiz-reveal", bot.RevealMessage(post, q, counts, base.Note(q.Note))},
		{"quiz-feedback-right", bot.AnswerFeedback(quiz.Grade(q, q.Correct()), base.Note(q.Note))},
		{"quiz-feedback-wrong", bot.AnswerFeedback(quiz.Grade(q, wrong), base.Note(q.Note))},
		{"quiz-feedback-again", bot.AnswerFeedback(quiz.Result{Choice: wrong, Already: true}, base.Note(q.Note))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, tt.name, tt.msg)
			checkLimits(t, tt.msg)
		})
	}
	// The live post never shows how people answered.
	if text := blockJSON(t, bot.QuizMessage(post, q, 7)); strings.Contains(text, "white_check_mark") || strings.Contains(text, "the answer is") {
		t.Errorf("quiz post reveals the answer: %s", text)
	}
}

func blockJSON(t *testing.T, m bot.Message) string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
