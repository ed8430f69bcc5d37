// Package quiz runs Shipmate's daily quiz: it decides when a quiz is due and
// makes sure each is posted, revealed and congratulated exactly once (across
// restarts, crashes at any point, DST changes and several replicas), picks
// questions so that the team learns (no repeats within a cycle, balanced
// topics, spaced review of what the team got wrong), records answers and
// keeps scores.
//
// One process at a time schedules: the one holding the Store's scheduler
// lock, a lock of the database itself that its holder loses when it dies.
// Every step that talks to Slack is recorded before the call (the intent)
// and after it (the outcome); a scheduler taking over looks in Slack for
// the outcome of any call that may have been made, by the marker each
// message carries, so nothing waits for a lease to run out.
//
// It holds no Slack code: it declares the Store it persists to (implemented
// by package store) and the Publisher that shows quizzes (implemented by
// package bot).
package quiz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// ErrWrongMessage means a quiz button was clicked on a message other
	// than the quiz message Shipmate posted (a copy in another channel).
	ErrWrongMessage = errors.New("not the quiz message")
	// ErrEmptyBank means there is no question to ask.
	ErrEmptyBank = errors.New("quiz bank is empty")
	// ErrNoOpenQuiz means there is nothing to reveal.
	ErrNoOpenQuiz = errors.New("no open quiz")
	// ErrAlreadyPosted means the slot was already taken (a repeated PostNow).
	ErrAlreadyPosted = errors.New("quiz already posted")
	// ErrQueued means a PostNow or RevealNow was stored but the scheduler
	// (perhaps in another replica) has not finished it yet.
	ErrQueued = errors.New("queued for the scheduler")
	// ErrNotPosted means the scheduler could not post a PostNow request.
	ErrNotPosted = errors.New("the quiz could not be posted")
)

const (
	// publishTimeout bounds a Publisher call, retries included. It is also
	// how long after a post attempt began a message may still appear in
	// Slack, so a post that cannot be found is made again only after it.
	publishTimeout = 15 * time.Second
	// lateAfter is how long after its time a slot still counts as on time:
	// a timer fires a little after the slot, and "late" should mean that
	// Shipmate was not running at the slot's time. Posting within lateAfter
	// is allowed whatever the grace period.
	lateAfter = time.Minute
	// manualWindow is how soon after one PostNow another is taken for a
	// double submit and refused.
	manualWindow = 10 * time.Second
	// requestExpiry is how long a PostNow request may wait for a
	// scheduler before it is dropped: an admin who asked an hour ago does
	// not expect the post now.
	requestExpiry = 5 * time.Minute
	// retryAfter is how soon a failed step (a Slack or store error) is tried again.
	retryAfter = 30 * time.Second
	// giveUpAfter is how long an unconfirmed post is looked for in Slack
	// (while Slack errors) before it is given up.
	giveUpAfter = 30 * time.Minute
	// recordAttempts and recordBackoff bound the retries of a store write
	// that records a Publisher call already made: the backoff starts at
	// recordBackoff and doubles.
	recordAttempts = 4
	recordBackoff  = 100 * time.Millisecond
	// maxRevealAttempts bounds retries of a reveal Slack keeps rejecting
	// (the message was deleted, say).
	maxRevealAttempts = 5
	// lockRetry is how soon the scheduler lock is asked for again after
	// the database failed to answer.
	lockRetry = 5 * time.Second
	// lostLockPause is how long a scheduler that lost the lock waits before
	// asking for it again, leaving it to a standby (which asks every half
	// second).
	lostLockPause = 2 * time.Second
	// awaitLimit bounds how long PostNow and RevealNow wait for the scheduler.
	awaitLimit = publishTimeout + 5*time.Second
	// DefaultShutdownGrace is Options.ShutdownGrace's default.
	DefaultShutdownGrace = 3 * time.Second
	// DefaultPollInterval is how often the scheduler re-reads the store
	// even when nothing is due, to notice changes made by other processes.
	DefaultPollInterval = 10 * time.Minute
)

// Metrics counts what the quiz does, for a metrics endpoint (package
// metrics implements it). Results of a click are "correct", "wrong",
// "repeat", "closed", "rejected" (not a click on a live quiz message) and
// "error"; op names the store method that failed.
type Metrics interface {
	QuizPosted()
	QuizAnswered(result string)
	QuizRevealed()
	StoreError(op string)
}

