package quiz_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"shipmate/content"
	"shipmate/quiz"
	"shipmate/store"
)

func TestScheduledPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	e.runUntil(mon(1, 9, 30))

	ps := e.rec.Posts()
	if got, want := keys(ps), channel+"@2025-06-02T09:00:00 "+channel+"@2025-06-03T09:00:00"; got != want {
		t.Fatalf("posted slots = %q, want %q", got, want)
	}
	for i, want := range []time.Time{mon(0, 9, 0), mon(1, 9, 0)} {
		if !ps[i].at.Equal(want) || ps[i].post.Late || ps[i].post.QuizID == 0 || ps[i].post.Channel != channel {
			t.Errorf("post %d = %+v at %v, want on time at %v", i, ps[i].post, ps[i].at, want)
		}
	}
	// Revealed at 15:00, six hours after posting, before Tuesday's post.
	wantEvents := fmt.Sprintf("post %s@2025-06-02T09:00:00; reveal %d; post %s@2025-06-03T09:00:00", channel, ps[0].post.QuizID, channel)
	if got := e.rec.Events(); got != wantEvents {
		t.Errorf("events = %q, want %q", got, wantEvents)
	}
	r, err := e.st.Quiz(t.Context(), ps[0].post.QuizID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.RevealedAt.Equal(mon(0, 15, 0)) || r.MessageTS != "1700000000.000001" {
		t.Errorf("first quiz revealed at %v with ts %q, want %v and the posted ts", r.RevealedAt, r.MessageTS, mon(0, 15, 0))
	}
	// Friday's slot was long gone when we started: recorded as missed, not posted.
	if got := e.slotState(channel + "@2025-05-30T09:00:00"); got != quiz.SlotMissed {
		t.Errorf("Friday's slot is %q, want missed", got)
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		start     time.Time
		wantPosts int
		wantLate  bool
		wantState quiz.SlotState
	}{
		{"back at 09:05 within the 2h grace: posted once, late", mon(0, 9, 5), 1, true, quiz.SlotPosted},
		{"back at 09:00:30: posted on time", mon(0, 9, 0).Add(30 * time.Second), 1, false, quiz.SlotPosted},
		{"back at 11:00, the edge of grace: posted late", mon(0, 11, 0), 1, true, quiz.SlotPosted},
		{"back at 12:00 past grace: nothing, the miss recorded", mon(0, 12, 0), 0, false, quiz.SlotMissed},
		{"back on Wednesday 10:00 after two days down: only Wednesday's, late", mon(2, 10, 0), 1, true, quiz.SlotPosted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.start)
			e.start()
			e.runUntil(tt.start.Add(3 * time.Hour))
			ps := e.rec.Posts()
			if len(ps) != tt.wantPosts {
				t.Fatalf("posts = %q, want %d", keys(ps), tt.wantPosts)
			}
			key := fmt.Sprintf("%s@%s09:00:00", channel, tt.start.Format("2006-01-02T"))
			if len(ps) == 1 && (ps[0].post.SlotKey != key || ps[0].post.Late != tt.wantLate || !ps[0].at.Equal(tt.start)) {
				t.Errorf("post = %+v at %v, want slot %s late=%t at %v", ps[0].post, ps[0].at, key, tt.wantLate, tt.start)
			}
			if got := e.slotState(key); got != tt.wantState {
				t.Errorf("slot %s is %q, want %q", key, got, tt.wantState)
			}

			// Restart again, a little later, on the same store: nothing more.
			again := newEnv(t, tt.start.Add(20*time.Minute), withDir(e.dir))
			again.start()
			again.runUntil(tt.start.Add(time.Hour))
			if ps := again.rec.Posts(); len(ps) != 0 {
				t.Errorf("second restart posted %q", keys(ps))
			}
			r, err := e.st.Quizzes(t.Context(), channel)
			if err != nil || len(r) != tt.wantPosts {
				t.Errorf("stored quizzes = %d (%v), want %d", len(r), err, tt.wantPosts)
			}
		})
	}
}

