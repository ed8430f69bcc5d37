package quiz_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"shipmate/content"
	"shipmate/quiz"
	"shipmate/store"
)

// fakePublisher is a quiz.Publisher whose methods are function fields; nil
// fields succeed and do nothing (the Find methods find nothing).
type fakePublisher struct {
	PostQuizFunc    func(ctx context.Context, p quiz.Post, q content.Question) (string, error)
	FindQuizFunc    func(ctx context.Context, p quiz.Post, since time.Time) (string, bool, error)
	UpdateCountFunc func(ctx context.Context, p quiz.Post, answered int) error
	ShowRevealFunc  func(ctx context.Context, p quiz.Post, q content.Question, counts []int) error
	PostResultFunc  func(ctx context.Context, p quiz.Post, q content.Question, winners []string) (string, error)
	FindResultFunc  func(ctx context.Context, p quiz.Post) (string, bool, error)
}

func (f *fakePublisher) PostQuiz(ctx context.Context, p quiz.Post, q content.Question) (string, error) {
	if f.PostQuizFunc == nil {
		return "ts", nil
	}
	return f.PostQuizFunc(ctx, p, q)
}

func (f *fakePublisher) FindQuiz(ctx context.Context, p quiz.Post, since time.Time) (string, bool, error) {
	if f.FindQuizFunc == nil {
		return "", false, nil
	}
	return f.FindQuizFunc(ctx, p, since)
}

func (f *fakePublisher) UpdateCount(ctx context.Context, p quiz.Post, answered int) error {
	if f.UpdateCountFunc == nil {
		return nil
	}
	return f.UpdateCountFunc(ctx, p, answered)
}

func (f *fakePublisher) ShowReveal(ctx context.Context, p quiz.Post, q content.Question, counts []int) error {
	if f.ShowRevealFunc == nil {
		return nil
	}
	return f.ShowRevealFunc(ctx, p, q, counts)
}

func (f *fakePublisher) PostResult(ctx context.Context, p quiz.Post, q content.Question, winners []string) (string, error) {
	if f.PostResultFunc == nil {
		return "rts", nil
	}
	return f.PostResultFunc(ctx, p, q, winners)
}

func (f *fakePublisher) FindResult(ctx context.Context, p quiz.Post) (string, bool, error) {
	if f.FindResultFunc == nil {
		return "", false, nil
	}
	return f.FindResultFunc(ctx, p)
}

// hookStore is a quiz.Store that passes every call on to Store, except
// those whose function field is set.
type hookStore struct {
	quiz.Store
	MarkPostedFunc func(ctx context.Context, quizID int64, p quiz.Posting) error
	AnswersFunc    func(ctx context.Context, quizID int64) ([]quiz.AnswerRecord, error)
}

func (h *hookStore) MarkPosted(ctx context.Context, quizID int64, p quiz.Posting) error {
	if h.MarkPostedFunc == nil {
		return h.Store.MarkPosted(ctx, quizID, p)
	}
	return h.MarkPostedFunc(ctx, quizID, p)
}

func (h *hookStore) Answers(ctx context.Context, quizID int64) ([]quiz.AnswerRecord, error) {
	if h.AnswersFunc == nil {
		return h.Store.Answers(ctx, quizID)
	}
	return h.AnswersFunc(ctx, quizID)
}

// waitLimit bounds every wait in these tests, so that a scheduler that
// never gets where a test waits for it fails the test with a message
// instead of hanging the run until go test's own timeout.
const waitLimit = 30 * time.Second

// waitCtx returns the context for one wait: it ends after waitLimit, or a
// little before the test binary's deadline if that is sooner. It does not
// derive from t.Context(), which is cancelled before cleanups run, because
// cleanups wait too.
func waitCtx(t *testing.T) (context.Context, context.CancelFunc) {
	limit := waitLimit
	if d, ok := t.Deadline(); ok {
		limit = min(limit, max(time.Until(d)-10*time.Second, time.Second))
	}
	return context.WithTimeout(context.Background(), limit)
}

// await waits for ch to deliver or close, failing the test if it does
// not within waitCtx.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	ctx, cancel := waitCtx(t)
	defer cancel()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// gate holds up a fake's calls until the test opens it.
