package quiz

import (
	"fmt"
	"testing"
	"time"

	"shipmate/content"
)

func question(id, topic string) content.Question {
	return content.Question{
		ID: id, Topic: topic, Difficulty: "easy", Question: "Question " + id + "?", Note: "note-" + id,
		Choices: []content.Choice{
			{Text: "A", Why: "why A"},
			{Text: "B", Correct: true, Why: "why B"},
			{Text: "C", Why: "why C"},
		},
	}
}

func bankOf(spec ...string) []content.Question { // "id:topic"
	var out []content.Question
	for _, s := range spec {
		var id, topic string
		for i := range s {
			if s[i] == ':' {
				id, topic = s[:i], s[i+1:]
			}
		}
		out = append(out, question(id, topic))
	}
	b, _ := validBank(out)
	return b
}

// day returns 09:00 UTC on June 2025 day d (2 June is a Monday).
func day(d int) time.Time { return time.Date(2025, 6, d, 9, 0, 0, 0, time.UTC) }

// asked is a posted quiz for the history.
func asked(id, topic string, d, cycle int, review bool, answered, correct int) QuizRecord {
	return QuizRecord{
		ID: int64(d), Question: question(id, topic), Cycle: cycle, Review: review,
		PostedAt: day(d), RevealAt: day(d).Add(6 * time.Hour), Answered: answered, Correct: correct,
	}
}

func TestChooseCycleAndBalance(t *testing.T) {
	t.Parallel()
	bank := bankOf("e1:ecs", "e2:ecs", "e3:ecs", "e4:ecs", "k1:eks", "k2:eks", "l1:lambda")
	for seed := range uint64(20) {
		var history []QuizRecord
		for i := range 3 * len(bank) {
			now := day(1).AddDate(0, 0, i)
			p, ok := choose(bank, history, now, seed)
			if !ok {
				t.Fatalf("seed %d pick %d: choose found nothing", seed, i)
			}
			if wantCycle := i/len(bank) + 1; p.Cycle != wantCycle || p.Review {
				t.Fatalf("seed %d pick %d: cycle %d review %t, want cycle %d", seed, i, p.Cycle, p.Review, wantCycle)
			}
			// No repeat within the cycle, and the topic is one of the least asked.
			count := map[string]int{}
			remaining := map[string]bool{}
			for _, q := range bank {
				remaining[q.ID] = true
			}
			for _, h := range history {
				if h.Cycle == p.Cycle {
					delete(remaining, h.Question.ID)
					count[h.Question.Topic]++
				}
			}
			if !remaining[p.Question.ID] {
				t.Fatalf("seed %d pick %d: %s repeats in cycle %d", seed, i, p.Question.ID, p.Cycle)
			}
			for _, q := range bank {
				if remaining[q.ID] && count[q.Topic] < count[p.Question.Topic] {
					t.Fatalf("seed %d pick %d: picked topic %s (asked %d) over %s (asked %d)", seed, i, p.Question.Topic, count[p.Question.Topic], q.Topic, count[q.Topic])
				}
			}
			history = append(history, QuizRecord{ID: int64(i + 1), Question: p.Question, Cycle: p.Cycle, PostedAt: now})
		}
	}
}

func TestChooseDeterministic(t *testing.T) {
	t.Parallel()
	bank := bankOf("e1:ecs", "e2:ecs", "k1:eks", "k2:eks", "l1:lambda", "l2:lambda")
	history := []QuizRecord{asked("e1", "ecs", 2, 1, false, 0, 0)}
	first, _ := choose(bank, history, day(3), 7)
	for range 10 {
		if got, _ := choose(bank, history, day(3), 7); got.Question.ID != first.Question.ID {
			t.Fatalf("choose(seed 7) = %s, then %s", first.Question.ID, got.Question.ID)
		}
	}
	seen := map[string]bool{}
	for seed := range uint64(50) {
		p, _ := choose(bank, history, day(3), seed)
		seen[p.Question.ID] = true
	}
	if len(seen) < 3 || seen["e1"] || seen["e2"] {
		t.Errorf("picks over 50 seeds = %v, want several, none from the asked topic ecs", seen)
	}
}