func TestDST(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := func(mo time.Month, d, h, m int) time.Time { return time.Date(2025, mo, d, h, m, 0, 0, ny) }
	est := func(d, h, m int) time.Time { return time.Date(2025, 11, d, h+5, m, 0, 0, time.UTC) }
	edt := func(d, h, m int) time.Time { return time.Date(2025, 11, d, h+4, m, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		spec       string
		start, end time.Time
		wantKeys   []string
		wantAt     []time.Time
		// refire starts another scheduler on the same store at this time,
		// when robfig/cron would fire the repeated wall time again.
		refire time.Time
	}{
		{
			name:  "spring forward, 02:30 does not exist: posted once right after the gap",
			spec:  "CRON_TZ=America/New_York 30 2 * * *",
			start: at(3, 8, 12, 0), end: at(3, 10, 12, 0),
			wantKeys: []string{"2025-03-09T02:30:00", "2025-03-10T02:30:00"},
			wantAt:   []time.Time{at(3, 9, 3, 0), at(3, 10, 2, 30)},
		},
		{
			name:  "fall back, 01:30 happens twice: posted once",
			spec:  "CRON_TZ=America/New_York 30 1 * * *",
			start: at(11, 1, 12, 0), end: at(11, 3, 12, 0),
			wantKeys: []string{"2025-11-02T01:30:00", "2025-11-03T01:30:00"},
			wantAt:   []time.Time{edt(2, 1, 30), est(3, 1, 30)},
			refire:   est(2, 1, 30),
		},
		{
			name:  "09:00 on the spring-forward day",
			spec:  "CRON_TZ=America/New_York 0 9 * * *",
			start: at(3, 8, 12, 0), end: at(3, 10, 10, 0),
			wantKeys: []string{"2025-03-09T09:00:00", "2025-03-10T09:00:00"},
			wantAt:   []time.Time{at(3, 9, 9, 0), at(3, 10, 9, 0)},
		},
		{
			name:  "09:00 on the fall-back day",
			spec:  "CRON_TZ=America/New_York 0 9 * * *",
			start: at(11, 1, 12, 0), end: at(11, 3, 10, 0),
			wantKeys: []string{"2025-11-02T09:00:00", "2025-11-03T09:00:00"},
			wantAt:   []time.Time{est(2, 9, 0), est(3, 9, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Poll every 10 minutes, so the scheduler also looks at the
			// store during the repeated hour.
			e := newEnv(t, tt.start, withSchedule(tt.spec), withPoll(10*time.Minute))
			e.start()
			e.runUntil(tt.end)
			ps := e.rec.Posts()
			if len(ps) != len(tt.wantKeys) {
				t.Fatalf("posts = %q, want %q", keys(ps), tt.wantKeys)
			}
			for i, p := range ps {
				if p.post.SlotKey != channel+"@"+tt.wantKeys[i] || !p.at.Equal(tt.wantAt[i]) || p.post.Late {
					t.Errorf("post %d = %s at %v late=%t, want %s at %v on time", i, p.post.SlotKey, p.at.In(ny), p.post.Late, tt.wantKeys[i], tt.wantAt[i].In(ny))
				}
			}
			if tt.refire.IsZero() {
				return
			}
			again := newEnv(t, tt.refire, withSchedule(tt.spec), withDir(e.dir))
			again.start()
			again.runUntil(tt.refire.Add(time.Hour))
			if ps := again.rec.Posts(); len(ps) != 0 {
				t.Errorf("a scheduler started at %v posted %q again", tt.refire.In(ny), keys(ps))
			}
		})
	}
}

func TestCrashBetweenClaimAndPost(t *testing.T) {
	t.Parallel()
	key := channel + "@2025-06-02T09:00:00"
	tests := []struct {
		name          string
		chosen        bool // the crashed process had created the quiz (and perhaps posted it)
		paused        bool // the quiz was paused meanwhile
		restart       time.Time
		wantPostAt    time.Time // zero: no post
		wantLate      bool
		wantSameQuiz  bool
		wantSlotState quiz.SlotState
	}{
		{"crashed after choosing, back within the lease: waits for the lease, posts the same quiz, on time", true, false, mon(0, 9, 1), mon(0, 9, 2), false, true, quiz.SlotPosted},
		{"crashed after claiming, back later within grace: posts at once, late", false, false, mon(0, 10, 0), mon(0, 10, 0), true, false, quiz.SlotPosted},
		{"crashed after choosing, back past grace: recorded as missed", true, false, mon(0, 12, 0), time.Time{}, false, false, quiz.SlotMissed},
		{"crashed after choosing, paused meanwhile: recorded as skipped", true, true, mon(0, 10, 0), time.Time{}, false, false, quiz.SlotSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			st, err := store.Open(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			slot := quiz.Slot{Key: key, Channel: channel, Due: mon(0, 9, 0)}
			if _, won, err := st.ClaimSlot(t.Context(), slot, "crashed", mon(0, 9, 0), mon(0, 9, 2)); err != nil || !won {
				t.Fatalf("ClaimSlot = %t, %v", won, err)
			}
			var crashedQuiz int64
			if tt.chosen {
				r, err := st.CreateQuiz(t.Context(), key, "crashed", quiz.NewQuiz{Channel: channel, Question: q("eks-2", "eks"), Cycle: 1, CreatedAt: mon(0, 9, 0)})
				if err != nil {
					t.Fatal(err)
				}
				crashedQuiz = r.ID
			}
			if tt.paused {
				if err := st.SetPaused(t.Context(), channel, true, mon(0, 9, 1)); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()

			e := newEnv(t, tt.restart, withDir(dir))
			e.start()
			e.runUntil(mon(0, 14, 0))
			ps := e.rec.Posts()
			if tt.wantPostAt.IsZero() {
				if len(ps) != 0 {
					t.Errorf("posts = %q, want none", keys(ps))
				}
			} else {
				if len(ps) != 1 || ps[0].post.SlotKey != key || !ps[0].at.Equal(tt.wantPostAt) || ps[0].post.Late != tt.wantLate {
					t.Fatalf("posts = %+v, want one post of %s at %v, late=%t", ps, key, tt.wantPostAt, tt.wantLate)
				}
				if tt.wantSameQuiz && (ps[0].post.QuizID != crashedQuiz || ps[0].question != "eks-2") {
					t.Errorf("posted quiz %d (%s), want the crashed one's %d (eks-2)", ps[0].post.QuizID, ps[0].question, crashedQuiz)
				}
			}
			if got := e.slotState(key); got != tt.wantSlotState {
				t.Errorf("slot is %q, want %q", got, tt.wantSlotState)
			}
			// The crashed process may have posted its quiz before dying. If
			// the slot was settled instead, a click on that message is
			// answered "closed", not recorded for a quiz nobody reveals.
			if crashedQuiz != 0 {
				res, err := e.q.Answer(t.Context(), crashedQuiz, "U1", 1)
				if wantClosed := tt.wantSlotState != quiz.SlotPosted; err != nil || res.Closed != wantClosed {
					t.Errorf("Answer(crashed quiz) = %+v, %v; want Closed=%t", res, err, wantClosed)
				}
			}
		})
	}
}

func TestTwoSchedulersRaceForOneSlot(t *testing.T) {
	t.Parallel()
	for rep := range 50 {
		dir := t.TempDir()
		a := newEnv(t, mon(0, 9, 0), withDir(dir))
		b := newEnv(t, mon(0, 9, 0), withDir(dir))
		// Both wake at 09:00 on start, at the same moment, on separate
		// store handles.
		var stops []func()
		for _, e := range []*env{a, b} {
			stops = append(stops, e.run())
		}
		a.idle()
		b.idle()
		// The loser comes back at 09:05 (the lease), both at 09:30; still
		// one post.
		for _, e := range []*env{a, b} {
			e.runUntil(mon(0, 9, 30))
		}
		for _, stop := range stops {
			stop()
		}
		pa, pb := a.rec.Posts(), b.rec.Posts()
		if len(pa)+len(pb) != 1 {
			t.Fatalf("rep %d: posts = %q and %q, want one in all", rep, keys(pa), keys(pb))
		}
		a.st.Close()
		b.st.Close()
	}
}

func TestPanicInPostIsRecovered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	calls := 0
	post := e.pub.PostQuizFunc
	e.pub.PostQuizFunc = func(ctx context.Context, p quiz.Post, qu content.Question) (string, error) {
		calls++
		if calls == 1 {
			panic("slack client exploded")
		}
		return post(ctx, p, qu)
	}
	e.start()
	e.runUntil(mon(0, 10, 0))
	ps := e.rec.Posts()
	// The first attempt panicked at 09:00; the claim's lease ran out at
	// 09:05 and the retry posted. Shipmate was up at 09:00: not late.
	if calls != 2 || len(ps) != 1 || !ps[0].at.Equal(mon(0, 9, 5)) || ps[0].post.Late {
		t.Fatalf("calls = %d, posts = %+v; want 2 calls and one post at 09:05, not late", calls, ps)
	}
	if !strings.Contains(e.log.String(), "slack client exploded") {
		t.Errorf("the panic was not logged; logs:\n%s", e.log)
	}
	// Past grace, a publisher that always fails gives up: the slot is missed.
	f := newEnv(t, mon(0, 8, 0))
	f.pub.PostQuizFunc = func(context.Context, quiz.Post, content.Question) (string, error) {
		return "", fmt.Errorf("channel_not_found")
	}
	f.start()
	f.runUntil(mon(0, 14, 0))
	if got := f.slotState(channel + "@2025-06-02T09:00:00"); got != quiz.SlotMissed {
		t.Errorf("slot with a failing publisher is %q after grace, want missed", got)
	}
}

func TestEmptyBank(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.q.SetBank(nil)
	e.start()
	e.runUntil(mon(0, 10, 0))
	if ps := e.rec.Posts(); len(ps) != 0 {
		t.Errorf("posts = %q with an empty bank", keys(ps))
	}
	if got := e.slotState(channel + "@2025-06-02T09:00:00"); got != quiz.SlotMissed {
		t.Errorf("slot is %q, want missed", got)
	}
	if !strings.Contains(e.log.String(), "quiz bank is empty") {
		t.Errorf("empty bank not logged; logs:\n%s", e.log)
	}
}

func TestNoChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0), withConfig(func(c *quiz.Config) { c.Channel = "" }))
	e.start()
	e.runUntil(mon(1, 10, 0))
	if ps := e.rec.Posts(); len(ps) != 0 {
		t.Errorf("posts = %q without a channel", keys(ps))
	}
	if _, err := e.q.PostNow(t.Context(), admin); err != quiz.ErrNoChannel {
		t.Errorf("PostNow without a channel = %v, want ErrNoChannel", err)
	}
}

func TestGraceZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		start     time.Time
		wantPosts int
		wantState quiz.SlotState
	}{
		{"the timer fires 1 ms after the slot: posted on time", mon(0, 9, 0).Add(time.Millisecond), 1, quiz.SlotPosted},
		{"up 30 s after the slot: posted on time", mon(0, 9, 0).Add(30 * time.Second), 1, quiz.SlotPosted},
		{"up 2 minutes after the slot: missed, never posted late", mon(0, 9, 2), 0, quiz.SlotMissed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.start, withConfig(func(c *quiz.Config) { c.Grace = 0 }))
			e.start()
			e.runUntil(mon(0, 10, 0))
			ps := e.rec.Posts()
			if len(ps) != tt.wantPosts {
				t.Fatalf("posts = %q, want %d", keys(ps), tt.wantPosts)
			}
			if len(ps) == 1 && (ps[0].post.Late || !ps[0].at.Equal(tt.start)) {
				t.Errorf("post = %+v at %v, want on time at %v", ps[0].post, ps[0].at, tt.start)
			}
			if got := e.slotState(channel + "@2025-06-02T09:00:00"); got != tt.wantState {
				t.Errorf("slot is %q, want %q", got, tt.wantState)
			}
		})
	}
}

func TestLateMeansDownAtSlotTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		start      time.Time
		postFails  int // PostQuiz calls that fail first (a brief Slack outage)
		wantPostAt time.Time
		wantLate   bool
	}{
		{"up at 09:00, Slack failed, retried after the lease: not late", mon(0, 8, 0), 1, mon(0, 9, 5), false},
		{"up at 09:00, Slack failed twice: still not late", mon(0, 8, 0), 2, mon(0, 9, 10), false},
		{"started at 09:00:30: not late", mon(0, 9, 0).Add(30 * time.Second), 0, mon(0, 9, 0).Add(30 * time.Second), false},
		{"started at 09:05: late", mon(0, 9, 5), 0, mon(0, 9, 5), true},
		{"started at 09:05, Slack failed once: late", mon(0, 9, 5), 1, mon(0, 9, 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.start)
			var mu sync.Mutex
			fails := tt.postFails
			post := e.pub.PostQuizFunc
			e.pub.PostQuizFunc = func(ctx context.Context, p quiz.Post, qu content.Question) (string, error) {
				mu.Lock()
				fail := fails > 0
				fails--
				mu.Unlock()
				if fail {
					return "", errors.New("service_unavailable")
				}
				return post(ctx, p, qu)
			}
			e.start()
			e.runUntil(mon(0, 10, 0))
			ps := e.rec.Posts()
			if len(ps) != 1 || !ps[0].at.Equal(tt.wantPostAt) || ps[0].post.Late != tt.wantLate {
				t.Fatalf("posts = %+v, want one at %v with late=%t", ps, tt.wantPostAt, tt.wantLate)
			}
			r, err := e.st.Quiz(t.Context(), ps[0].post.QuizID)
			if err != nil || r.Late != tt.wantLate {
				t.Errorf("stored quiz late = %t (%v), want %t", r.Late, err, tt.wantLate)
			}
		})
	}
}