type noMetrics struct{}

func (noMetrics) QuizPosted()         {}
func (noMetrics) QuizAnswered(string) {}
func (noMetrics) QuizRevealed()       {}
func (noMetrics) StoreError(string)   {}

// Options are the optional dependencies of a Quiz.
type Options struct {
	Clock  Clock        // nil: SystemClock
	Logger *slog.Logger // nil: discard
	// Seed makes question picks reproducible; the same store state and
	// seed give the same pick.
	Seed uint64
	// PollInterval overrides DefaultPollInterval.
	PollInterval time.Duration
	// Metrics counts posts, answers, reveals and store errors; nil: none.
	Metrics Metrics
	// ShutdownGrace bounds how long a Slack call in flight when Run's
	// context ends may go on (default 3 s). One cut short is safe: its
	// intent is recorded, and the next scheduler looks for its outcome.
	ShutdownGrace time.Duration
}

// Quiz is the daily quiz of one channel. Its methods are safe for
// concurrent use; Run drives the schedule.
type Quiz struct {
	cfg     Config
	st      Store
	pub     Publisher
	clock   Clock
	log     *slog.Logger
	seed    uint64
	poll    time.Duration
	slots   slotTimes
	loc     *time.Location
	metrics Metrics
	grace   time.Duration

	mu        sync.Mutex
	bank      []content.Question
	byID      map[string]content.Question
	practiced uint64

	// pubMu orders count updates and reveals within this process so a
	// count update never lands after a reveal.
	pubMu sync.Mutex

	// firstSeenKey and firstSeenAt say when this process first saw the
	// latest due slot, so that a post delayed by retries is not labelled
	// late. Only the scheduler goroutine uses them.
	firstSeenKey string
	firstSeenAt  time.Time

	// unrecorded holds, by quiz id, posts that went out but whose
	// MarkPosted failed, to record them without asking Slack; a restart
	// that lost them finds the message in Slack instead.
	stateMu     sync.Mutex
	unrecorded  map[int64]Posting
	revealFails map[int64]int
	shown       map[int64]int   // answer count last shown, by quiz
	postErrs    map[int64]error // the last failed post of a quiz, for PostNow
	postFails   map[int64]postFail

	kick   chan struct{} // wakes the count loop
	wakeup chan struct{} // wakes the scheduler
	ticked chan struct{} // closed and replaced after every tick
}

