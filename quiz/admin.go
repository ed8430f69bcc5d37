package quiz

import (
	"context"
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
// stores a request under a manual slot key for the scheduler (in this
// process or another replica) and waits for the post, at most awaitLimit:
// ErrQueued if the scheduler has not posted it by then, ErrNotPosted if it
// could not. A double submit posts once: a request within manualWindow
// (10 s) of another manual post to the channel, from any process, gets
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
	_, won, err := q.st.RequestPost(ctx, s, now.Add(-manualWindow))
	if err != nil {
		q.metrics.StoreError("request_post")
		return Post{}, fmt.Errorf("request a post: %w", err)
	}
	if !won {
		return Post{}, ErrAlreadyPosted
	}
	q.poke()
	var post Post
	err = q.await(ctx, func() (bool, error) {
		rec, _, err := q.st.Slot(ctx, s.Key)
		if err != nil {
			return false, err
		}
		if rec.State == SlotClaimed {
			// Posted by this process but not recorded yet, or failed here.
			q.stateMu.Lock()
			p, unrecorded := q.unrecorded[rec.QuizID]
			perr := q.postErrs[rec.QuizID]
			q.stateMu.Unlock()
			switch {
			case rec.QuizID == 0:
				return false, nil
			case unrecorded:
				r, err := q.st.Quiz(ctx, rec.QuizID)
				post = postOf(r)
				post.MessageTS = p.MessageTS
				return true, err
			case perr != nil:
				return true, fmt.Errorf("%w: %w", ErrNotPosted, perr)
			}
			return false, nil
		}
		if rec.State != SlotPosted {
			return true, ErrNotPosted
		}
		r, err := q.st.Quiz(ctx, rec.QuizID)
		post = postOf(r)
		return true, err
	})
	return post, err
}

// await calls done after every tick of this process's scheduler, and every
// half second for one in another process, until it reports true, for at
// most awaitLimit; then ErrQueued.
func (q *Quiz) await(ctx context.Context, done func() (bool, error)) error {
	limit := time.NewTimer(awaitLimit)
	defer limit.Stop()
	every := time.NewTicker(500 * time.Millisecond)
	defer every.Stop()
	for {
		ticked := q.tickDone()
		ok, err := done()
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-limit.C:
			return ErrQueued
		case <-ticked:
		case <-every.C:
		}
	}
}

// RevealNow reveals the open quizzes at once, as user, and returns how many
// it revealed; ErrNoOpenQuiz if there was none. Like PostNow it asks the
// scheduler and waits for it, returning ErrQueued if it is slow.
func (q *Quiz) RevealNow(ctx context.Context, user string) (int, error) {
	if err := q.admin(user); err != nil {
		return 0, err
	}
	open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
	if err != nil {
		return 0, fmt.Errorf("list open quizzes: %w", err)
	}
	n, err := q.st.RequestReveal(ctx, q.cfg.Channel, q.clock.Now())
	if err != nil {
		q.metrics.StoreError("request_reveal")
		return 0, fmt.Errorf("request a reveal: %w", err)
	}
	if n == 0 {
		return 0, ErrNoOpenQuiz
	}
	q.poke()
	err = q.await(ctx, func() (bool, error) {
		for _, r := range open {
			r, err := q.st.Quiz(ctx, r.ID)
			if err != nil || r.RevealedAt.IsZero() {
				return false, err
			}
		}
		return true, nil
	})
	return n, err
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
	rec, err := q.st.SettleSlot(ctx, s, SlotSkipped, now)
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