func TestChoose(t *testing.T) {
	t.Parallel()
	bank := bankOf("a:ecs", "b:eks", "c:lambda", "d:lambda")
	tests := []struct {
		name       string
		bank       []content.Question
		history    []QuizRecord
		now        time.Time
		wantID     string
		wantCycle  int
		wantReview bool
	}{
		{
			name:    "least asked topic wins",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("c", "lambda", 3, 1, false, 0, 0)},
			now:     day(4), wantID: "b", wantCycle: 1,
		},
		{
			name:    "last question of the cycle",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("b", "eks", 3, 1, false, 0, 0), asked("c", "lambda", 4, 1, false, 0, 0)},
			now:     day(5), wantID: "d", wantCycle: 1,
		},
		{
			name: "a new question joins the current cycle",
			bank: bankOf("a:ecs", "b:eks", "c:lambda", "d:lambda", "n:ecr"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("b", "eks", 3, 1, false, 0, 0),
				asked("c", "lambda", 4, 1, false, 0, 0), asked("d", "lambda", 5, 1, false, 0, 0)},
			now: day(6), wantID: "n", wantCycle: 1,
		},
		{
			name: "a removed question is not asked and does not block the cycle",
			bank: bankOf("b:eks", "c:lambda"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("b", "eks", 3, 1, false, 0, 0),
				asked("gone", "ecs", 4, 1, false, 0, 0)},
			now: day(5), wantID: "c", wantCycle: 1,
		},
		{
			name: "used up: a new cycle",
			bank: bankOf("a:ecs", "b:eks"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("b", "eks", 3, 1, false, 0, 0),
				asked("a", "ecs", 4, 2, false, 0, 0)},
			now: day(5), wantID: "b", wantCycle: 2,
		},
		{
			name:    "mostly wrong: not yet due after 2 days",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1)},
			now:     day(4), wantCycle: 1, // a normal pick, checked below not to be a review
		},
		{
			name:    "mostly wrong: review after 3 days",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("b", "eks", 3, 1, false, 4, 4)},
			now:     day(5), wantID: "a", wantCycle: 1, wantReview: true,
		},
		{
			name:    "review is due all day, whatever the hour",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1)},
			now:     day(5).Add(-9 * time.Hour), wantID: "a", wantCycle: 1, wantReview: true,
		},
		{
			name:    "exactly half right is not mostly wrong",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 2), asked("b", "eks", 3, 1, false, 0, 0), asked("c", "lambda", 4, 1, false, 0, 0)},
			now:     day(5), wantID: "d", wantCycle: 1,
		},
		{
			name:    "fewer than 3 answers never triggers a review",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 2, 0), asked("b", "eks", 3, 1, false, 0, 0), asked("c", "lambda", 4, 1, false, 0, 0)},
			now:     day(9), wantID: "d", wantCycle: 1,
		},
		{
			name: "second review 7 days after the first",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("b", "eks", 3, 1, false, 0, 0),
				asked("a", "ecs", 5, 1, true, 4, 3), asked("c", "lambda", 6, 1, false, 0, 0)},
			now: day(12), wantID: "a", wantCycle: 1, wantReview: true,
		},
		{
			name: "not before the 7 days",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("b", "eks", 3, 1, false, 0, 0),
				asked("a", "ecs", 5, 1, true, 4, 3), asked("c", "lambda", 6, 1, false, 0, 0)},
			now: day(11), wantID: "d", wantCycle: 1,
		},
		{
			name: "third review 21 days after the second",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("a", "ecs", 5, 1, true, 4, 3),
				asked("a", "ecs", 12, 1, true, 4, 3)},
			now: day(33), wantID: "a", wantCycle: 1, wantReview: true,
		},
		{
			name: "after the third review it is done",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("a", "ecs", 5, 1, true, 4, 3),
				asked("a", "ecs", 12, 1, true, 4, 3), asked("a", "ecs", 33, 1, true, 4, 4),
				asked("b", "eks", 34, 1, false, 0, 0), asked("c", "lambda", 35, 1, false, 0, 0)},
			now: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC), wantID: "d", wantCycle: 1,
		},
		{
			name: "wrong again at a review: back to 3 days",
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("a", "ecs", 5, 1, true, 5, 1),
				asked("b", "eks", 6, 1, false, 0, 0)},
			now: day(8), wantID: "a", wantCycle: 1, wantReview: true,
		},
		{
			name: "the earliest due review first",
			history: []QuizRecord{asked("b", "eks", 2, 1, false, 3, 0), asked("a", "ecs", 3, 1, false, 3, 0),
				asked("c", "lambda", 4, 1, false, 0, 0)},
			now: day(9), wantID: "b", wantCycle: 1, wantReview: true,
		},
		{
			name: "one review a day",
			history: []QuizRecord{asked("b", "eks", 2, 1, false, 3, 0), asked("a", "ecs", 3, 1, false, 3, 0),
				asked("c", "lambda", 4, 1, false, 0, 0), asked("b", "eks", 9, 1, true, 3, 3)},
			now: day(9).Add(2 * time.Hour), wantID: "d", wantCycle: 1,
		},
		{
			name: "the other review the next day",
			history: []QuizRecord{asked("b", "eks", 2, 1, false, 3, 0), asked("a", "ecs", 3, 1, false, 3, 0),
				asked("c", "lambda", 4, 1, false, 0, 0), asked("b", "eks", 9, 1, true, 3, 3)},
			now: day(10), wantID: "a", wantCycle: 1, wantReview: true,
		},
		{
			name:    "a removed question is not reviewed",
			bank:    bankOf("b:eks"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 3, 0)},
			now:     day(9), wantID: "b", wantCycle: 1,
		},
		{
			name:    "reviews do not use up the cycle",
			bank:    bankOf("a:ecs", "b:eks"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 3, 0), asked("a", "ecs", 5, 1, true, 3, 3)},
			now:     day(6), wantID: "b", wantCycle: 1,
		},
	}
	for _, tt := range tests {
		b := tt.bank
		if b == nil {
			b = bank
		}
		got, ok := choose(b, tt.history, tt.now, 1)
		if !ok {
			t.Errorf("%s: choose found nothing", tt.name)
			continue
		}
		if (tt.wantID != "" && got.Question.ID != tt.wantID) || got.Cycle != tt.wantCycle || got.Review != tt.wantReview {
			t.Errorf("%s: choose = %s cycle %d review %t, want %s cycle %d review %t",
				tt.name, got.Question.ID, got.Cycle, got.Review, tt.wantID, tt.wantCycle, tt.wantReview)
		}
	}
	if _, ok := choose(nil, nil, day(2), 1); ok {
		t.Errorf("choose(empty bank) found a question")
	}
}