// New returns the quiz for cfg, persisting to st and publishing through
// pub, asking questions from bank. It does no I/O; Run starts the work.
func New(cfg Config, st Store, pub Publisher, bank []content.Question, opts Options) *Quiz {
	q := &Quiz{
		cfg:         cfg,
		st:          st,
		pub:         pub,
		clock:       opts.Clock,
		log:         opts.Logger,
		seed:        opts.Seed,
		poll:        opts.PollInterval,
		slots:       newSlotTimes(cfg.Schedule),
		loc:         cfg.Location(),
		metrics:     opts.Metrics,
		grace:       opts.ShutdownGrace,
		unrecorded:  map[int64]Posting{},
		revealFails: map[int64]int{},
		shown:       map[int64]int{},
		postErrs:    map[int64]error{},
		postFails:   map[int64]postFail{},
		kick:        make(chan struct{}, 1),
		wakeup:      make(chan struct{}, 1),
		ticked:      make(chan struct{}),
	}
	if q.clock == nil {
		q.clock = SystemClock{}
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.poll <= 0 {
		q.poll = DefaultPollInterval
	}
	if q.metrics == nil {
		q.metrics = noMetrics{}
	}
	if q.grace <= 0 {
		q.grace = DefaultShutdownGrace
	}
	q.SetBank(bank)
	return q
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

// Run schedules the quiz until ctx ends, then returns nil. It first waits
// for the scheduler lock, so with several replicas one schedules and the
// others stand by, taking over within seconds of its exit or death. While
// it holds the lock it wakes on start, at each slot, when a reveal is due,
// on PostNow and RevealNow requests and new answers (from any replica),
// and at least every poll interval, and each time decides from the store
// what is left to do. When ctx ends it finishes the Slack call in flight,
// records it, and releases the lock.
func (q *Quiz) Run(ctx context.Context) error {
	if q.cfg.Channel == "" {
		<-ctx.Done()
		return nil
	}
	for ctx.Err() == nil {
		term, err := q.st.LockScheduler(ctx, q.cfg.Channel)
		if ctx.Err() != nil {
			if term != nil {
				term.Release()
			}
			return nil
		}
		if err != nil {
			q.metrics.StoreError("lock_scheduler")
			q.log.Error("quiz: cannot take the scheduler lock; trying again", "err", err, "retry_in", lockRetry)
			t := time.NewTimer(lockRetry)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			continue
		}
		q.lead(ctx, term)
		term.Release()
		if ctx.Err() == nil {
			// A replica whose database connection dropped steps back for
			// a moment, so a healthy one takes over first.
			q.log.Warn("quiz: lost the scheduler lock (database connection dropped); standing by to take it again", "after", lostLockPause)
			t := time.NewTimer(lostLockPause)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
	}
	return nil
}

// lead runs the scheduler for one term of the lock, until ctx ends or the
// lock is lost.
func (q *Quiz) lead(ctx context.Context, term Term) {
	q.log.Info("quiz: this process runs the quiz scheduler", "epoch", term.Epoch())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		select {
		case <-term.Lost():
			cancel()
		case <-ctx.Done():
		}
	})
	q.stateMu.Lock()
	clear(q.shown)
	q.stateMu.Unlock()
	wg.Go(func() { q.countLoop(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-term.Answered():
				q.kickCount()
			}
		}
	})
	q.kickCount() // show counts that other replicas' answers changed
	for {
		wake := q.safeTick(ctx, term)
		t := q.clock.NewTimer(wake.Sub(q.clock.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-q.wakeup:
			t.Stop()
		case <-term.Wake():
			t.Stop()
		case <-t.C():
		}
	}
}

// poke wakes the scheduler, if it runs in this process, to look at the
// store again after a change made outside it.
func (q *Quiz) poke() {
	select {
	case q.wakeup <- struct{}{}:
	default:
	}
}

// tickDone returns a channel closed after the next tick.
func (q *Quiz) tickDone() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ticked
}

// safeTick runs one tick, turning a panic into a log line, and returns
// when to wake next.
func (q *Quiz) safeTick(ctx context.Context, term Term) (wake time.Time) {
	now := q.clock.Now()
	wake = now.Add(q.poll)
	defer func() {
		q.mu.Lock()
		close(q.ticked)
		q.ticked = make(chan struct{})
		q.mu.Unlock()
	}()
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("quiz: panic in scheduler", "panic", r, "stack", string(debug.Stack()))
			wake = now.Add(min(q.poll, retryAfter))
		}
	}()
	w, err := q.tick(ctx, term, now)
	if err != nil && ctx.Err() == nil {
		q.log.Error("quiz: scheduler", "err", err)
	}
	if !w.IsZero() && w.Before(wake) {
		wake = w
	}
	return wake
}

// soonest collects the earliest future wake-up of a tick.
type soonest struct {
	now, at time.Time
	errs    []error
}

func (s *soonest) add(t time.Time, err error) {
	if !t.IsZero() && t.After(s.now) && (s.at.IsZero() || t.Before(s.at)) {
		s.at = t
	}
	if err != nil {
		s.errs = append(s.errs, err)
	}
}

// tick does what is due at now and returns the earliest time something
// else may become due (zero: nothing known).
func (q *Quiz) tick(ctx context.Context, term Term, now time.Time) (time.Time, error) {
	w := soonest{now: now}
	if n, ok := q.slots.next(now); ok {
		w.add(n.at, nil)
	}
	// First: a post that may have gone out is settled before anything
	// else is posted, so nothing is posted twice.
	w.add(q.reconcile(ctx, term, now))
	if s, ok := q.slots.latest(now); ok {
		w.add(q.handleDueSlot(ctx, term, Slot{Key: s.key(q.cfg.Channel), Channel: q.cfg.Channel, Due: s.at}, now))
	}
	// After posting, so that a quiz just posted sets a wake-up for its reveal.
	w.add(q.revealDue(ctx, term, now))
	return w.at, errors.Join(w.errs...)
}

