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

// Click is a click on a daily quiz answer button: the quiz and choice its
// value names, who clicked, and the message it was clicked on.
type Click struct {
	QuizID    int64
	Choice    int
	User      string
	Channel   string
	MessageTS string
}

// Answer records a click's answer to a posted quiz. Only the first answer
// counts: a second click returns Already with the first choice. A click
// after the reveal returns Closed and scores nothing. A click counts only on
// the quiz message Shipmate posted: on any other message (a copy in another
// channel) it returns ErrWrongMessage. The answer is durable when Answer
// returns, so the bot may then say it was recorded. It returns ErrNotFound
// for an unknown quiz and ErrBadChoice for a choice the question does not
// have.
func (q *Quiz) Answer(ctx context.Context, c Click) (Result, error) {
	r, err := q.st.Quiz(ctx, c.QuizID)
	if err != nil {
		q.metrics.QuizAnswered("rejected")
		return Result{}, fmt.Errorf("load quiz %d: %w", c.QuizID, err)
	}
	if c.Choice < 0 || c.Choice >= len(r.Question.Choices) {
		q.metrics.QuizAnswered("rejected")
		return Result{}, fmt.Errorf("answer %d to quiz %d: %w", c.Choice, c.QuizID, ErrBadChoice)
	}
	// Before the post is recorded (a click racing the post's response, or a
	// post being reconciled) the message's ts is not known yet; the channel
	// still has to be the quiz's.
	if c.Channel != r.Channel || (r.MessageTS != "" && c.MessageTS != r.MessageTS) {
		q.metrics.QuizAnswered("rejected")
		return Result{}, fmt.Errorf("answer to quiz %d on message %s/%s, posted as %s/%s: %w",
			c.QuizID, c.Channel, c.MessageTS, r.Channel, r.MessageTS, ErrWrongMessage)
	}
	out, err := q.st.RecordAnswer(ctx, AnswerRecord{
		QuizID:  c.QuizID,
		User:    c.User,
		Choice:  c.Choice,
		Correct: c.Choice == r.Question.Correct(),
		At:      q.clock.Now(),
	})
	if err != nil {
		q.metrics.StoreError("record_answer")
		q.metrics.QuizAnswered("error")
		return Result{}, fmt.Errorf("record answer to quiz %d: %w", c.QuizID, err)
	}
	choice := c.Choice
	if out.Already {
		choice = out.Stored.Choice
	}
	res := Grade(r.Question, choice)
	res.QuizID, res.Already, res.Closed = c.QuizID, out.Already, out.Closed
	switch {
	case out.Already:
		q.metrics.QuizAnswered("repeat")
	case out.Closed:
		q.metrics.QuizAnswered("closed")
	case res.Correct:
		q.metrics.QuizAnswered("correct")
		q.kickCount()
	default:
		q.metrics.QuizAnswered("wrong")
		q.kickCount()
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