func TestPostRecordedAfterStoreError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fails int // MarkPosted calls that fail first
	}{
		{"MarkPosted fails once: retried at once", 1},
		{"MarkPosted fails past the retries: recorded by a later tick", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			fails, calls := tt.fails, 0
			e := newEnv(t, mon(0, 8, 0), withStore(func(st quiz.Store) quiz.Store {
				return &hookStore{Store: st, MarkPostedFunc: func(ctx context.Context, id int64, p quiz.Posting) error {
					mu.Lock()
					calls++
					fail := fails > 0
					fails--
					mu.Unlock()
					if fail {
						return errors.New("disk I/O error")
					}
					return st.MarkPosted(ctx, id, p)
				}}
			}))
			e.start()
			e.runUntil(mon(0, 12, 0))
			ps := e.rec.Posts()
			if len(ps) != 1 {
				t.Fatalf("posts = %q, want exactly one", keys(ps))
			}
			key := channel + "@2025-06-02T09:00:00"
			if got := e.slotState(key); got != quiz.SlotPosted {
				t.Errorf("slot is %q, want posted", got)
			}
			r, err := e.st.Quiz(t.Context(), ps[0].post.QuizID)
			if err != nil || r.MessageTS != "1700000000.000001" || !r.PostedAt.Equal(mon(0, 9, 0)) || !r.RevealAt.Equal(mon(0, 15, 0)) {
				t.Errorf("stored quiz = %+v, %v; want posted at 09:00 with the message's ts, reveal at 15:00", r, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != tt.fails+1 {
				t.Errorf("MarkPosted called %d times, want %d", calls, tt.fails+1)
			}
		})
	}
}