// handleDueSlot posts the latest due slot if nobody has, it is within the
// grace period and the quiz is not paused; otherwise it records why not.
func (q *Quiz) handleDueSlot(ctx context.Context, term Term, s Slot, now time.Time) (time.Time, error) {
	if q.firstSeenKey != s.Key {
		q.firstSeenKey, q.firstSeenAt = s.Key, now
	}
	_, found, err := q.st.Slot(ctx, s.Key)
	if err != nil {
		q.metrics.StoreError("slot")
		return now.Add(retryAfter), fmt.Errorf("read slot %s: %w", s.Key, err)
	}
	if found {
		return time.Time{}, nil // posted, settled, or left to reconcile
	}
	if now.Sub(s.Due) > max(q.cfg.Grace, lateAfter) {
		rec, err := q.st.SettleSlot(ctx, s, SlotMissed, now)
		if err != nil {
			q.metrics.StoreError("settle_slot")
			return now.Add(retryAfter), fmt.Errorf("record missed slot %s: %w", s.Key, err)
		}
		if rec.State == SlotMissed {
			q.log.Warn("quiz: slot missed (bot was down past the grace period)", "slot", s.Key, "due", s.Due)
		}
		return time.Time{}, nil
	}
	paused, err := q.st.Paused(ctx, s.Channel)
	if err != nil {
		q.metrics.StoreError("paused")
		return now.Add(retryAfter), fmt.Errorf("read pause state: %w", err)
	}
	if paused {
		if _, err := q.st.SettleSlot(ctx, s, SlotSkipped, now); err != nil {
			q.metrics.StoreError("settle_slot")
			return now.Add(retryAfter), fmt.Errorf("record paused slot %s: %w", s.Key, err)
		}
		q.log.Info("quiz: paused, slot skipped", "slot", s.Key)
		return time.Time{}, nil
	}
	// Late means this process was not running at the slot's time, not that
	// a retry (after a Slack error, say) came later.
	late := q.firstSeenAt.Sub(s.Due) > lateAfter
	return q.claimAndPost(ctx, term, s, now, late)
}

// claimAndPost picks the question for s, records the choice with the slot,
// and posts it.
func (q *Quiz) claimAndPost(ctx context.Context, term Term, s Slot, now time.Time, late bool) (time.Time, error) {
	history, err := q.st.Quizzes(ctx, s.Channel)
	if err != nil {
		q.metrics.StoreError("quizzes")
		return now.Add(retryAfter), fmt.Errorf("load history: %w", err)
	}
	p, ok := choose(q.currentBank(), asAsked(history), now.In(q.loc), q.seed)
	if !ok {
		if _, err := q.st.SettleSlot(ctx, s, SlotMissed, now); err != nil {
			q.log.Error("quiz: settle slot", "slot", s.Key, "err", err)
		}
		return time.Time{}, ErrEmptyBank
	}
	qr, won, err := q.st.ClaimSlot(ctx, s, NewQuiz{
		Channel: s.Channel, Question: p.Question, Cycle: p.Cycle, Review: p.Review, Late: late, CreatedAt: now,
	}, term.Epoch())
	if err != nil {
		q.metrics.StoreError("claim_slot")
		return now.Add(retryAfter), fmt.Errorf("claim slot %s: %w", s.Key, err)
	}
	if !won {
		return time.Time{}, nil
	}
	return q.post(ctx, term, qr)
}

// asAsked orders quizzes whose post was tried but never confirmed by the
// attempt, so the rotation counts their question as asked.
func asAsked(history []QuizRecord) []QuizRecord {
	out := make([]QuizRecord, len(history))
	for i, h := range history {
		if h.PostedAt.IsZero() {
			h.PostedAt = h.PostStartedAt
		}
		out[i] = h
	}
	return out
}

