package quiz_test

import (
	"testing"
	"time"
)

// TestHome follows one user's App Home through a quiz: open and not
// answered, answered, and after a wrong answer is revealed, up for review
// until a later right answer to the same question.
func TestHome(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	ctx := t.Context()

	h, err := e.q.Home(ctx, "U1", e.clk.Now())
	if err != nil || h.Channel != channel || h.Open != nil || len(h.Review) != 0 {
		t.Fatalf("Home before any quiz = %+v, %v; want the channel and nothing else", h, err)
	}

	p := postedQuiz(t, e)
	h, err = e.q.Home(ctx, "U1", e.clk.Now())
	if err != nil || h.Open == nil || h.Open.QuizID != p.QuizID || h.Open.Answered || h.Open.Question.ID != p.Question.ID {
		t.Fatalf("Home with an open quiz = %+v, %v; want quiz %d, not answered", h.Open, err, p.QuizID)
	}
	wrong := (p.Question.Correct() + 1) % len(p.Question.Choices)
	if _, err := e.answer(ctx, p.QuizID, "U1", wrong); err != nil {
		t.Fatal(err)
	}
	h, _ = e.q.Home(ctx, "U1", e.clk.Now())
	if h.Open == nil || !h.Open.Answered || h.Open.Choice != wrong {
		t.Errorf("Home after answering = %+v, want answered %d", h.Open, wrong)
	}
	if len(h.Review) != 0 {
		t.Errorf("Home review before the reveal = %v, want none (answers are private until then)", h.Review)
	}
	if other, _ := e.q.Home(ctx, "U2", e.clk.Now()); other.Open == nil || other.Open.Answered {
		t.Errorf("another user's Home = %+v, want open and not answered", other.Open)
	}

	e.runUntil(mon(0, 16, 0)) // revealed at 15:00
	h, _ = e.q.Home(ctx, "U1", e.clk.Now())
	if h.Open != nil {
		t.Errorf("Home after the reveal has open quiz %+v, want none", h.Open)
	}
	if len(h.Review) != 1 || h.Review[0].ID != p.Question.ID {
		t.Fatalf("Home review = %v, want the missed question %s", h.Review, p.Question.ID)
	}
	// Out of the window, it is no longer listed.
	if late, _ := e.q.Home(ctx, "U1", e.clk.Now().Add(31*24*time.Hour)); len(late.Review) != 0 {
		t.Errorf("Home review a month later = %v, want none", late.Review)
	}
}
