package quiz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// IsAdmin reports whether user may run admin commands (QUIZ_ADMINS).
func (q *Quiz) IsAdmin(user string) bool {
	return slices.Contains(q.cfg.Admins, user)
}

func (q *Quiz) admin(user string) error {
	if !q.IsAdmin(user) {
		return fmt.Errorf("user %s: %w", user, ErrNotAdmin)
	}
	if q.cfg.Channel == "" {
		return ErrNoChannel
	}
	return nil
}

// PostNow posts a quiz at once, revealing the open one first, as user. It
// goes through the same slot claim as the schedule, under a manual slot
// key. A double submit posts once: a request within manualWindow (10 s) of
// another manual post to the channel, from any process, gets
// ErrAlreadyPosted. It posts even while paused.
func (q *Quiz) PostNow(ctx context.Context, user string) (Post, error) {
	if err := q.admin(user); err != nil {
		return Post{}, err
	}
	now := q.clock.Now()
	s := Slot{
		Key:     q.cfg.Channel + "@manual@" + now.UTC().Format(wallLayout),
		Channel: q.cfg.Channel,
		Due:     now,
		Manual:  true,
	}
	p, won, err := q.postSlot(ctx, s, now, false)
	if err != nil {
		if won {
			// Nothing retries a manual slot: settle it, so that the
			// admin may try again at once and its quiz, if the message
			// did go out, answers clicks with "closed".
			if _, serr := q.st.SettleSlot(context.WithoutCancel(ctx), s, SlotMissed, q.owner, now); serr != nil {
				err = errors.Join(err, fmt.Errorf("settle failed manual slot %s: %w", s.Key, serr))
			}
		}
		return Post{}, err
	}
	if !won {
		return Post{}, ErrAlreadyPosted
	}
	q.poke()
	return p, nil
}

// RevealNow reveals the open quiz at once, as user, and returns how many
// quizzes it revealed; ErrNoOpenQuiz if there was none.
func (q *Quiz) RevealNow(ctx context.Context, user string) (int, error) {
	if err := q.admin(user); err != nil {
		return 0, err
	}
	now := q.clock.Now()
	open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
	if err != nil {
		return 0, fmt.Errorf("list open quizzes: %w", err)
	}
	n := 0
	for _, r := range open {
		won, err := q.reveal(ctx, r, now, "reveal now")
		if err != nil {
			return n, err
		}
		if won {
			n++
		}
	}
	if n == 0 {
		return 0, ErrNoOpenQuiz
	}
	return n, nil
}

// Skip records the next scheduled slot as skipped, as user, and returns
// it. Skipping twice before that slot skips it once.
func (q *Quiz) Skip(ctx context.Context, user string) (Slot, error) {
	if err := q.admin(user); err != nil {
		return Slot{}, err
	}
	now := q.clock.Now()
	n, ok := q.slots.next(now)
	if !ok {
		return Slot{}, fmt.Errorf("skip: the schedule never fires again")
	}
	s := Slot{Key: n.key(q.cfg.Channel), Channel: q.cfg.Channel, Due: n.at}
	rec, err := q.st.SettleSlot(ctx, s, SlotSkipped, q.owner, now)
	if err != nil {
		return Slot{}, fmt.Errorf("skip slot %s: %w", s.Key, err)
	}
	if rec.State != SlotSkipped {
		return Slot{}, fmt.Errorf("skip slot %s: it is already %s", s.Key, rec.State)
	}
	return s, nil
}

// Pause stops scheduled quizzes, as user, until Resume; slots that come due
// meanwhile are recorded as skipped. The setting is stored, so it survives
// restarts and holds for every process.
func (q *Quiz) Pause(ctx context.Context, user string) error {
	return q.setPaused(ctx, user, true)
}

// Resume restarts scheduled quizzes after Pause, from the next slot on.
func (q *Quiz) Resume(ctx context.Context, user string) error {
	return q.setPaused(ctx, user, false)
}

func (q *Quiz) setPaused(ctx context.Context, user string, paused bool) error {
	if err := q.admin(user); err != nil {
		return err
	}
	if err := q.st.SetPaused(ctx, q.cfg.Channel, paused, q.clock.Now()); err != nil {
		return fmt.Errorf("set paused=%t: %w", paused, err)
	}
	return nil
}

// Paused reports whether scheduled quizzes are paused.
func (q *Quiz) Paused(ctx context.Context) (bool, error) {
	return q.st.Paused(ctx, q.cfg.Channel)
}

// Leaderboard ranks the users who answered a quiz posted in the period
// containing now; see Score for how points and streaks are counted.
func (q *Quiz) Leaderboard(ctx context.Context, period Period, now time.Time) ([]Score, error) {
	quizzes, answers, err := q.scoreData(ctx)
	if err != nil {
		return nil, err
	}
	from, to := period.bounds(now, q.loc)
	return scoreboard(quizzes, answers, from, to, now, q.loc), nil
}

// Stats returns user's scores for the week, month and all time containing
// now, their best streak and their all-time rank.
func (q *Quiz) Stats(ctx context.Context, user string, now time.Time) (Stats, error) {
	quizzes, answers, err := q.scoreData(ctx)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{User: user}
	for _, p := range []struct {
		period Period
		dst    *Score
	}{{Week, &st.Week}, {Month, &st.Month}, {All, &st.All}} {
		from, to := p.period.bounds(now, q.loc)
		*p.dst = Score{User: user}
		for i, s := range scoreboard(quizzes, answers, from, to, now, q.loc) {
			if s.User == user {
				*p.dst = s
				if p.period == All {
					st.Rank = i + 1
				}
			}
		}
	}
	s := streaks(quizzes, answers, now, q.loc)[user]
	st.BestStreak = s.best
	st.Week.Streak, st.Month.Streak, st.All.Streak = s.current, s.current, s.current
	return st, nil
}

func (q *Quiz) scoreData(ctx context.Context) ([]QuizRecord, []AnswerRecord, error) {
	if q.cfg.Channel == "" {
		return nil, nil, nil
	}
	quizzes, err := q.st.Quizzes(ctx, q.cfg.Channel)
	if err != nil {
		return nil, nil, fmt.Errorf("load quizzes: %w", err)
	}
	answers, err := q.st.ChannelAnswers(ctx, q.cfg.Channel)
	if err != nil {
		return nil, nil, fmt.Errorf("load answers: %w", err)
	}
	return quizzes, answers, nil
}