// post reveals the open quizzes, records the intent to post qr and posts
// it. A failed post is left claimed, for reconcile to look for in Slack.
func (q *Quiz) post(ctx context.Context, term Term, qr QuizRecord) (time.Time, error) {
	// Shutting down lets the post finish, within the grace.
	ctx, cancel := q.finishing(ctx)
	defer cancel()
	if err := q.revealOpen(ctx, term, qr.ID, "next quiz posted"); err != nil {
		q.log.Error("quiz: reveal before posting", "err", err)
	}
	started := q.clock.Now()
	if err := q.st.StartPost(ctx, qr.ID, term.Epoch(), started); err != nil {
		q.metrics.StoreError("start_post")
		return started.Add(retryAfter), fmt.Errorf("record post of quiz %d: %w", qr.ID, err)
	}
	post := postOf(qr)
	var ts string
	err := q.call(ctx, false, func(ctx context.Context) (err error) {
		ts, err = q.pub.PostQuiz(ctx, post, qr.Question)
		return err
	})
	q.stateMu.Lock()
	var fail postFail
	if err != nil {
		q.postErrs[qr.ID] = err
		fail = q.postFails[qr.ID]
		fail.n++
		fail.until = started.Add(postBackoff(fail.n))
		q.postFails[qr.ID] = fail
	} else {
		delete(q.postErrs, qr.ID)
		delete(q.postFails, qr.ID)
	}
	q.stateMu.Unlock()
	if err != nil {
		// It may have gone out all the same (a timeout, a 5xx after
		// posting): reconcile looks for it before posting again, and not
		// before fail.until, so a post Slack keeps refusing (the bot is
		// not in the channel, say) is tried less and less often.
		return fail.until, fmt.Errorf("post quiz %d for slot %s (attempt %d; will look for it in Slack and try again in %v): %w",
			qr.ID, qr.SlotKey, fail.n, fail.until.Sub(started).Round(time.Second), err)
	}
	if !q.recordPost(ctx, qr, ts, q.clock.Now(), "posted") {
		return q.clock.Now().Add(retryAfter), nil
	}
	return time.Time{}, nil
}

// recordPost records that qr's message ts is in Slack, keeping it in memory
// if the store fails; it reports whether the store has it.
func (q *Quiz) recordPost(ctx context.Context, qr QuizRecord, ts string, postedAt time.Time, how string) bool {
	p := Posting{MessageTS: ts, PostedAt: postedAt, RevealAt: postedAt.Add(q.cfg.RevealAfter)}
	err := q.retryStore(ctx, func() error { return q.st.MarkPosted(ctx, qr.ID, p) })
	q.stateMu.Lock()
	if err != nil {
		q.unrecorded[qr.ID] = p
	} else {
		delete(q.unrecorded, qr.ID)
	}
	q.stateMu.Unlock()
	if err != nil {
		q.metrics.StoreError("mark_posted")
		q.log.Error("quiz: posted but could not record it; will retry recording, not posting", "slot", qr.SlotKey, "quiz", qr.ID, "err", err)
		return false
	}
	q.metrics.QuizPosted()
	q.log.Info("quiz: "+how, "slot", qr.SlotKey, "quiz", qr.ID, "question", qr.Question.ID, "ts", ts, "late", qr.Late, "review", qr.Review)
	q.poke() // its reveal time is set
	return true
}

// postFail counts a quiz's consecutive failed posts in this process.
type postFail struct {
	n     int
	until time.Time // no new attempt (nor a look in Slack) before this
}

// maxPostBackoff caps the wait between attempts at a post Slack refuses.
const maxPostBackoff = 10 * time.Minute

// postBackoff is the wait after the nth consecutive failed post of a quiz:
// publishTimeout (no earlier call can still land by then), doubling up to
// maxPostBackoff.
func postBackoff(n int) time.Duration {
	return min(publishTimeout<<min(n-1, 10), maxPostBackoff)
}

// reconcile settles the claimed slots: PostNow requests are posted, and
// quizzes whose post may have gone out are looked for in Slack and
// recorded, or posted again once no earlier call can still land.
func (q *Quiz) reconcile(ctx context.Context, term Term, now time.Time) (time.Time, error) {
	pending, err := q.st.PendingSlots(ctx, q.cfg.Channel)
	if err != nil {
		q.metrics.StoreError("pending_slots")
		return now.Add(retryAfter), fmt.Errorf("list pending slots: %w", err)
	}
	w := soonest{now: now}
	for _, s := range pending {
		w.add(q.reconcileSlot(ctx, term, s, now))
	}
	return w.at, errors.Join(w.errs...)
}

