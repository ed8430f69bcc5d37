// Package quiz runs Shipmate's daily quiz: it decides when a quiz is due and
// makes sure each is posted exactly once (across restarts, crashes, DST
// changes and several replicas), picks questions so that the team learns
// (no repeats within a cycle, balanced topics, spaced review of what the
// team got wrong), records answers, reveals results and keeps scores.
//
// It holds no Slack code: it declares the Store it persists to (implemented
// by package store) and the Publisher that shows quizzes (implemented by
// package bot).
package quiz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"shipmate/content"
)

// Errors for conditions the bot turns into a friendly reply.
var (
	// ErrNotAdmin means the user may not run admin commands.
	ErrNotAdmin = errors.New("not a quiz admin")
	// ErrNoChannel means QUIZ_CHANNEL is not set.
	ErrNoChannel = errors.New("no quiz channel configured")
	// ErrBadChoice means the choice is not one of the question's.
	ErrBadChoice = errors.New("no such choice")
	// ErrEmptyBank means there is no question to ask.
	ErrEmptyBank = errors.New("quiz bank is empty")
	// ErrNoOpenQuiz means there is nothing to reveal.
	ErrNoOpenQuiz = errors.New("no open quiz")
	// ErrAlreadyPosted means the slot was already taken (a repeated PostNow).
	ErrAlreadyPosted = errors.New("quiz already posted")
)

const (
	// lease is how long a claim on a slot or a reveal is held before
	// another scheduler may take it over, and so how soon a crash is
	// reconciled. The claim is renewed for a whole lease right before the
	// Publisher call it protects, so the lease only has to cover that call
	// (publishTimeout) and the store calls recording it (each waits at
	// most the store's busy timeout), with room to spare.
	lease = 5 * time.Minute
	// publishTimeout bounds a Publisher call, well inside the lease, so a
	// slow call cannot outlive its claim and be repeated by someone else.
	publishTimeout = time.Minute
	// lateAfter is how long after its time a slot still counts as on time:
	// a timer fires a little after the slot, and "late" should mean that
	// Shipmate was not running at the slot's time. Posting within lateAfter
	// is allowed whatever the grace period.
	lateAfter = time.Minute
	// manualWindow is how soon after one PostNow another is taken for a
	// double submit and refused.
	manualWindow = 10 * time.Second
	// recordAttempts and recordBackoff bound the retries of a store write
	// that records a Publisher call already made (MarkPosted,
	// MarkRevealed): the backoff starts at recordBackoff and doubles.
	recordAttempts = 4
	recordBackoff  = 100 * time.Millisecond
	// recordRetry is how often Run retries recording a post whose
	// recording still failed after those retries.
	recordRetry = time.Minute
	// maxRevealAttempts bounds retries of a reveal Slack keeps rejecting
	// (the message was deleted, say).
	maxRevealAttempts = 5
	// DefaultPollInterval is how often Run re-reads the store even when
	// nothing is due, to notice changes made by other processes.
	DefaultPollInterval = 10 * time.Minute
)

// Options are the optional dependencies of a Quiz.
type Options struct {
	Clock  Clock        // nil: SystemClock
	Logger *slog.Logger // nil: discard
	// Seed makes question picks reproducible; the same store state and
	// seed give the same pick.
	Seed uint64
	// Owner names this process in claims; empty: host, pid and a random
	// suffix.
	Owner string
	// PollInterval overrides DefaultPollInterval.
	PollInterval time.Duration
}