type gate struct {
	entered chan struct{} // receives once per call held up
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

// hold reports the call and waits until the gate is opened; it gives up
// after waitLimit, so a test that forgets to open it fails instead of
// hanging.
func (g *gate) hold() error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	t := time.NewTimer(waitLimit)
	defer t.Stop()
	select {
	case <-g.release:
		return nil
	case <-t.C:
		return errors.New("gate never opened")
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// posted is one PostQuiz call seen by a recorder.
type posted struct {
	post     quiz.Post
	question string
	at       time.Time // the fake clock when posted
}

// revealed is one reveal seen by a recorder: the message shown, then the
// result line.
type revealed struct {
	post    quiz.Post
	counts  []int
	winners []string
}

// recorder records what a fakePublisher is asked to do, and keeps the
// messages "in Slack" by quiz id, as the Find methods see them.
type recorder struct {
	mu      sync.Mutex
	events  []string // "post <slot key>" and "reveal <quiz id>", in order
	posts   []posted
	reveals []revealed
	counts  chan int // every UpdateCount's answered, if there is room
	seq     int
	inSlack map[int64]string // quiz id → message ts
	results map[int64]string // quiz id → result line ts
	// resultPosts counts PostResult calls.
	resultPosts int
}

// newRecorder returns a recorder and a publisher that feeds it, stamping
// posts with clk.
func newRecorder(clk quiz.Clock) (*recorder, *fakePublisher) {
	r := &recorder{counts: make(chan int, 10000), inSlack: map[int64]string{}, results: map[int64]string{}}
	return r, &fakePublisher{
		PostQuizFunc: func(ctx context.Context, p quiz.Post, q content.Question) (string, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.seq++
			r.events = append(r.events, "post "+p.SlotKey)
			r.posts = append(r.posts, posted{post: p, question: q.ID, at: clk.Now()})
			ts := fmt.Sprintf("1700000000.%06d", r.seq)
			r.inSlack[p.QuizID] = ts
			return ts, nil
		},
		FindQuizFunc: func(ctx context.Context, p quiz.Post, since time.Time) (string, bool, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			ts, ok := r.inSlack[p.QuizID]
			return ts, ok, nil
		},
		UpdateCountFunc: func(ctx context.Context, p quiz.Post, answered int) error {
			select {
			case r.counts <- answered:
			default:
			}
			return nil
		},
		ShowRevealFunc: func(ctx context.Context, p quiz.Post, q content.Question, counts []int) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, fmt.Sprint("reveal ", p.QuizID))
			r.reveals = append(r.reveals, revealed{post: p, counts: counts})
			return nil
		},
		PostResultFunc: func(ctx context.Context, p quiz.Post, q content.Question, winners []string) (string, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.seq++
			r.resultPosts++
			for i := len(r.reveals) - 1; i >= 0; i-- {
				if r.reveals[i].post.QuizID == p.QuizID {
					r.reveals[i].winners = winners
					break
				}
			}
			ts := fmt.Sprintf("1700000000.%06d", r.seq)
			r.results[p.QuizID] = ts
			return ts, nil
		},
		FindResultFunc: func(ctx context.Context, p quiz.Post) (string, bool, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			ts, ok := r.results[p.QuizID]
			return ts, ok, nil
		},
	}
}

func (r *recorder) Posts() []posted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]posted(nil), r.posts...)
}

func (r *recorder) Reveals() []revealed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]revealed(nil), r.reveals...)
}

func (r *recorder) Events() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "; ")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	channel = "C0QUIZ"
	admin   = "U0ADMIN"
)

func q(id, topic string) content.Question {
	return content.Question{
		ID: id, Topic: topic, Difficulty: "easy", Question: "What about " + id + "?", Note: "note-" + id,
		Choices: []content.Choice{
			{Text: "Alpha", Why: "why not alpha"},
			{Text: "Bravo", Correct: true, Why: "bravo because"},
			{Text: "Charlie", Why: "why not charlie"},
		},
	}
}

func testBank() []content.Question {
	return []content.Question{q("ecs-1", "ecs"), q("ecs-2", "ecs"), q("eks-1", "eks"), q("eks-2", "eks"), q("lambda-1", "lambda"), q("lambda-2", "lambda")}
}

// mon returns 2 June 2025 (a Monday) at hh:mm UTC, plus days.
func mon(days, hh, mm int) time.Time { return time.Date(2025, 6, 2+days, hh, mm, 0, 0, time.UTC) }

// env is one quiz process: a store handle, a fake clock, a recording
// publisher and the Quiz.
type env struct {
	t   *testing.T
	dir string
	cfg quiz.Config
	st  *store.Store
	clk *quiz.FakeClock
	rec *recorder
	pub *fakePublisher
	q   *quiz.Quiz
	log *syncBuffer
	// poll is the scheduler's safety-net poll interval. It is long by
	// default so the tests show that the scheduler wakes exactly when
	// something is due (and run fast).
	poll time.Duration
	// wrap, if set, wraps the store the Quiz uses (not e.st).
	wrap func(quiz.Store) quiz.Store
	// metrics, if set, receives the Quiz's counts.
	metrics quiz.Metrics
}

// countMetrics is a quiz.Metrics that counts by name.
type countMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *countMetrics) add(k string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	m.n[k]++
}

func (m *countMetrics) QuizPosted()                { m.add("posted") }
func (m *countMetrics) QuizAnswered(result string) { m.add("answered " + result) }
func (m *countMetrics) QuizRevealed()              { m.add("revealed") }
func (m *countMetrics) StoreError(op string)       { m.add("store error " + op) }

func (m *countMetrics) get(k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[k]
}

func withMetrics(m quiz.Metrics) envOption { return func(e *env) { e.metrics = m } }

type envOption func(*env)

func withSchedule(spec string) envOption {
	return func(e *env) {
		s, err := quiz.ParseSchedule(spec)
		if err != nil {
			e.t.Fatal(err)
		}
		e.cfg.Schedule = s
	}
}