func (q *Quiz) reconcileSlot(ctx context.Context, term Term, s SlotRecord, now time.Time) (time.Time, error) {
	expired := now.Sub(s.Due) > requestExpiry
	if !s.Manual {
		expired = now.Sub(s.Due) > max(q.cfg.Grace, lateAfter)
	}
	if s.QuizID == 0 { // a PostNow request
		if expired {
			_, err := q.st.SettleSlot(ctx, s.Slot, SlotMissed, now)
			q.log.Warn("quiz: PostNow request expired before a scheduler took it", "slot", s.Key)
			return time.Time{}, err
		}
		return q.claimAndPost(ctx, term, s.Slot, now, false)
	}
	qr, err := q.st.Quiz(ctx, s.QuizID)
	if err != nil {
		q.metrics.StoreError("quiz")
		return now.Add(retryAfter), fmt.Errorf("load quiz %d of slot %s: %w", s.QuizID, s.Key, err)
	}
	q.stateMu.Lock()
	p, unrecorded := q.unrecorded[qr.ID]
	q.stateMu.Unlock()
	switch {
	case qr.Posted() || !qr.ClosedAt.IsZero():
		return time.Time{}, nil
	case unrecorded:
		if q.recordPost(ctx, qr, p.MessageTS, p.PostedAt, "recorded an earlier post") {
			return time.Time{}, nil
		}
		return now.Add(retryAfter), nil
	case qr.PostStartedAt.IsZero(): // chosen, never tried
		if expired {
			_, err := q.st.SettleSlot(ctx, s.Slot, SlotMissed, now)
			return time.Time{}, err
		}
		if !s.Manual {
			paused, err := q.st.Paused(ctx, s.Channel)
			if err != nil {
				return now.Add(retryAfter), fmt.Errorf("read pause state: %w", err)
			}
			if paused {
				_, err := q.st.SettleSlot(ctx, s.Slot, SlotSkipped, now)
				return time.Time{}, err
			}
		}
		return q.post(ctx, term, qr)
	}

	// The post was tried and its outcome is unknown: look in Slack, once
	// the back-off after a failed attempt is over.
	q.stateMu.Lock()
	fail := q.postFails[qr.ID]
	q.stateMu.Unlock()
	if now.Before(fail.until) {
		return fail.until, nil
	}
	ts, found, err := q.find(ctx, func(ctx context.Context) (string, bool, error) {
		return q.pub.FindQuiz(ctx, postOf(qr), qr.PostStartedAt.Add(-time.Minute))
	})
	switch {
	case found:
		// The attempt's time, on the scheduler's clock: the message went
		// out within publishTimeout of it.
		if q.recordPost(ctx, qr, ts, qr.PostStartedAt, "found the message of an unconfirmed post in Slack; recorded it, not posting again") {
			return time.Time{}, nil
		}
		return now.Add(retryAfter), nil
	case err != nil && (errors.Is(err, ErrCannotLook) || now.Sub(qr.PostStartedAt) > giveUpAfter):
		q.log.Error("quiz: cannot tell whether a quiz was posted; giving it up (a copy in Slack, if any, answers clicks as closed)",
			"quiz", qr.ID, "slot", s.Key, "err", err)
		if err := q.st.GiveUpPost(ctx, qr.ID, now); err != nil {
			q.metrics.StoreError("give_up_post")
			return now.Add(retryAfter), fmt.Errorf("give up quiz %d: %w", qr.ID, err)
		}
		return time.Time{}, nil
	case err != nil:
		return now.Add(retryAfter), fmt.Errorf("look for quiz %d in Slack: %w", qr.ID, err)
	}
	// Not in Slack. A call made for it may still land until publishTimeout
	// after it began; after that it never will.
	if settle := qr.PostStartedAt.Add(publishTimeout); now.Before(settle) {
		return settle, nil
	}
	if expired {
		q.log.Warn("quiz: a post that never reached Slack is past its slot's grace; not posting it", "quiz", qr.ID, "slot", s.Key)
		if err := q.st.GiveUpPost(ctx, qr.ID, now); err != nil {
			return now.Add(retryAfter), fmt.Errorf("give up quiz %d: %w", qr.ID, err)
		}
		return time.Time{}, nil
	}
	q.log.Info("quiz: a post never reached Slack; posting it again", "quiz", qr.ID, "slot", s.Key)
	return q.post(ctx, term, qr)
}