// Quiz is the daily quiz of one channel. Its methods are safe for
// concurrent use; Run drives the schedule.
type Quiz struct {
	cfg   Config
	st    Store
	pub   Publisher
	clock Clock
	log   *slog.Logger
	seed  uint64
	owner string
	poll  time.Duration
	slots slotTimes
	loc   *time.Location

	mu        sync.Mutex
	bank      []content.Question
	byID      map[string]content.Question
	practiced uint64

	// pubMu orders count updates and reveals within this process so a late
	// count update never overwrites a reveal.
	pubMu sync.Mutex

	// firstSeenKey and firstSeenAt say when this process first saw the
	// latest due slot, so that a post delayed by retries is not labelled
	// late. Only Run's goroutine uses them.
	firstSeenKey string
	firstSeenAt  time.Time

	// unrecorded holds, by quiz id, the posts that went out but whose
	// MarkPosted kept failing. Run keeps trying to record them, and never
	// posts their slot again.
	unrecMu    sync.Mutex
	unrecorded map[int64]Posting

	dirtyMu sync.Mutex
	dirty   map[int64]bool
	kick    chan struct{}

	wakeup chan struct{}
}

// New returns the quiz for cfg, persisting to st and publishing through
// pub, asking questions from bank. It does no I/O; Run starts the work.
func New(cfg Config, st Store, pub Publisher, bank []content.Question, opts Options) *Quiz {
	q := &Quiz{
		cfg:   cfg,
		st:    st,
		pub:   pub,
		clock: opts.Clock,
		log:   opts.Logger,
		seed:  opts.Seed,
		owner: opts.Owner,
		poll:  opts.PollInterval,
		slots: newSlotTimes(cfg.Schedule),
		loc:   cfg.Location(),
		dirty: map[int64]bool{},
		kick:  make(chan struct{}, 1),

		unrecorded: map[int64]Posting{},

		wakeup: make(chan struct{}, 1),
	}
	if q.clock == nil {
		q.clock = SystemClock{}
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.owner == "" {
		q.owner = defaultOwner()
	}
	if q.poll <= 0 {
		q.poll = DefaultPollInterval
	}
	q.SetBank(bank)
	return q
}

func defaultOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// SetBank replaces the questions to ask, for a reload. Invalid questions
// (no id, fewer than two or more than five choices, no correct choice, a
// repeated id) are dropped with a warning. Questions no longer in the bank
// are skipped from then on; quizzes already posted keep their own copy.
func (q *Quiz) SetBank(qs []content.Question) {
	bank, dropped := validBank(qs)
	if len(dropped) > 0 {
		q.log.Warn("quiz: skipping invalid questions", "ids", dropped)
	}
	byID := make(map[string]content.Question, len(bank))
	for _, b := range bank {
		byID[b.ID] = b
	}
	q.mu.Lock()
	q.bank, q.byID = bank, byID
	q.mu.Unlock()
}

func (q *Quiz) currentBank() []content.Question {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bank
}

// Run posts scheduled quizzes and reveals them until ctx ends, then waits
// for its goroutines and returns nil. It wakes on start, at each slot of
// the schedule, when a reveal or a lease is due, after PostNow, and at
// least every poll interval, and each time decides from the store what is
// left to do, so it is safe to run in several processes sharing one store.
func (q *Quiz) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { q.countLoop(ctx) })
	for {
		wake := q.safeTick(ctx)
		t := q.clock.NewTimer(wake.Sub(q.clock.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-q.wakeup:
			t.Stop()
		case <-t.C():
		}
	}
}

// poke wakes Run to look at the store again, after a change made outside
// it (PostNow sets a new reveal time).
func (q *Quiz) poke() {
	select {
	case q.wakeup <- struct{}{}:
	default:
	}
}

// safeTick runs one tick, turning a panic into a log line, and returns
// when to wake next.
func (q *Quiz) safeTick(ctx context.Context) (wake time.Time) {
	now := q.clock.Now()
	wake = now.Add(q.poll)
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("quiz: panic in scheduler", "panic", r, "stack", string(debug.Stack()))
			wake = now.Add(min(q.poll, lease))
		}
	}()
	w, err := q.tick(ctx, now)
	if err != nil && ctx.Err() == nil {
		q.log.Error("quiz: scheduler", "err", err)
	}
	if !w.IsZero() && w.Before(wake) {
		wake = w
	}
	return wake
}

