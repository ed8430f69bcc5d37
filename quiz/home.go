package quiz

import (
	"context"
	"fmt"
	"slices"
	"time"

	"shipmate/content"
)

// Home is what one user's App Home shows of the daily quiz.
type Home struct {
	// Channel is where the daily quiz is posted; empty if it is not set up.
	Channel string
	// Open is the latest quiz still taking answers, nil if none is.
	Open *OpenQuiz
	// Review holds the questions the user answered wrong in the last
	// reviewWindow and has not answered right since, newest first.
	Review []content.Question
}

// OpenQuiz is a quiz taking answers, as one user sees it.
type OpenQuiz struct {
	QuizID    int64
	MessageTS string
	Question  content.Question
	PostedAt  time.Time
	RevealAt  time.Time
	// Answered says whether the user answered it; Choice is their answer.
	Answered bool
	Choice   int
}

// reviewWindow is how far back Home looks for questions to review, and
// maxReview how many it lists.
const (
	reviewWindow = 30 * 24 * time.Hour
	maxReview    = 5
)

// Home returns the daily quiz as user sees it at now: the open quiz and
// whether they answered it, and what they should review.
func (q *Quiz) Home(ctx context.Context, user string, now time.Time) (Home, error) {
	h := Home{Channel: q.cfg.Channel}
	if h.Channel == "" {
		return h, nil
	}
	open, err := q.st.OpenQuizzes(ctx, h.Channel)
	if err != nil {
		return Home{}, fmt.Errorf("load open quizzes: %w", err)
	}
	for _, r := range open {
		if !r.Posted() || r.closed(now) || (h.Open != nil && !r.PostedAt.After(h.Open.PostedAt)) {
			continue
		}
		h.Open = &OpenQuiz{QuizID: r.ID, MessageTS: r.MessageTS, Question: r.Question, PostedAt: r.PostedAt, RevealAt: r.RevealAt}
	}
	if h.Open != nil {
		answers, err := q.st.Answers(ctx, h.Open.QuizID)
		if err != nil {
			return Home{}, fmt.Errorf("load answers: %w", err)
		}
		for _, a := range answers {
			if a.User == user {
				h.Open.Answered, h.Open.Choice = true, a.Choice
			}
		}
	}

	quizzes, answers, err := q.scoreData(ctx)
	if err != nil {
		return Home{}, err
	}
	byID := make(map[int64]QuizRecord, len(quizzes))
	for _, r := range quizzes {
		byID[r.ID] = r
	}
	mine := slices.DeleteFunc(slices.Clone(answers), func(a AnswerRecord) bool {
		r, ok := byID[a.QuizID]
		// Only revealed quizzes: an open one's answer is private until the reveal.
		return a.User != user || !ok || r.RevealedAt.IsZero() || now.Sub(a.At) > reviewWindow
	})
	slices.SortFunc(mine, func(a, b AnswerRecord) int { return b.At.Compare(a.At) })
	settled := map[string]bool{} // question ids answered right later, or listed already
	for _, a := range mine {
		qid := byID[a.QuizID].Question.ID
		if settled[qid] {
			continue
		}
		settled[qid] = true
		if !a.Correct && len(h.Review) < maxReview {
			h.Review = append(h.Review, byID[a.QuizID].Question)
		}
	}
	return h, nil
}
