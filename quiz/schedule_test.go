package quiz_test

import (
	"context"
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
		chosen        bool // the crashed process had created the quiz
		restart       time.Time
		wantPostAt    time.Time // zero: no post
		wantSameQuiz  bool
		wantSlotState quiz.SlotState
	}{
		{"crashed after choosing, back within the lease: waits for the lease, posts the same quiz", true, mon(0, 9, 1), mon(0, 9, 2), true, quiz.SlotPosted},
		{"crashed after claiming, back later within grace: posts at once", false, mon(0, 10, 0), mon(0, 10, 0), false, quiz.SlotPosted},
		{"crashed after choosing, back past grace: recorded as missed", true, mon(0, 12, 0), time.Time{}, false, quiz.SlotMissed},
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
				if len(ps) != 1 || ps[0].post.SlotKey != key || !ps[0].at.Equal(tt.wantPostAt) || !ps[0].post.Late {
					t.Fatalf("posts = %+v, want one late post of %s at %v", ps, key, tt.wantPostAt)
				}
				if tt.wantSameQuiz && (ps[0].post.QuizID != crashedQuiz || ps[0].question != "eks-2") {
					t.Errorf("posted quiz %d (%s), want the crashed one's %d (eks-2)", ps[0].post.QuizID, ps[0].question, crashedQuiz)
				}
			}
			if got := e.slotState(key); got != tt.wantSlotState {
				t.Errorf("slot is %q, want %q", got, tt.wantSlotState)
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
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, e := range []*env{a, b} {
			wg.Go(func() {
				<-gate
				if err := e.q.Run(ctx); err != nil {
					t.Errorf("Run() = %v", err)
				}
			})
		}
		close(gate)
		a.idle()
		b.idle()
		// Both come back at 09:02 (the lease) and 09:30; still one post.
		for _, e := range []*env{a, b} {
			e.runUntil(mon(0, 9, 30))
		}
		cancel()
		wg.Wait()
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
	// 09:02 and the retry posted, late.
	if calls != 2 || len(ps) != 1 || !ps[0].at.Equal(mon(0, 9, 2)) || !ps[0].post.Late {
		t.Fatalf("calls = %d, posts = %+v; want 2 calls and one late post at 09:02", calls, ps)
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