// tick does what is due at now and returns the earliest time something
// else may become due (zero: nothing known).
func (q *Quiz) tick(ctx context.Context, now time.Time) (time.Time, error) {
	if q.cfg.Channel == "" {
		return time.Time{}, nil
	}
	var wake time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && t.After(now) && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	if n, ok := q.slots.next(now); ok {
		soonest(n.at)
	}
	// First, so that a post this process made is recorded before its slot
	// is looked at.
	w, err := q.recordUnrecorded(ctx, now)
	soonest(w)
	errs := []error{err}
	if s, ok := q.slots.latest(now); ok {
		w, err := q.handleDueSlot(ctx, Slot{Key: s.key(q.cfg.Channel), Channel: q.cfg.Channel, Due: s.at}, now)
		soonest(w)
		errs = append(errs, err)
	}
	// After posting, so that a quiz just posted sets a wake-up for its reveal.
	w, err = q.revealDue(ctx, now)
	soonest(w)
	errs = append(errs, err)
	return wake, errors.Join(errs...)
}

// handleDueSlot posts the latest due slot if nobody has, it is within the
// grace period and the quiz is not paused; otherwise it records why not.
func (q *Quiz) handleDueSlot(ctx context.Context, s Slot, now time.Time) (time.Time, error) {
	if q.firstSeenKey != s.Key {
		q.firstSeenKey, q.firstSeenAt = s.Key, now
	}
	rec, found, err := q.st.Slot(ctx, s.Key)
	if err != nil {
		return time.Time{}, fmt.Errorf("read slot %s: %w", s.Key, err)
	}
	if found && rec.State != SlotClaimed {
		return time.Time{}, nil
	}
	if found && q.isUnrecorded(rec.QuizID) {
		return now.Add(recordRetry), nil // posted by us: only its record is missing
	}
	if found && rec.LeaseUntil.After(now) {
		return rec.LeaseUntil, nil // someone is posting it; check again when the lease ends
	}
	if now.Sub(s.Due) > max(q.cfg.Grace, lateAfter) {
		rec, err := q.st.SettleSlot(ctx, s, SlotMissed, q.owner, now)
		if err != nil {
			return time.Time{}, fmt.Errorf("record missed slot %s: %w", s.Key, err)
		}
		if rec.State == SlotMissed {
			q.log.Warn("quiz: slot missed (bot was down past the grace period)", "slot", s.Key, "due", s.Due)
		}
		return time.Time{}, nil
	}
	paused, err := q.st.Paused(ctx, s.Channel)
	if err != nil {
		return time.Time{}, fmt.Errorf("read pause state: %w", err)
	}
	if paused {
		if _, err := q.st.SettleSlot(ctx, s, SlotSkipped, q.owner, now); err != nil {
			return time.Time{}, fmt.Errorf("record paused slot %s: %w", s.Key, err)
		}
		q.log.Info("quiz: paused, slot skipped", "slot", s.Key)
		return time.Time{}, nil
	}
	// Late means this process was not running at the slot's time, not that
	// a retry (after a Slack error, say) came later.
	late := q.firstSeenAt.Sub(s.Due) > lateAfter
	post, won, err := q.postSlot(ctx, s, now, late)
	switch {
	case err != nil || !won:
		// The claim stays until its lease ends; a later tick retries
		// while the slot is within grace. Or someone else holds it: look
		// again when their lease may have ended.
		return now.Add(lease), err
	case q.isUnrecorded(post.QuizID):
		return now.Add(recordRetry), nil
	}
	return time.Time{}, nil
}

