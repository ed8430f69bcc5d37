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

// crashed is what a scheduler that died left in the store and in Slack.
type crashed struct {
	chosen  bool // it had chosen the quiz (the slot is claimed with it)
	tried   bool // it had begun posting it (the intent is recorded)
	inSlack bool // the post reached Slack before it died
	paused  bool // the quiz was paused meanwhile
}

// crash makes the store in dir look as if a scheduler died at 09:00:00 in
// the middle of posting Monday's slot with question eks-2, and returns the
// quiz it chose (0 if none) and the message it posted ("" if none).
func crash(t *testing.T, dir string, c crashed) (quizID int64, ts string) {
	t.Helper()
	st, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tm := term(t, st)
	defer tm.Release()
	slot := quiz.Slot{Key: channel + "@2025-06-02T09:00:00", Channel: channel, Due: mon(0, 9, 0)}
	if c.chosen {
		r, won, err := st.ClaimSlot(t.Context(), slot, quiz.NewQuiz{Channel: channel, Question: q("eks-2", "eks"), Cycle: 1, CreatedAt: mon(0, 9, 0)}, tm.Epoch())
		if err != nil || !won {
			t.Fatalf("ClaimSlot = %t, %v", won, err)
		}
		quizID = r.ID
	}
	if c.tried {
		if err := st.StartPost(t.Context(), quizID, tm.Epoch(), mon(0, 9, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if c.inSlack {
		ts = "1699999999.000001"
	}
	if c.paused {
		if err := st.SetPaused(t.Context(), channel, true, mon(0, 9, 1)); err != nil {
			t.Fatal(err)
		}
	}
	return quizID, ts
}

// TestCrashRecovery starts a scheduler on what a scheduler that died while
// posting left behind: it never posts twice, posts what never went out,
// and leaves no message in Slack that records clicks for nothing.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	key := channel + "@2025-06-02T09:00:00"
	tests := []struct {
		name          string
		crashed       crashed
		restart       time.Time
		wantPostAt    time.Time // zero: no post
		wantLate      bool
		wantSlotState quiz.SlotState
		wantAnswer    string // a click on the crashed quiz: "recorded" or "closed"
	}{
		{"died after choosing, back 2 s later: posts the same quiz at once, on time",
			crashed{chosen: true}, mon(0, 9, 0).Add(2 * time.Second), mon(0, 9, 0).Add(2 * time.Second), false, quiz.SlotPosted, "recorded"},
		{"died while the post was in flight and it reached Slack: found there, not posted again",
			crashed{chosen: true, tried: true, inSlack: true}, mon(0, 9, 0).Add(2 * time.Second), time.Time{}, false, quiz.SlotPosted, "recorded"},
		{"died while the post was in flight and it never reached Slack: posted 15 s after the attempt",
			crashed{chosen: true, tried: true}, mon(0, 9, 0).Add(2 * time.Second), mon(0, 9, 0).Add(15 * time.Second), false, quiz.SlotPosted, "recorded"},
		{"died in flight, back at 10:00: found in Slack, recorded, not posted again",
			crashed{chosen: true, tried: true, inSlack: true}, mon(0, 10, 0), time.Time{}, false, quiz.SlotPosted, "recorded"},
		{"died in flight, never reached Slack, back past grace: missed",
			crashed{chosen: true, tried: true}, mon(0, 12, 0), time.Time{}, false, quiz.SlotMissed, "closed"},
		{"died after choosing, back past grace: missed",
			crashed{chosen: true}, mon(0, 12, 0), time.Time{}, false, quiz.SlotMissed, "closed"},
		{"died after choosing, paused meanwhile: skipped",
			crashed{chosen: true, paused: true}, mon(0, 10, 0), time.Time{}, false, quiz.SlotSkipped, "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			crashedQuiz, ts := crash(t, dir, tt.crashed)
			e := newEnv(t, tt.restart, withDir(dir))
			if ts != "" {
				e.rec.inSlack[crashedQuiz] = ts
			}
			e.start()
			e.runUntil(tt.restart.Add(time.Minute))
			ps := e.rec.Posts()
			if tt.wantPostAt.IsZero() {
				if len(ps) != 0 {
					t.Errorf("posts = %q, want none", keys(ps))
				}
			} else {
				if len(ps) != 1 || ps[0].post.SlotKey != key || !ps[0].at.Equal(tt.wantPostAt) || ps[0].post.Late != tt.wantLate {
					t.Fatalf("posts = %+v, want one post of %s at %v, late=%t", ps, key, tt.wantPostAt, tt.wantLate)
				}
				if ps[0].post.QuizID != crashedQuiz || ps[0].question != "eks-2" {
					t.Errorf("posted quiz %d (%s), want the crashed one's %d (eks-2)", ps[0].post.QuizID, ps[0].question, crashedQuiz)
				}
			}
			if got := e.slotState(key); got != tt.wantSlotState {
				t.Errorf("slot is %q, want %q", got, tt.wantSlotState)
			}
			r, err := e.st.Quiz(t.Context(), crashedQuiz)
			if err != nil {
				t.Fatal(err)
			}
			if ts != "" && r.MessageTS != ts {
				t.Errorf("the quiz's message is %q, want the one found in Slack, %q", r.MessageTS, ts)
			}
			res, err := e.q.Answer(t.Context(), quiz.Click{QuizID: crashedQuiz, User: "U1", Choice: 1, Channel: channel, MessageTS: r.MessageTS})
			got := "recorded"
			if res.Closed {
				got = "closed"
			}
			if err != nil || got != tt.wantAnswer {
				t.Errorf("click on the crashed quiz = %+v, %v; want %s", res, err, tt.wantAnswer)
			}
			// It is revealed once, at its time, if it was posted.
			e.runUntil(mon(0, 18, 0))
			wantReveals := 0
			if tt.wantSlotState == quiz.SlotPosted {
				wantReveals = 1
			}
			e.rec.mu.Lock()
			results := e.rec.resultPosts
			e.rec.mu.Unlock()
			if rs := e.rec.Reveals(); len(rs) != wantReveals || results != wantReveals {
				t.Errorf("reveals = %+v (result lines %d), want %d", rs, results, wantReveals)
			}
			if tt.crashed.paused {
				return
			}
			// Monday's question, posted or perhaps posted, is not Tuesday's.
			e.runUntil(mon(1, 9, 1))
			if ps := e.rec.Posts(); len(ps) == 0 || ps[len(ps)-1].question == "eks-2" {
				t.Errorf("Tuesday's post = %+v, want one with another question than eks-2", ps)
			}
		})
	}
}

// TestCrashWithoutHistory: when Slack will not show the channel's history
// (no history scope), a post whose outcome is unknown is given up, not
// posted again, and clicks on it are answered "closed".
func TestCrashWithoutHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	id, _ := crash(t, dir, crashed{chosen: true, tried: true})
	e := newEnv(t, mon(0, 9, 0).Add(2*time.Second), withDir(dir))
	e.pub.FindQuizFunc = func(context.Context, quiz.Post, time.Time) (string, bool, error) {
		return "", false, fmt.Errorf("conversations.history: missing_scope: %w", quiz.ErrCannotLook)
	}
	e.start()
	e.runUntil(mon(0, 10, 0))
	if ps := e.rec.Posts(); len(ps) != 0 {
		t.Errorf("posts = %q, want none: the first may be in Slack", keys(ps))
	}
	if got := e.slotState(channel + "@2025-06-02T09:00:00"); got != quiz.SlotMissed {
		t.Errorf("slot is %q, want missed", got)
	}
	res, err := e.q.Answer(t.Context(), quiz.Click{QuizID: id, User: "U1", Choice: 1, Channel: channel, MessageTS: "1699999999.000001"})
	if err != nil || !res.Closed {
		t.Errorf("click on the stray message = %+v, %v; want closed", res, err)
	}
	if !strings.Contains(e.log.String(), "cannot tell whether a quiz was posted") {
		t.Errorf("the give-up was not logged:\n%s", e.log)
	}
}