func withConfig(f func(*quiz.Config)) envOption { return func(e *env) { f(&e.cfg) } }

// withPoll sets the scheduler's poll interval.
func withPoll(d time.Duration) envOption { return func(e *env) { e.poll = d } }

// withStore makes the Quiz use wrap(store) instead of the store itself.
func withStore(wrap func(quiz.Store) quiz.Store) envOption {
	return func(e *env) { e.wrap = wrap }
}

// withDir shares the data directory of another env, as a second process
// or a restart would.
func withDir(dir string) envOption { return func(e *env) { e.dir = dir } }

func newEnv(t *testing.T, start time.Time, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), log: &syncBuffer{}, poll: 12 * time.Hour}
	s, err := quiz.ParseSchedule(quiz.DefaultSchedule)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = quiz.Config{Channel: channel, Schedule: s, Grace: 2 * time.Hour, RevealAfter: 6 * time.Hour, Admins: []string{admin}}
	for _, o := range opts {
		o(e)
	}
	e.st, err = store.Open(t.Context(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", e.log)
		}
	})
	e.clk = quiz.NewFakeClock(start)
	e.rec, e.pub = newRecorder(e.clk)
	var st quiz.Store = e.st
	if e.wrap != nil {
		st = e.wrap(st)
	}
	e.q = quiz.New(e.cfg, st, e.pub, testBank(), quiz.Options{
		Clock:        e.clk,
		Logger:       slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Seed:         42,
		PollInterval: e.poll,
		Metrics:      e.metrics,
	})
	return e
}

// running holds, by data directory, the stop of the scheduler start ran
// there last: a start on the same directory is a restart, and the old
// process exits first (else the new one would stand by for the lock).
var running sync.Map

// start runs the scheduler until the returned stop is called (or the test
// ends), after stopping the one start ran on the same directory, and
// waits for its first tick.
func (e *env) start() (stop func()) {
	e.t.Helper()
	if old, ok := running.Load(e.dir); ok {
		old.(func())()
	}
	stop = e.run()
	running.Store(e.dir, stop)
	e.idle()
	return stop
}

// run runs the scheduler until the returned stop is called (or the test
// ends), without waiting for anything.
func (e *env) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wctx, wcancel := waitCtx(e.t)
			defer wcancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("Run() = %v, want nil", err)
				}
			case <-wctx.Done():
				e.t.Errorf("Run() did not return after its context was cancelled")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// idle waits until the scheduler has gone back to sleep.
func (e *env) idle() {
	e.t.Helper()
	ctx, cancel := waitCtx(e.t)
	defer cancel()
	if err := e.clk.BlockUntil(ctx, 1); err != nil {
		e.t.Fatalf("scheduler did not go back to sleep: %v", err)
	}
}

// poked runs f, which wakes the running scheduler (PostNow), and waits
// until the scheduler has handled the wake-up and gone back to sleep.
func (e *env) poked(f func()) {
	e.t.Helper()
	before, _ := e.clk.Timers()
	f()
	ctx, cancel := waitCtx(e.t)
	defer cancel()
	err := e.clk.WaitFor(ctx, func(created, pending int) bool { return created > before && pending >= 1 })
	if err != nil {
		e.t.Fatalf("scheduler did not wake up: %v", err)
	}
}

// runUntil moves the clock from wake-up to wake-up until end, letting the
// scheduler work at each.
func (e *env) runUntil(end time.Time) {
	e.t.Helper()
	for steps := 0; ; steps++ {
		if steps > 5000 {
			e.t.Fatalf("runUntil(%v): too many wake-ups", end)
		}
		next, ok := e.clk.NextTimer()
		if !ok || next.After(end) {
			e.clk.Set(end)
			e.idle()
			return
		}
		e.clk.AdvanceToNext()
		e.idle()
	}
}

// answer clicks choice on quiz id's message, as Slack would send it.
func (e *env) answer(ctx context.Context, id int64, user string, choice int) (quiz.Result, error) {
	return e.q.Answer(ctx, clickOn(e.t, e.st, id, user, choice))
}

// clickOn is user's click of choice on quiz id's message, as stored.
func clickOn(t *testing.T, st quiz.Store, id int64, user string, choice int) quiz.Click {
	r, err := st.Quiz(t.Context(), id)
	if err != nil && !errors.Is(err, quiz.ErrNotFound) {
		t.Fatal(err)
	}
	return quiz.Click{QuizID: id, User: user, Choice: choice, Channel: channel, MessageTS: r.MessageTS}
}

// term takes the scheduler lock on st, for a test that writes as a
// scheduler would; release it before a Quiz runs.
func term(t *testing.T, st quiz.Store) quiz.Term {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tm, err := st.LockScheduler(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tm.Release)
	return tm
}

func (e *env) slotState(key string) quiz.SlotState {
	e.t.Helper()
	rec, ok, err := e.st.Slot(e.t.Context(), key)
	if err != nil {
		e.t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return rec.State
}

func keys(ps []posted) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.post.SlotKey)
	}
	return strings.Join(out, " ")
}