// revealDue reveals the quizzes whose time has come, or whose reveal began
// before a crash, and returns when the next one is due.
func (q *Quiz) revealDue(ctx context.Context, term Term, now time.Time) (time.Time, error) {
	open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
	if err != nil {
		q.metrics.StoreError("open_quizzes")
		return now.Add(retryAfter), fmt.Errorf("list open quizzes: %w", err)
	}
	w := soonest{now: now}
	for _, r := range open {
		if r.ClosedAt.IsZero() && r.RevealAt.After(now) {
			w.add(r.RevealAt, nil)
			continue
		}
		if err := q.reveal(ctx, term, r, "reveal time"); err != nil {
			w.add(now.Add(retryAfter), err)
		}
	}
	return w.at, errors.Join(w.errs...)
}

// revealOpen reveals every open quiz of the channel but except, now.
func (q *Quiz) revealOpen(ctx context.Context, term Term, except int64, why string) error {
	open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
	if err != nil {
		return fmt.Errorf("list open quizzes: %w", err)
	}
	var errs []error
	for _, r := range open {
		if r.ID != except {
			errs = append(errs, q.reveal(ctx, term, r, why))
		}
	}
	return errors.Join(errs...)
}

// reveal closes r to answers, shows the answer on its message and posts the
// result line in its thread, recording each step, so that a reveal
// interrupted at any point is resumed, not repeated.
func (q *Quiz) reveal(ctx context.Context, term Term, r QuizRecord, why string) error {
	ctx, cancel := q.finishing(ctx)
	defer cancel()
	now := q.clock.Now()
	r, err := q.st.CloseQuiz(ctx, r.ID, term.Epoch(), now)
	if err != nil {
		q.metrics.StoreError("close_quiz")
		return fmt.Errorf("close quiz %d: %w", r.ID, err)
	}
	if !r.RevealedAt.IsZero() {
		return nil
	}
	answers, err := q.st.Answers(ctx, r.ID)
	if err != nil {
		q.metrics.StoreError("answers")
		return fmt.Errorf("load answers of quiz %d: %w", r.ID, err)
	}
	counts, winners := tally(r.Question, answers)
	post := postOf(r)
	resumed := !r.RevealShownAt.IsZero()
	if !resumed {
		err := q.call(ctx, true, func(ctx context.Context) error { return q.pub.ShowReveal(ctx, post, r.Question, counts) })
		if err != nil {
			return q.revealFailed(ctx, r, fmt.Errorf("show reveal of quiz %d: %w", r.ID, err))
		}
		if err := q.retryStore(ctx, func() error { return q.st.MarkRevealShown(ctx, r.ID, q.clock.Now()) }); err != nil {
			q.metrics.StoreError("mark_reveal_shown")
			return fmt.Errorf("record reveal of quiz %d: %w", r.ID, err)
		}
	}
	var ts string
	if resumed {
		// The result line may have gone out before a crash.
		found := false
		var err error
		ts, found, err = q.find(ctx, func(ctx context.Context) (string, bool, error) { return q.pub.FindResult(ctx, post) })
		switch {
		case errors.Is(err, ErrCannotLook):
			q.log.Warn("quiz: cannot tell whether the result line was posted; not posting it again", "quiz", r.ID, "err", err)
			ts, found = "", true
		case err != nil:
			return q.revealFailed(ctx, r, fmt.Errorf("look for the result line of quiz %d: %w", r.ID, err))
		}
		if found {
			return q.markRevealed(ctx, r, ts, why, len(answers), len(winners))
		}
	}
	err = q.call(ctx, false, func(ctx context.Context) (err error) {
		ts, err = q.pub.PostResult(ctx, post, r.Question, winners)
		return err
	})
	if err != nil {
		return q.revealFailed(ctx, r, fmt.Errorf("post result of quiz %d: %w", r.ID, err))
	}
	return q.markRevealed(ctx, r, ts, why, len(answers), len(winners))
}

func (q *Quiz) markRevealed(ctx context.Context, r QuizRecord, ts, why string, answers, winners int) error {
	if err := q.retryStore(ctx, func() error { return q.st.MarkRevealed(ctx, r.ID, ts, q.clock.Now()) }); err != nil {
		q.metrics.StoreError("mark_revealed")
		return fmt.Errorf("record reveal of quiz %d: %w", r.ID, err)
	}
	q.stateMu.Lock()
	delete(q.revealFails, r.ID)
	delete(q.shown, r.ID)
	q.stateMu.Unlock()
	q.metrics.QuizRevealed()
	q.log.Info("quiz: revealed", "quiz", r.ID, "why", why, "answers", answers, "winners", winners)
	return nil
}