// postSlot claims s and, if won, reveals the open quiz, picks a question
// and posts it, labelled late if late. won is false if someone else holds
// or settled the slot, or took the claim over before the post. Once the
// post is out, its error is nil: if recording it fails, it is logged and
// kept for Run to record later.
func (q *Quiz) postSlot(ctx context.Context, s Slot, now time.Time, late bool) (post Post, won bool, err error) {
	var rec SlotRecord
	if s.Manual {
		rec, won, err = q.st.ClaimManualSlot(ctx, s, q.owner, now.Add(-manualWindow), now, now.Add(lease))
	} else {
		rec, won, err = q.st.ClaimSlot(ctx, s, q.owner, now, now.Add(lease))
	}
	if err != nil {
		return Post{}, false, fmt.Errorf("claim slot %s: %w", s.Key, err)
	}
	if !won {
		return Post{}, false, nil
	}
	// From here on, shutting down would leave a post half done (and
	// perhaps repeated after the restart): finish it, within publishTimeout.
	ctx = context.WithoutCancel(ctx)
	if err := q.revealOpen(ctx, now, "next quiz posted"); err != nil {
		q.log.Error("quiz: reveal before posting", "err", err)
	}

	var qr QuizRecord
	if rec.QuizID != 0 {
		// A poster crashed after choosing: post the same quiz, so any
		// message it did get out shares its answers.
		if qr, err = q.st.Quiz(ctx, rec.QuizID); err != nil {
			return Post{}, true, fmt.Errorf("load quiz %d of slot %s: %w", rec.QuizID, s.Key, err)
		}
	} else {
		history, err := q.st.Quizzes(ctx, s.Channel)
		if err != nil {
			return Post{}, true, fmt.Errorf("load history: %w", err)
		}
		p, ok := choose(q.currentBank(), history, now.In(q.loc), q.seed)
		if !ok {
			if _, err := q.st.SettleSlot(ctx, s, SlotMissed, q.owner, now); err != nil {
				q.log.Error("quiz: settle slot", "slot", s.Key, "err", err)
			}
			return Post{}, true, ErrEmptyBank
		}
		qr, err = q.st.CreateQuiz(ctx, s.Key, q.owner, NewQuiz{
			Channel: s.Channel, Question: p.Question, Cycle: p.Cycle, Review: p.Review, CreatedAt: now,
		})
		if err != nil {
			return Post{}, true, fmt.Errorf("create quiz for slot %s: %w", s.Key, err)
		}
	}

	post = postOf(qr)
	post.Late = late

	// Revealing and choosing may have taken long enough for the claim to
	// run out and be taken over: make sure it is still ours, for a whole
	// lease, right before posting.
	renewed := q.clock.Now()
	until := renewed.Add(lease)
	ok, err := q.st.RenewClaim(ctx, s.Key, q.owner, renewed, until)
	if err != nil {
		return Post{}, true, fmt.Errorf("renew claim on slot %s: %w", s.Key, err)
	}
	if !ok {
		q.log.Warn("quiz: claim on slot lost before posting; not posting", "slot", s.Key, "quiz", qr.ID)
		return Post{}, false, nil
	}
	var ts string
	err = q.publishUnlocked(ctx, func(ctx context.Context) (err error) {
		ts, err = q.pub.PostQuiz(ctx, post, qr.Question)
		return err
	})
	if err != nil {
		return Post{}, true, fmt.Errorf("post quiz %d for slot %s: %w", qr.ID, s.Key, err)
	}
	post.MessageTS = ts
	postedAt := q.clock.Now()
	posting := Posting{MessageTS: ts, PostedAt: postedAt, RevealAt: postedAt.Add(q.cfg.RevealAfter), Late: post.Late}
	// The message is out: from here on only the record is retried, never
	// the post.
	err = q.retryStore(ctx, until, func() error { return q.st.MarkPosted(ctx, qr.ID, posting) })
	if err != nil {
		q.unrecMu.Lock()
		q.unrecorded[qr.ID] = posting
		q.unrecMu.Unlock()
		q.log.Error("quiz: posted but could not record it; will retry recording, not posting", "slot", s.Key, "quiz", qr.ID, "err", err)
		return post, true, nil
	}
	q.log.Info("quiz: posted", "slot", s.Key, "quiz", qr.ID, "question", qr.Question.ID, "late", post.Late, "review", qr.Review)
	return post, true, nil
}