func TestValidBank(t *testing.T) {
	t.Parallel()
	noCorrect := question("x", "ecs")
	noCorrect.Choices[1].Correct = false
	oneChoice := question("y", "ecs")
	oneChoice.Choices = oneChoice.Choices[1:2]
	withChoices := func(id string, n int) content.Question {
		qu := question(id, "ecs")
		for len(qu.Choices) < n {
			qu.Choices = append(qu.Choices, content.Choice{Text: "more", Why: "why more"})
		}
		return qu
	}
	// Five choices are labelled A to E; a sixth has no label.
	bank, dropped := validBank([]content.Question{question("b", "ecs"), question("a", "eks"), question("a", "ecs"), noCorrect, oneChoice, question("", "ecs"), withChoices("z", 6), withChoices("five", 5)})
	var ids []string
	for _, q := range bank {
		ids = append(ids, q.ID)
	}
	if got, want := fmt.Sprintf("%v %s %q", ids, bank[0].Topic, dropped), `[a b five] eks ["a" "x" "y" "" "z"]`; got != want {
		t.Errorf("validBank = %s, want %s", got, want)
	}
}

func TestChooseNewCycleNotLastQuestion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		bank    []content.Question
		history []QuizRecord
		wantNot string // never picked, whatever the seed
		wantID  string // always picked, if set
	}{
		{
			name:    "two questions: the new cycle starts with the other one",
			bank:    bankOf("a:ecs", "b:eks"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("b", "eks", 3, 1, false, 0, 0)},
			wantNot: "b", wantID: "a",
		},
		{
			name: "several questions: any but the last",
			bank: bankOf("a:ecs", "b:eks", "c:lambda", "d:lambda"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0), asked("b", "eks", 3, 1, false, 0, 0),
				asked("d", "lambda", 4, 1, false, 0, 0), asked("c", "lambda", 5, 1, false, 0, 0)},
			wantNot: "c",
		},
		{
			name: "the last was a review",
			bank: bankOf("a:ecs", "b:eks"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 4, 1), asked("b", "eks", 3, 1, false, 0, 0),
				asked("a", "ecs", 5, 1, true, 4, 4)},
			wantNot: "a", wantID: "b",
		},
		{
			name:    "one question: asked again",
			bank:    bankOf("a:ecs"),
			history: []QuizRecord{asked("a", "ecs", 2, 1, false, 0, 0)},
			wantID:  "a",
		},
	}
	for _, tt := range tests {
		for seed := range uint64(50) {
			now := tt.history[len(tt.history)-1].PostedAt.AddDate(0, 0, 1)
			got, ok := choose(tt.bank, tt.history, now, seed)
			if !ok || got.Question.ID == tt.wantNot || (tt.wantID != "" && got.Question.ID != tt.wantID) || got.Cycle != 2 || got.Review {
				t.Errorf("%s: choose(seed %d) = %s cycle %d review %t, %t; want a cycle 2 pick, not %q (want %q)",
					tt.name, seed, got.Question.ID, got.Cycle, got.Review, ok, tt.wantNot, tt.wantID)
				break
			}
		}
	}
}