func TestPostNowRecordedAfterStoreError(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	fails := 6
	e := newEnv(t, mon(0, 8, 0), withStore(func(st quiz.Store) quiz.Store {
		return &hookStore{Store: st, MarkPostedFunc: func(ctx context.Context, id int64, p quiz.Posting) error {
			mu.Lock()
			fail := fails > 0
			fails--
			mu.Unlock()
			if fail {
				return errors.New("disk I/O error")
			}
			return st.MarkPosted(ctx, id, p)
		}}
	}))
	e.start()
	var p quiz.Post
	var err error
	// The message went out: PostNow says so although it is not recorded
	// yet, and Run records it.
	e.poked(func() { p, err = e.q.PostNow(t.Context(), admin) })
	if err != nil || p.MessageTS == "" {
		t.Fatalf("PostNow = %+v, %v; want the post", p, err)
	}
	e.runUntil(mon(0, 8, 10))
	if ps := e.rec.Posts(); len(ps) != 1 {
		t.Fatalf("posts = %q, want one", keys(ps))
	}
	if r, err := e.st.Quiz(t.Context(), p.QuizID); err != nil || r.MessageTS != p.MessageTS || !r.PostedAt.Equal(mon(0, 8, 0)) {
		t.Errorf("stored quiz = %+v, %v; want recorded as posted at 08:00", r, err)
	}
}