// retryStore calls f, a store write recording a Publisher call already
// made, until it succeeds: recordAttempts times at most, waiting
// recordBackoff and then twice as long each time, while the wait ends
// before until (the end of the claim's lease, on the injected clock). The
// waits themselves are real time: they give a busy or failing store time
// to recover and are no part of the schedule.
func (q *Quiz) retryStore(ctx context.Context, until time.Time, f func() error) error {
	wait := recordBackoff
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt == recordAttempts || !q.clock.Now().Add(wait).Before(until) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

func (q *Quiz) isUnrecorded(quizID int64) bool {
	q.unrecMu.Lock()
	defer q.unrecMu.Unlock()
	_, ok := q.unrecorded[quizID]
	return ok
}

// recordUnrecorded tries again to record the posts whose recording failed,
// and returns when to try next if some still fail.
func (q *Quiz) recordUnrecorded(ctx context.Context, now time.Time) (time.Time, error) {
	q.unrecMu.Lock()
	pending := maps.Clone(q.unrecorded)
	q.unrecMu.Unlock()
	var errs []error
	for id, p := range pending {
		err := q.st.MarkPosted(ctx, id, p)
		if err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, fmt.Errorf("record post of quiz %d: %w", id, err))
			continue
		}
		q.unrecMu.Lock()
		delete(q.unrecorded, id)
		q.unrecMu.Unlock()
		if err == nil {
			q.log.Info("quiz: recorded an earlier post", "quiz", id)
		}
	}
	if len(errs) > 0 {
		return now.Add(recordRetry), errors.Join(errs...)
	}
	return time.Time{}, nil
}

// revealDue reveals the quizzes whose time has come and returns when the
// next one is due.
func (q *Quiz) revealDue(ctx context.Context, now time.Time) (time.Time, error) {
	open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
	if err != nil {
		return time.Time{}, fmt.Errorf("list open quizzes: %w", err)
	}
	var wake time.Time
	var errs []error
	for _, r := range open {
		due := r.RevealAt
		if r.RevealLeaseUntil.After(due) {
			due = r.RevealLeaseUntil
		}
		if due.After(now) {
			if wake.IsZero() || due.Before(wake) {
				wake = due
			}
			continue
		}
		if _, err := q.reveal(ctx, r, now, "reveal time"); err != nil {
			errs = append(errs, err)
			if w := now.Add(lease); wake.IsZero() || w.Before(wake) {
				wake = w
			}
		}
	}
	return wake, errors.Join(errs...)
}