// revealFailed counts a failed reveal step and, after maxRevealAttempts,
// records the reveal as done so that one deleted message does not retry for
// ever.
func (q *Quiz) revealFailed(ctx context.Context, r QuizRecord, err error) error {
	q.stateMu.Lock()
	q.revealFails[r.ID]++
	n := q.revealFails[r.ID]
	q.stateMu.Unlock()
	if n < maxRevealAttempts {
		return err
	}
	q.log.Error("quiz: giving up on revealing quiz", "quiz", r.ID, "attempts", n, "err", err)
	if serr := q.st.MarkRevealed(ctx, r.ID, "", q.clock.Now()); serr != nil {
		return errors.Join(err, serr)
	}
	return nil
}

// finishing returns a context for a step that should finish although ctx
// ends (shutdown): it ends q.grace after ctx does. A step cut short is left
// recorded as begun, for the next scheduler to reconcile.
func (q *Quiz) finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(q.grace, cancel)
		context.AfterFunc(fctx, func() { t.Stop() })
	})
	return fctx, func() { stop(); cancel() }
}

// retryStore calls f, a store write recording a Publisher call already
// made, until it succeeds, recordAttempts times at most, waiting
// recordBackoff and then twice as long each time. The waits are real time:
// they give a busy or failing store time to recover and are no part of the
// schedule.
func (q *Quiz) retryStore(ctx context.Context, f func() error) error {
	wait := recordBackoff
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt == recordAttempts {
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

// call runs a Publisher call with publishTimeout, under pubMu if ordered,
// turning a panic into an error.
func (q *Quiz) call(ctx context.Context, ordered bool, f func(context.Context) error) (err error) {
	if ordered {
		q.pubMu.Lock()
		defer q.pubMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("publisher panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return f(ctx)
}

// find runs a Publisher look-up like call.
func (q *Quiz) find(ctx context.Context, f func(context.Context) (string, bool, error)) (ts string, found bool, err error) {
	err = q.call(ctx, false, func(ctx context.Context) (err error) {
		ts, found, err = f(ctx)
		return err
	})
	return ts, found, err
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

// kickCount asks the count loop to bring the answer counts up to date.
func (q *Quiz) kickCount() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// countLoop keeps the live "N answered" of the open quizzes up to date
// while this process schedules. Updates coalesce: a burst of answers while
// one update is in flight becomes one more update, which reads the count
// after the last of them, so the final count is right.
func (q *Quiz) countLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		}
		open, err := q.st.OpenQuizzes(ctx, q.cfg.Channel)
		if err != nil {
			if ctx.Err() == nil {
				q.log.Warn("quiz: list open quizzes for counts", "err", err)
			}
			continue
		}
		for _, r := range open {
			q.stateMu.Lock()
			shown, ok := q.shown[r.ID]
			q.stateMu.Unlock()
			if ok && shown == r.Answered {
				continue
			}
			if err := q.updateCount(ctx, r.ID); err != nil && ctx.Err() == nil {
				q.log.Warn("quiz: update answer count", "quiz", r.ID, "err", err)
			}
		}
	}
}

// updateCount shows the quiz's answer count. The reveal is the last word on
// a quiz message: once a reveal has started (closed_at) or is due
// (reveal_at), no count update is made. The quiz is re-read right before
// the update, under pubMu, so a reveal cannot slip in between. A failed
// update is not retried: the next answer brings another.
func (q *Quiz) updateCount(ctx context.Context, id int64) error {
	return q.call(ctx, true, func(ctx context.Context) error {
		r, err := q.st.Quiz(ctx, id)
		if err != nil {
			return err
		}
		if !r.Posted() || r.closed(q.clock.Now()) {
			return nil
		}
		q.stateMu.Lock()
		q.shown[id] = r.Answered
		q.stateMu.Unlock()
		return q.pub.UpdateCount(ctx, postOf(r), r.Answered)
	})
}