// TestClaimRenewedBeforePosting runs two schedulers on one store where the
// first is held up while it holds the slot's claim.
func TestClaimRenewedBeforePosting(t *testing.T) {
	t.Parallel()
	key := channel + "@2025-06-02T09:00:00"

	t.Run("A's post outlasts the old 2-minute lease: B does not post", func(t *testing.T) {
		t.Parallel()
		a := newEnv(t, mon(0, 9, 0))
		g := newGate()
		post := a.pub.PostQuizFunc
		a.pub.PostQuizFunc = func(ctx context.Context, p quiz.Post, qu content.Question) (string, error) {
			if err := g.hold(); err != nil {
				return "", err
			}
			return post(ctx, p, qu)
		}
		a.run()
		defer g.open()
		await(t, g.entered, "A to start posting")

		b := newEnv(t, mon(0, 9, 3), withDir(a.dir))
		b.start()
		b.runUntil(mon(0, 9, 4))
		if ps := b.rec.Posts(); len(ps) != 0 {
			t.Fatalf("B posted %q while A was posting", keys(ps))
		}
		g.open()
		a.idle()
		b.runUntil(mon(0, 9, 30))
		if pa, pb := a.rec.Posts(), b.rec.Posts(); len(pa) != 1 || len(pb) != 0 {
			t.Errorf("posts: A %q, B %q; want one, by A", keys(pa), keys(pb))
		}
	})

	t.Run("A is held up before posting past its lease: B takes over, A does not post", func(t *testing.T) {
		t.Parallel()
		// A poster crashed after choosing the 09:00 quiz, and an earlier
		// quiz is open, so whoever posts reveals it first.
		dir := t.TempDir()
		st, err := store.Open(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		earlier := quiz.Slot{Key: channel + "@manual@2025-06-02T08:00:00", Channel: channel, Due: mon(0, 8, 0), Manual: true}
		if _, won, err := st.ClaimSlot(t.Context(), earlier, "old", mon(0, 8, 0), mon(0, 8, 5)); err != nil || !won {
			t.Fatalf("ClaimSlot = %t, %v", won, err)
		}
		open, err := st.CreateQuiz(t.Context(), earlier.Key, "old", quiz.NewQuiz{Channel: channel, Question: q("ecs-1", "ecs"), Cycle: 1, CreatedAt: mon(0, 8, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MarkPosted(t.Context(), open.ID, quiz.Posting{MessageTS: "1.1", PostedAt: mon(0, 8, 0), RevealAt: mon(0, 14, 0)}); err != nil {
			t.Fatal(err)
		}
		slot := quiz.Slot{Key: key, Channel: channel, Due: mon(0, 9, 0)}
		if _, won, err := st.ClaimSlot(t.Context(), slot, "crashed", mon(0, 9, 0), mon(0, 9, 2)); err != nil || !won {
			t.Fatalf("ClaimSlot = %t, %v", won, err)
		}
		if _, err := st.CreateQuiz(t.Context(), key, "crashed", quiz.NewQuiz{Channel: channel, Question: q("eks-2", "eks"), Cycle: 1, CreatedAt: mon(0, 9, 0)}); err != nil {
			t.Fatal(err)
		}
		st.Close()

		// A takes the claim over at 09:03, and its reveal of the open
		// quiz hangs.
		a := newEnv(t, mon(0, 9, 3), withDir(dir))
		g := newGate()
		a.pub.RevealFunc = func(context.Context, quiz.Post, content.Question, []int, []string) error { return g.hold() }
		a.run()
		defer g.open()
		await(t, g.entered, "A to start revealing")

		// B comes at 09:10, after A's lease, and posts.
		b := newEnv(t, mon(0, 9, 10), withDir(dir))
		b.start()
		if pb := b.rec.Posts(); len(pb) != 1 || pb[0].question != "eks-2" {
			t.Fatalf("B posted %+v, want the crashed poster's eks-2", pb)
		}
		// A's reveal comes back: A must notice it lost the claim.
		g.open()
		a.idle()
		a.runUntil(mon(0, 9, 30))
		if pa := a.rec.Posts(); len(pa) != 0 {
			t.Errorf("A posted %q after B took its claim over", keys(pa))
		}
		if !strings.Contains(a.log.String(), "claim on slot lost before posting") {
			t.Errorf("A did not log the lost claim; logs:\n%s", a.log)
		}
	})
}