// revealOpen reveals every open quiz of the channel now.
func (q *Quiz) revealOpen(ctx context.Context, now time.Time, why string) error {
	open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
	if err != nil {
		return fmt.Errorf("list open quizzes: %w", err)
	}
	var errs []error
	for _, r := range open {
		_, err := q.reveal(ctx, r, now, why)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// reveal claims and publishes the reveal of r; won is false if another
// reveal of it is done or in progress, or took the claim over before this
// one was published.
func (q *Quiz) reveal(ctx context.Context, r QuizRecord, now time.Time, why string) (won bool, err error) {
	attempt, won, err := q.st.ClaimReveal(ctx, r.ID, q.owner, now, now.Add(lease))
	if err != nil || !won {
		return false, err
	}
	ctx = context.WithoutCancel(ctx) // finish what was claimed, as in postSlot
	if attempt > maxRevealAttempts {
		q.log.Error("quiz: giving up on revealing quiz", "quiz", r.ID, "attempts", attempt-1)
		return true, q.st.MarkRevealed(ctx, r.ID, now)
	}
	answers, err := q.st.Answers(ctx, r.ID)
	if err != nil {
		return true, fmt.Errorf("load answers of quiz %d: %w", r.ID, err)
	}
	counts, winners := tally(r.Question, answers)
	var until time.Time
	lost := false
	err = q.publish(ctx, func(ctx context.Context) error {
		// Waiting for the store and for pubMu may have outlasted the
		// claim: make sure it is still ours, for a whole lease, right
		// before revealing, or a second "well done" could follow.
		renewed := q.clock.Now()
		ok, err := q.st.RenewReveal(ctx, r.ID, q.owner, renewed, renewed.Add(lease))
		if err != nil {
			return fmt.Errorf("renew reveal claim: %w", err)
		}
		if !ok {
			lost = true
			return nil
		}
		until = renewed.Add(lease)
		return q.pub.Reveal(ctx, postOf(r), r.Question, counts, winners)
	})
	if err != nil {
		return true, fmt.Errorf("reveal quiz %d: %w", r.ID, err)
	}
	if lost {
		q.log.Warn("quiz: reveal claim lost before revealing; not revealing", "quiz", r.ID)
		return false, nil
	}
	if err := q.retryStore(ctx, until, func() error { return q.st.MarkRevealed(ctx, r.ID, now) }); err != nil {
		return true, fmt.Errorf("record reveal of quiz %d: %w", r.ID, err)
	}
	q.log.Info("quiz: revealed", "quiz", r.ID, "why", why, "answers", len(answers), "winners", len(winners))
	return true, nil
}

// publish runs a Publisher call under pubMu with a timeout, turning a panic
// into an error.
func (q *Quiz) publish(ctx context.Context, call func(context.Context) error) error {
	q.pubMu.Lock()
	defer q.pubMu.Unlock()
	return q.publishUnlocked(ctx, call)
}

// publishUnlocked is publish without pubMu, for posting a new message.
func (q *Quiz) publishUnlocked(ctx context.Context, call func(context.Context) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("publisher panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return call(ctx)
}

// tally counts answers per choice and lists the users who got it right,
// fastest first.
func tally(q content.Question, answers []AnswerRecord) (counts []int, winners []string) {
	counts = make([]int, len(q.Choices))
	for _, a := range answers {
		if a.Choice >= 0 && a.Choice < len(counts) {
			counts[a.Choice]++
		}
		if a.Correct {
			winners = append(winners, a.User)
		}
	}
	return counts, winners
}

// markDirty asks the count loop to refresh the quiz's answer count.
func (q *Quiz) markDirty(id int64) {
	q.dirtyMu.Lock()
	q.dirty[id] = true
	q.dirtyMu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// countLoop keeps the live "N answered" up to date. Updates coalesce: a
// burst of answers while one update is in flight becomes one more update,
// which reads the count after the last of them, so the final count is right.
func (q *Quiz) countLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		}
		q.dirtyMu.Lock()
		ids := make([]int64, 0, len(q.dirty))
		for id := range q.dirty {
			ids = append(ids, id)
		}
		clear(q.dirty)
		q.dirtyMu.Unlock()
		for _, id := range ids {
			if err := q.updateCount(ctx, id); err != nil && ctx.Err() == nil {
				q.log.Warn("quiz: update answer count", "quiz", id, "err", err)
			}
		}
	}
}

// updateCount shows the quiz's answer count. The reveal is the last word on
// a quiz message: once a reveal has started (closed_at), is due (reveal_at)
// or is stored, no count update is made, by any process. So the quiz is
// re-read from the store right before each update, under pubMu so that a
// reveal in this process cannot slip in between, and the update is skipped
// if it is closed. A failed update is not retried: the next answer brings
// another, and a retry could land after a reveal made meanwhile by another
// process. (An update already in flight when another process reveals can
// still land after it; not retrying keeps that window to one call.)
func (q *Quiz) updateCount(ctx context.Context, id int64) error {
	return q.publish(ctx, func(ctx context.Context) error {
		r, err := q.st.Quiz(ctx, id)
		if err != nil {
			return err
		}
		if !r.Posted() || r.closed(q.clock.Now()) {
			return nil
		}
		return q.pub.UpdateCount(ctx, postOf(r), r.Answered)
	})
}
