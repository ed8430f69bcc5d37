package quiz

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"shipmate/content"
)

// Result is what the bot tells a user about their answer.
type Result struct {
	QuizID int64
	// Choice is the answer that counts: the user's first one. After the
	// reveal, for a user who had not answered, it is the choice clicked.
	Choice        int
	Correct       bool // Choice is the correct one
	CorrectChoice int
	Why           string // rationale of Choice
	CorrectWhy    string // rationale of the correct choice
	Note          string // id of the concept note that explains it
	// Already means the user had answered before; this click changed
	// nothing ("you already answered B").
	Already bool
	// Closed means the quiz was revealed (or past its reveal time) when the
	// user clicked; the click was not recorded and does not score.
	Closed bool
}

// Grade says whether choice answers q correctly and why, without storing
// anything.
func Grade(q content.Question, choice int) Result {
	r := Result{Choice: choice, CorrectChoice: q.Correct(), Note: q.Note}
	r.Correct = choice == r.CorrectChoice
	if choice >= 0 && choice < len(q.Choices) {
		r.Why = q.Choices[choice].Why
	}
	if r.CorrectChoice >= 0 {
		r.CorrectWhy = q.Choices[r.CorrectChoice].Why
	}
	return r
}

// Answer records user's answer to a posted quiz. Only the first answer
// counts: a second click returns Already with the first choice. A click
// after the reveal returns Closed and scores nothing. The answer is durable
// when Answer returns, so the bot may then say it was recorded. It returns
// ErrNotFound for an unknown quiz and ErrBadChoice for a choice the
// question does not have.
func (q *Quiz) Answer(ctx context.Context, quizID int64, user string, choice int) (Result, error) {
	r, err := q.st.Quiz(ctx, quizID)
	if err != nil {
		return Result{}, fmt.Errorf("load quiz %d: %w", quizID, err)
	}
	if choice < 0 || choice >= len(r.Question.Choices) {
		return Result{}, fmt.Errorf("answer %d to quiz %d: %w", choice, quizID, ErrBadChoice)
	}
	out, err := q.st.RecordAnswer(ctx, AnswerRecord{
		QuizID:  quizID,
		User:    user,
		Choice:  choice,
		Correct: choice == r.Question.Correct(),
		At:      q.clock.Now(),
	})
	if err != nil {
		return Result{}, fmt.Errorf("record answer to quiz %d: %w", quizID, err)
	}
	if out.Already {
		choice = out.Stored.Choice
	}
	res := Grade(r.Question, choice)
	res.QuizID, res.Already, res.Closed = quizID, out.Already, out.Closed
	if !out.Already && !out.Closed {
		q.markDirty(quizID)
	}
	return res, nil
}

// Practice returns a question from the bank for user to try on their own.
// Practice never scores and does not affect the rotation. It returns the
// zero Question if the bank is empty.
func (q *Quiz) Practice(user string) content.Question {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.bank) == 0 {
		return content.Question{}
	}
	h := fnv.New64a()
	h.Write([]byte(user))
	q.practiced++
	rng := rand.New(rand.NewPCG(q.seed^h.Sum64(), q.practiced))
	return q.bank[rng.IntN(len(q.bank))]
}

// PracticeAnswer grades a practice answer; nothing is stored. It returns
// ErrNotFound if the question left the bank and ErrBadChoice for a choice
// it does not have.
func (q *Quiz) PracticeAnswer(questionID string, choice int) (Result, error) {
	q.mu.Lock()
	qu, ok := q.byID[questionID]
	q.mu.Unlock()
	if !ok {
		return Result{}, fmt.Errorf("practice question %q: %w", questionID, ErrNotFound)
	}
	if choice < 0 || choice >= len(qu.Choices) {
		return Result{}, fmt.Errorf("practice answer %d to %q: %w", choice, questionID, ErrBadChoice)
	}
	return Grade(qu, choice), nil
}