// TestCrashDuringReveal resumes a reveal a scheduler died in the middle of:
// the message is shown once more (harmless), and the result line is posted
// exactly once.
func TestCrashDuringReveal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		shown       bool // the answer was shown on the message (recorded)
		resultLine  bool // and the result line reached Slack
		wantShows   int
		wantResults int
	}{
		{"died after closing, before showing: shown and congratulated", false, false, 1, 1},
		{"died after showing: the result line is posted", true, false, 0, 1},
		{"died after the result line, before recording it: found, not posted again", true, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first := newEnv(t, mon(0, 8, 0))
			stop := first.start()
			p := postedQuiz(t, first)
			if _, err := first.answer(t.Context(), p.QuizID, "U1", 1); err != nil {
				t.Fatal(err)
			}
			stop()
			tm := term(t, first.st)
			if _, err := first.st.CloseQuiz(t.Context(), p.QuizID, tm.Epoch(), mon(0, 10, 0)); err != nil {
				t.Fatal(err)
			}
			if tt.shown {
				if err := first.st.MarkRevealShown(t.Context(), p.QuizID, mon(0, 10, 0)); err != nil {
					t.Fatal(err)
				}
			}
			tm.Release()

			// Back at 10:00:01, long before the 15:00 reveal time.
			e := newEnv(t, mon(0, 10, 0).Add(time.Second), withDir(first.dir))
			if tt.resultLine {
				e.rec.results[p.QuizID] = "1700000000.999999"
			}
			e.start()
			r, _ := e.st.Quiz(t.Context(), p.QuizID)
			if r.RevealedAt.IsZero() {
				t.Fatalf("the interrupted reveal was not resumed at start-up")
			}
			if rs := e.rec.Reveals(); len(rs) != tt.wantShows {
				t.Errorf("shown %d times, want %d", len(rs), tt.wantShows)
			}
			e.rec.mu.Lock()
			results := e.rec.resultPosts
			e.rec.mu.Unlock()
			if results != tt.wantResults {
				t.Errorf("result lines posted = %d, want %d (events %q)", results, tt.wantResults, e.rec.Events())
			}
			if r.ResultTS == "" {
				t.Errorf("the result line's ts is not recorded")
			}
		})
	}
}

// TestStandbyTakesOver runs two schedulers on one store: the second waits
// for the lock, takes over when the first stops, and nothing is posted
// twice.
func TestStandbyTakesOver(t *testing.T) {
	t.Parallel()
	a := newEnv(t, mon(0, 8, 0))
	b := newEnv(t, mon(0, 8, 0), withDir(a.dir))
	stopA := a.start()
	b.run() // blocks on the lock
	a.runUntil(mon(0, 9, 30))
	if ps := b.rec.Posts(); len(ps) != 0 {
		t.Fatalf("the standby posted %q", keys(ps))
	}
	stopA()
	b.clk.Set(mon(0, 9, 30))
	b.idle() // took the lock over and went to sleep
	b.runUntil(mon(1, 9, 30))
	pa, pb := a.rec.Posts(), b.rec.Posts()
	if keys(pa) != channel+"@2025-06-02T09:00:00" || keys(pb) != channel+"@2025-06-03T09:00:00" {
		t.Errorf("posts: A %q, B %q; want Monday's by A and Tuesday's by B", keys(pa), keys(pb))
	}
	if rs := b.rec.Reveals(); len(rs) != 1 || rs[0].post.QuizID != pa[0].post.QuizID {
		t.Errorf("B's reveals = %+v, want Monday's quiz", rs)
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
	// The first attempt panicked at 09:00; it was not in Slack, so it was
	// posted again 15 s later. Shipmate was up at 09:00: not late.
	if calls != 2 || len(ps) != 1 || !ps[0].at.Equal(mon(0, 9, 0).Add(15*time.Second)) || ps[0].post.Late {
		t.Fatalf("calls = %d, posts = %+v; want 2 calls and one post at 09:00:15, not late", calls, ps)
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
	stop := e.run()
	if _, err := e.q.PostNow(t.Context(), admin); err != quiz.ErrNoChannel {
		t.Errorf("PostNow without a channel = %v, want ErrNoChannel", err)
	}
	stop() // returns although it had nothing to do
	if ps := e.rec.Posts(); len(ps) != 0 {
		t.Errorf("posts = %q without a channel", keys(ps))
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
		{"up at 09:00, Slack failed, retried 15 s later: not late", mon(0, 8, 0), 1, mon(0, 9, 0).Add(15 * time.Second), false},
		{"up at 09:00, Slack failed twice, backed off: still not late", mon(0, 8, 0), 2, mon(0, 9, 0).Add(45 * time.Second), false},
		{"started at 09:00:30: not late", mon(0, 9, 0).Add(30 * time.Second), 0, mon(0, 9, 0).Add(30 * time.Second), false},
		{"started at 09:05: late", mon(0, 9, 5), 0, mon(0, 9, 5), true},
		{"started at 09:05, Slack failed once: late", mon(0, 9, 5), 1, mon(0, 9, 5).Add(15 * time.Second), true},
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

// TestRejectedPostBacksOff: a post Slack keeps refusing (the bot was
// removed from the channel, say) is tried again after 15 s, then 30 s,
// 1 min and so on up to 10 minutes apart, not every few seconds, and the
// slot is given up once past its grace.
func TestRejectedPostBacksOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 59))
	var mu sync.Mutex
	var tries []time.Time
	e.pub.PostQuizFunc = func(ctx context.Context, p quiz.Post, qu content.Question) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		tries = append(tries, e.clk.Now())
		return "", errors.New("not_in_channel")
	}
	e.start()
	e.runUntil(mon(0, 12, 0))
	mu.Lock()
	defer mu.Unlock()
	if len(tries) < 5 || len(tries) > 25 {
		t.Fatalf("%d attempts in 3 hours, want a handful, backing off", len(tries))
	}
	want := 15 * time.Second
	for i := 1; i < len(tries); i++ {
		gap := tries[i].Sub(tries[i-1])
		if gap < want {
			t.Errorf("attempt %d came %v after the one before, want at least %v", i+1, gap, want)
		}
		want = min(2*want, 10*time.Minute)
	}
	if last := tries[len(tries)-1]; last.After(mon(0, 11, 0).Add(time.Minute)) {
		t.Errorf("last attempt at %v, want none after the slot's 2 h grace", last)
	}
	if got := e.slotState("C0QUIZ@2025-06-02T09:00:00"); got == quiz.SlotClaimed {
		t.Errorf("slot still claimed after its grace, want it given up")
	}
	t.Logf("%d attempts, from %v to %v", len(tries), tries[0].Format("15:04:05"), tries[len(tries)-1].Format("15:04:05"))
}
