package quiz_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shipmate/content"
	"shipmate/quiz"
	"shipmate/store"
)

// postedQuiz runs e until Monday's 09:00 quiz is posted and returns it.
func postedQuiz(t *testing.T, e *env) quiz.Post {
	t.Helper()
	e.runUntil(mon(0, 9, 0))
	ps := e.rec.Posts()
	if len(ps) != 1 {
		t.Fatalf("posts = %q, want Monday's", keys(ps))
	}
	return ps[0].post
}

// waitCount waits until an UpdateCount call reports want.
func waitCount(t *testing.T, counts <-chan int, want int) {
	t.Helper()
	ctx, cancel := waitCtx(t)
	defer cancel()
	for {
		select {
		case n := <-counts:
			if n == want {
				return
			}
			if n > want {
				t.Fatalf("UpdateCount(%d), want at most %d", n, want)
			}
		case <-ctx.Done():
			t.Fatalf("no UpdateCount(%d): %v", want, ctx.Err())
		}
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	p := postedQuiz(t, e)
	ctx := t.Context()

	tests := []struct {
		user   string
		choice int
		want   quiz.Result
	}{
		{"U1", 1, quiz.Result{QuizID: p.QuizID, Choice: 1, Correct: true, CorrectChoice: 1, Why: "bravo because", CorrectWhy: "bravo because"}},
		{"U2", 0, quiz.Result{QuizID: p.QuizID, Choice: 0, CorrectChoice: 1, Why: "why not alpha", CorrectWhy: "bravo because"}},
		// Second clicks: the first answer stands.
		{"U1", 2, quiz.Result{QuizID: p.QuizID, Choice: 1, Correct: true, CorrectChoice: 1, Why: "bravo because", CorrectWhy: "bravo because", Already: true}},
		{"U2", 1, quiz.Result{QuizID: p.QuizID, Choice: 0, CorrectChoice: 1, Why: "why not alpha", CorrectWhy: "bravo because", Already: true}},
	}
	for _, tt := range tests {
		got, err := e.answer(ctx, p.QuizID, tt.user, tt.choice)
		tt.want.Note = got.Note // checked below
		if err != nil || got != tt.want {
			t.Errorf("Answer(%s, %d) = %+v, %v; want %+v", tt.user, tt.choice, got, err, tt.want)
		}
		if !strings.HasPrefix(got.Note, "note-") {
			t.Errorf("Answer(%s, %d).Note = %q, want the question's note", tt.user, tt.choice, got.Note)
		}
	}
	waitCount(t, e.rec.counts, 2)

	if _, err := e.answer(ctx, p.QuizID, "U3", 3); !errors.Is(err, quiz.ErrBadChoice) {
		t.Errorf("Answer(choice 3) error = %v, want ErrBadChoice", err)
	}
	if _, err := e.answer(ctx, p.QuizID, "U3", -1); !errors.Is(err, quiz.ErrBadChoice) {
		t.Errorf("Answer(choice -1) error = %v, want ErrBadChoice", err)
	}
	if _, err := e.answer(ctx, 9999, "U3", 0); !errors.Is(err, quiz.ErrNotFound) {
		t.Errorf("Answer(unknown quiz) error = %v, want ErrNotFound", err)
	}
}

func TestConcurrentAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	p := postedQuiz(t, e)

	// 100 users, each clicking twice at once, with different choices.
	const users = 100
	results := make([][2]quiz.Result, users)
	var wg sync.WaitGroup
	for u := range users {
		for click := range 2 {
			wg.Go(func() {
				r, err := e.answer(t.Context(), p.QuizID, fmt.Sprintf("U%03d", u), (u+click)%3)
				if err != nil {
					t.Errorf("Answer(U%03d) error: %v", u, err)
				}
				results[u][click] = r
			})
		}
	}
	wg.Wait()
	for u, rs := range results {
		first, second := rs[0], rs[1]
		if first.Already {
			first, second = second, first
		}
		if first.Already || !second.Already || second.Choice != first.Choice {
			t.Errorf("U%03d: results %+v and %+v, want one recorded and one Already with the same choice", u, rs[0], rs[1])
		}
	}
	answers, err := e.st.Answers(t.Context(), p.QuizID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range answers {
		if seen[a.User] {
			t.Errorf("%s recorded twice", a.User)
		}
		seen[a.User] = true
	}
	if len(answers) != users {
		t.Errorf("recorded %d answers, want %d", len(answers), users)
	}
	// The live count ends at the right number, however updates coalesced.
	waitCount(t, e.rec.counts, users)
}

func TestReveal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	p := postedQuiz(t, e)
	ctx := t.Context()
	for i, a := range []struct {
		user   string
		choice int
	}{{"U4", 2}, {"U1", 1}, {"U2", 0}, {"U3", 1}, {"U5", 0}} {
		e.clk.Advance(time.Duration(i+1) * time.Second) // answer order is time order
		if _, err := e.answer(ctx, p.QuizID, a.user, a.choice); err != nil {
			t.Fatal(err)
		}
	}
	e.idle()
	waitCount(t, e.rec.counts, 5)
	e.runUntil(mon(0, 14, 59))
	if rs := e.rec.Reveals(); len(rs) != 0 {
		t.Fatalf("revealed before 15:00: %+v", rs)
	}
	e.runUntil(mon(0, 16, 0))
	rs := e.rec.Reveals()
	if len(rs) != 1 {
		t.Fatalf("reveals = %+v, want one", rs)
	}
	if got, want := fmt.Sprint(rs[0].counts, rs[0].winners), "[2 2 1] [U1 U3]"; got != want || rs[0].post.QuizID != p.QuizID {
		t.Errorf("Reveal(quiz %d) counts, winners = %s, want %s", rs[0].post.QuizID, got, want)
	}

	// After the reveal: a new click is returned, graded, and not scored;
	// an old answerer is told their answer.
	late, err := e.answer(ctx, p.QuizID, "U9", 1)
	if err != nil || !late.Closed || late.Already || !late.Correct || late.Choice != 1 {
		t.Errorf("Answer after reveal = %+v, %v; want Closed, correct, not Already", late, err)
	}
	old, err := e.answer(ctx, p.QuizID, "U2", 1)
	if err != nil || !old.Closed || !old.Already || old.Choice != 0 {
		t.Errorf("second click after reveal = %+v, %v; want Closed, Already, choice 0", old, err)
	}
	answers, _ := e.st.Answers(ctx, p.QuizID)
	if len(answers) != 5 {
		t.Errorf("%d answers stored after late clicks, want 5", len(answers))
	}

	// Revealed once: not again by RevealNow, nor by another process.
	if _, err := e.q.RevealNow(ctx, admin); !errors.Is(err, quiz.ErrNoOpenQuiz) {
		t.Errorf("RevealNow after the reveal = %v, want ErrNoOpenQuiz", err)
	}
	other := newEnv(t, mon(0, 16, 0), withDir(e.dir))
	other.start()
	other.runUntil(mon(0, 18, 0))
	if rs := append(e.rec.Reveals(), other.rec.Reveals()...); len(rs) != 1 {
		t.Errorf("reveals = %d, want 1", len(rs))
	}
}

func TestRevealWhenNextQuizIsPosted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0), withConfig(func(c *quiz.Config) { c.RevealAfter = 48 * time.Hour }))
	e.start()
	p := postedQuiz(t, e)
	if _, err := e.answer(t.Context(), p.QuizID, "U1", 1); err != nil {
		t.Fatal(err)
	}
	e.runUntil(mon(1, 9, 0))
	ps := e.rec.Posts()
	if len(ps) != 2 {
		t.Fatalf("posts = %q, want Monday's and Tuesday's", keys(ps))
	}
	want := fmt.Sprintf("post %s; reveal %d; post %s", ps[0].post.SlotKey, p.QuizID, ps[1].post.SlotKey)
	if got := e.rec.Events(); got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestRevealRetriedAfterFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		failures    int
		wantReveals int
		wantAt      time.Time
	}{
		{"two failures, then revealed 30 s apart", 2, 1, mon(0, 15, 1)},
		{"always failing: given up after 5 attempts", 1000, 0, mon(0, 15, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, mon(0, 8, 0))
			fail := tt.failures
			reveal := e.pub.ShowRevealFunc
			e.pub.ShowRevealFunc = func(ctx context.Context, p quiz.Post, qu content.Question, counts []int) error {
				if fail > 0 {
					fail--
					return errors.New("ratelimited")
				}
				return reveal(ctx, p, qu, counts)
			}
			e.start()
			p := postedQuiz(t, e)
			e.runUntil(mon(0, 16, 0))
			if rs := e.rec.Reveals(); len(rs) != tt.wantReveals {
				t.Errorf("reveals = %+v, want %d", rs, tt.wantReveals)
			}
			r, _ := e.st.Quiz(t.Context(), p.QuizID)
			if !r.RevealedAt.Equal(tt.wantAt) {
				t.Errorf("revealed at %v, want %v", r.RevealedAt, tt.wantAt)
			}
		})
	}
}

func TestAnswersSurviveRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	stop := e.start()
	p := postedQuiz(t, e)
	if _, err := e.answer(t.Context(), p.QuizID, "U1", 1); err != nil {
		t.Fatal(err)
	}
	stop()
	e.st.Close()

	// A new process, and a bank that no longer has the question.
	again := newEnv(t, mon(0, 10, 0), withDir(e.dir))
	again.q.SetBank([]content.Question{q("other", "ecs")})
	again.start()
	r, err := again.answer(t.Context(), p.QuizID, "U2", 2)
	if err != nil || r.Already || r.Correct || r.CorrectChoice != 1 || r.Why != "why not charlie" {
		t.Errorf("Answer on the old post after restart = %+v, %v", r, err)
	}
	r, err = again.answer(t.Context(), p.QuizID, "U1", 0)
	if err != nil || !r.Already || r.Choice != 1 {
		t.Errorf("second click on the old post after restart = %+v, %v; want Already with choice 1", r, err)
	}
	again.runUntil(mon(0, 16, 0))
	if rs := again.rec.Reveals(); len(rs) != 1 || fmt.Sprint(rs[0].counts, rs[0].winners) != "[0 1 1] [U1]" {
		t.Errorf("reveal after restart = %+v", rs)
	}
}

func TestAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	ctx := t.Context()
	calls := []struct {
		name string
		call func(user string) error
	}{
		{"PostNow", func(u string) error { _, err := e.q.PostNow(ctx, u); return err }},
		{"RevealNow", func(u string) error { _, err := e.q.RevealNow(ctx, u); return err }},
		{"Skip", func(u string) error { _, err := e.q.Skip(ctx, u); return err }},
		{"Pause", func(u string) error { return e.q.Pause(ctx, u) }},
		{"Resume", func(u string) error { return e.q.Resume(ctx, u) }},
	}
	for _, c := range calls {
		for _, u := range []string{"U0NOBODY", "", strings.ToLower(admin)} {
			if err := c.call(u); !errors.Is(err, quiz.ErrNotAdmin) {
				t.Errorf("%s(%q) = %v, want ErrNotAdmin", c.name, u, err)
			}
		}
	}
	for _, tt := range []struct {
		user string
		want bool
	}{{admin, true}, {"U0NOBODY", false}, {"", false}} {
		if got := e.q.IsAdmin(tt.user); got != tt.want {
			t.Errorf("IsAdmin(%q) = %t, want %t", tt.user, got, tt.want)
		}
	}
	if ps := e.rec.Posts(); len(ps) != 0 {
		t.Errorf("refused commands posted %q", keys(ps))
	}
}

func TestPostNow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0), withConfig(func(c *quiz.Config) { c.RevealAfter = 30 * time.Minute }))
	e.start()
	ctx := t.Context()
	var p, p2 quiz.Post
	var err error
	e.poked(func() { p, err = e.q.PostNow(ctx, admin) })
	if err != nil || p.QuizID == 0 || p.Late || p.MessageTS == "" || !strings.Contains(p.SlotKey, "manual") {
		t.Fatalf("PostNow = %+v, %v", p, err)
	}
	// The scheduler was woken and now sleeps until the manual quiz's reveal.
	if at, _ := e.clk.NextTimer(); !at.Equal(mon(0, 8, 30)) {
		t.Errorf("scheduler wakes at %v, want the reveal at 08:30", at)
	}
	if _, err := e.q.PostNow(ctx, admin); !errors.Is(err, quiz.ErrAlreadyPosted) {
		t.Errorf("PostNow again in the same second = %v, want ErrAlreadyPosted", err)
	}
	e.clk.Advance(time.Minute)
	e.poked(func() { p2, err = e.q.PostNow(ctx, admin) })
	if err != nil {
		t.Fatal(err)
	}
	// The schedule goes on as usual.
	e.runUntil(mon(0, 9, 0))
	want := fmt.Sprintf("post %s; reveal %d; post %s; reveal %d; post %s@2025-06-02T09:00:00", p.SlotKey, p.QuizID, p2.SlotKey, p2.QuizID, channel)
	if got := e.rec.Events(); got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	n, err := e.q.RevealNow(ctx, admin)
	if err != nil || n != 1 {
		t.Errorf("RevealNow = %d, %v; want 1", n, err)
	}
	if rs := e.rec.Reveals(); len(rs) != 3 {
		t.Errorf("reveals = %d, want 3", len(rs))
	}
}

func TestSkipAndPause(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, mon(0, 8, 0))
	e.start()

	s, err := e.q.Skip(ctx, admin)
	if err != nil || s.Key != channel+"@2025-06-02T09:00:00" || !s.Due.Equal(mon(0, 9, 0)) {
		t.Fatalf("Skip = %+v, %v; want Monday 09:00", s, err)
	}
	if s2, err := e.q.Skip(ctx, admin); err != nil || s2.Key != s.Key {
		t.Errorf("Skip again = %+v, %v; want the same slot", s2, err)
	}
	e.runUntil(mon(0, 12, 0))
	if ps := e.rec.Posts(); len(ps) != 0 {
		t.Fatalf("posted a skipped slot: %q", keys(ps))
	}
	if got := e.slotState(s.Key); got != quiz.SlotSkipped {
		t.Errorf("skipped slot is %q", got)
	}

	if err := e.q.Pause(ctx, admin); err != nil {
		t.Fatal(err)
	}
	// Pause is stored: a restarted process stays paused.
	again := newEnv(t, mon(0, 12, 0), withDir(e.dir))
	again.start()
	if paused, err := again.q.Paused(ctx); err != nil || !paused {
		t.Errorf("Paused() after restart = %t, %v", paused, err)
	}
	again.runUntil(mon(1, 12, 0))
	if got := again.slotState(channel + "@2025-06-03T09:00:00"); got != quiz.SlotSkipped {
		t.Errorf("Tuesday's slot while paused is %q, want skipped", got)
	}
	if err := again.q.Resume(ctx, admin); err != nil {
		t.Fatal(err)
	}
	again.runUntil(mon(2, 12, 0))
	if ps := append(e.rec.Posts(), again.rec.Posts()...); keys(ps) != channel+"@2025-06-04T09:00:00" {
		t.Errorf("posts = %q, want only Wednesday's, after Resume", keys(ps))
	}
}

func TestPractice(t *testing.T) {
	t.Parallel()
	// Two identical processes; one practises a lot. Their scheduled picks
	// must not differ.
	plain := newEnv(t, mon(0, 8, 0))
	practised := newEnv(t, mon(0, 8, 0))
	bank := map[string]bool{}
	for _, qu := range testBank() {
		bank[qu.ID] = true
	}
	for i := range 20 {
		qu := practised.q.Practice("U1")
		if !bank[qu.ID] {
			t.Fatalf("Practice = %q, not in the bank", qu.ID)
		}
		r, err := practised.q.PracticeAnswer(qu.ID, i%3)
		if err != nil || r.Correct != (i%3 == 1) || r.Already || r.Closed {
			t.Errorf("PracticeAnswer(%s, %d) = %+v, %v", qu.ID, i%3, r, err)
		}
	}
	if _, err := practised.q.PracticeAnswer("gone", 0); !errors.Is(err, quiz.ErrNotFound) {
		t.Errorf("PracticeAnswer(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := practised.q.PracticeAnswer("ecs-1", 7); !errors.Is(err, quiz.ErrBadChoice) {
		t.Errorf("PracticeAnswer(bad choice) = %v, want ErrBadChoice", err)
	}
	for _, e := range []*env{plain, practised} {
		e.start()
		e.runUntil(mon(4, 10, 0))
	}
	var a, b []string
	for _, p := range plain.rec.Posts() {
		a = append(a, p.question)
	}
	for _, p := range practised.rec.Posts() {
		b = append(b, p.question)
	}
	if len(a) != 5 || !slices.Equal(a, b) {
		t.Errorf("scheduled questions %v with practice, %v without; want the same five", b, a)
	}
	if sc, _ := practised.q.Leaderboard(t.Context(), quiz.All, mon(4, 10, 0)); len(sc) != 0 {
		t.Errorf("practice scored: %+v", sc)
	}
	empty := newEnv(t, mon(0, 8, 0))
	empty.q.SetBank(nil)
	if qu := empty.q.Practice("U1"); qu.ID != "" {
		t.Errorf("Practice with an empty bank = %q", qu.ID)
	}
}

func TestRotationThroughStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	e.runUntil(mon(8, 10, 0)) // 7 weekdays: 6 use up the bank, the 7th starts a new cycle
	ps := e.rec.Posts()
	if len(ps) != 7 {
		t.Fatalf("posts = %d, want 7", len(ps))
	}
	seen := map[string]bool{}
	for _, p := range ps[:6] {
		if seen[p.question] {
			t.Errorf("%s repeated within the cycle: %+v", p.question, ps)
		}
		seen[p.question] = true
	}
	// Three topics of two questions: the least-asked topic goes first, so
	// the first three posts cover all three topics.
	topics := map[string]bool{}
	for _, p := range ps[:3] {
		topic, _, _ := strings.Cut(p.question, "-")
		topics[topic] = true
	}
	if len(topics) != 3 {
		t.Errorf("first three posts cover topics %v, want all three", topics)
	}
	stored, err := e.st.Quizzes(t.Context(), channel)
	if err != nil || len(stored) != 7 || stored[5].Cycle != 1 || stored[6].Cycle != 2 {
		t.Errorf("stored quizzes = %d (%v), want 7 with the last in cycle 2", len(stored), err)
	}

	// The team gets Monday's question mostly wrong (1 of 4 right): it comes
	// back three days later, on Thursday, as a review.
	e2 := newEnv(t, mon(0, 8, 0))
	e2.start()
	p := postedQuiz(t, e2)
	for i, c := range []int{0, 0, 2, 1} {
		if _, err := e2.answer(t.Context(), p.QuizID, fmt.Sprint("U", i), c); err != nil {
			t.Fatal(err)
		}
	}
	e2.runUntil(mon(3, 10, 0))
	ps = e2.rec.Posts()
	if len(ps) != 4 || !ps[3].post.Review || ps[3].question != ps[0].question {
		t.Errorf("Thursday's post = %+v, want a review of Monday's %s", ps[len(ps)-1], ps[0].question)
	}
}

func TestLeaderboardAndStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mon(0, 8, 0))
	e.start()
	ctx := t.Context()
	// Mon..Wed; U1 always right, U2 wrong on Tuesday, U3 only Wednesday.
	answers := [][]struct {
		user   string
		choice int
	}{
		{{"U1", 1}, {"U2", 1}},
		{{"U1", 1}, {"U2", 0}},
		{{"U1", 1}, {"U2", 1}, {"U3", 1}},
	}
	for d, day := range answers {
		e.runUntil(mon(d, 9, 0))
		ps := e.rec.Posts()
		for _, a := range day {
			if _, err := e.answer(ctx, ps[len(ps)-1].post.QuizID, a.user, a.choice); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := mon(2, 10, 0)
	rows, err := e.q.Leaderboard(ctx, quiz.Week, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %d/%d %.2f streak %d", r.User, r.Points, r.Answered, r.Accuracy, r.Streak))
	}
	want := "U1 3/3 1.00 streak 3, U2 2/3 0.67 streak 1, U3 1/1 1.00 streak 1"
	if strings.Join(got, ", ") != want {
		t.Errorf("Leaderboard(Week) = %q, want %q", strings.Join(got, ", "), want)
	}
	st, err := e.q.Stats(ctx, "U2", now)
	if err != nil {
		t.Fatal(err)
	}
	if st.All.Points != 2 || st.Week.Answered != 3 || st.Month.Correct != 2 || st.BestStreak != 1 || st.All.Streak != 1 || st.Rank != 2 {
		t.Errorf("Stats(U2) = %+v", st)
	}
	if st, _ := e.q.Stats(ctx, "U0NEVER", now); st.Rank != 0 || st.All.Answered != 0 {
		t.Errorf("Stats(never answered) = %+v", st)
	}
	// Nothing is reset: next month, last month's points are still there for All.
	if rows, _ := e.q.Leaderboard(ctx, quiz.Month, time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)); len(rows) != 0 {
		t.Errorf("July leaderboard = %+v, want empty", rows)
	}
	if rows, _ := e.q.Leaderboard(ctx, quiz.All, time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)); len(rows) != 3 || rows[0].Points != 3 {
		t.Errorf("All-time leaderboard in July = %+v", rows)
	}
}

const (
	killHelperEnv = "SHIPMATE_QUIZ_KILL_HELPER_DIR"
	killQuizEnv   = "SHIPMATE_QUIZ_KILL_HELPER_QUIZ"
)

// TestKillHelper is the child process of TestKillMidBurstLosesNoAnswer:
// it answers in a loop and prints each answer once Answer has returned.
func TestKillHelper(t *testing.T) {
	dir := os.Getenv(killHelperEnv)
	if dir == "" {
		t.Skip("helper process for TestKillMidBurstLosesNoAnswer")
	}
	id, err := strconv.ParseInt(os.Getenv(killQuizEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	qz := quiz.New(quiz.Config{Channel: channel}, st, &fakePublisher{}, nil, quiz.Options{})
	click := clickOn(t, st, id, "", 0)
	for i := 0; ; i++ {
		click.User, click.Choice = fmt.Sprintf("U%07d", i), i%3
		user := click.User
		if _, err := qz.Answer(ctx, click); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("answered", user) // unbuffered: written before the next answer starts
	}
}

func TestKillMidBurstLosesNoAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, time.Now().Truncate(time.Second), withConfig(func(c *quiz.Config) { c.RevealAfter = 24 * time.Hour }))
	stop := e.start()
	p, err := e.q.PostNow(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	e.st.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+e.dir, killQuizEnv+"="+strconv.FormatInt(p.QuizID, 10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var confirmed []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		user, ok := strings.CutPrefix(sc.Text(), "answered ")
		if !ok {
			t.Logf("helper: %s", sc.Text())
			continue
		}
		confirmed = append(confirmed, user)
		if len(confirmed) == 150 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
	}
	if len(confirmed) < 150 {
		t.Fatalf("helper confirmed only %d answers", len(confirmed))
	}

	st, err := store.Open(t.Context(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	answers, err := st.Answers(t.Context(), p.QuizID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, a := range answers {
		stored[a.User] = true
	}
	for _, u := range confirmed {
		if !stored[u] {
			t.Errorf("confirmed answer of %s lost", u)
		}
	}
	// At most the one in flight when the kill landed is stored unconfirmed.
	if len(answers) > len(confirmed)+1 {
		t.Errorf("stored %d answers, confirmed %d", len(answers), len(confirmed))
	}
}

func TestCountUpdateSkippedOnceClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// now is A's clock at the update; the reveal is due at 08:30.
		now time.Time
		// other is what another process does first.
		other     func(t *testing.T, other *env, quizID int64)
		wantCount bool
	}{
		{"open", mon(0, 8, 10), nil, true},
		{"the reveal is due, another process is about to make it", mon(0, 8, 30), nil, false},
		{"another process started the reveal", mon(0, 8, 10), func(t *testing.T, o *env, id int64) {
			if _, err := o.st.CloseQuiz(t.Context(), id, term(t, o.st).Epoch(), mon(0, 8, 10)); err != nil {
				t.Fatalf("CloseQuiz = %v", err)
			}
		}, false},
		{"another process revealed it", mon(0, 8, 10), func(t *testing.T, o *env, id int64) {
			if err := o.st.MarkRevealed(t.Context(), id, "1.2", mon(0, 8, 10)); err != nil {
				t.Fatalf("MarkRevealed = %v", err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newEnv(t, mon(0, 8, 0), withConfig(func(c *quiz.Config) { c.RevealAfter = 30 * time.Minute }))
			stop := a.start()
			p, err := a.q.PostNow(t.Context(), admin)
			if err != nil {
				t.Fatal(err)
			}
			stop() // the count is updated by hand below
			a.clk.Set(mon(0, 8, 5))
			if _, err := a.answer(t.Context(), p.QuizID, "U1", 1); err != nil {
				t.Fatal(err)
			}
			if tt.other != nil {
				tt.other(t, newEnv(t, mon(0, 8, 10), withDir(a.dir)), p.QuizID)
			}
			a.clk.Set(tt.now)
			if err := a.q.UpdateCountForTest(t.Context(), p.QuizID); err != nil {
				t.Fatal(err)
			}
			if got := len(a.rec.counts) == 1; got != tt.wantCount {
				t.Errorf("UpdateCount called %d times, want a call: %t", len(a.rec.counts), tt.wantCount)
			}
		})
	}
}

func TestPostNowDoubleSubmit(t *testing.T) {
	t.Parallel()
	first := mon(0, 8, 0).Add(900 * time.Millisecond)
	tests := []struct {
		name      string
		gap       time.Duration // between the two submits
		firstFail bool          // the first post fails in Slack
		wantErr   error
	}{
		{"same second", 50 * time.Millisecond, false, quiz.ErrAlreadyPosted},
		{"straddling a second boundary", 200 * time.Millisecond, false, quiz.ErrAlreadyPosted},
		{"9 s later", 9 * time.Second, false, quiz.ErrAlreadyPosted},
		{"10 s later", 10 * time.Second, false, nil},
		{"a minute later", time.Minute, false, nil},
		{"right after a failed post, which is retried", time.Second, true, quiz.ErrAlreadyPosted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, first)
			e.start()
			if tt.firstFail {
				post, failed := e.pub.PostQuizFunc, false
				e.pub.PostQuizFunc = func(ctx context.Context, p quiz.Post, qu content.Question) (string, error) {
					if !failed {
						failed = true
						return "", errors.New("channel_not_found")
					}
					return post(ctx, p, qu)
				}
			}
			if _, err := e.q.PostNow(t.Context(), admin); (err != nil) != tt.firstFail || (err != nil && !errors.Is(err, quiz.ErrNotPosted)) {
				t.Fatalf("first PostNow error = %v, want failure %t", err, tt.firstFail)
			}
			e.clk.Advance(tt.gap)
			_, err := e.q.PostNow(t.Context(), admin)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("second PostNow %v later = %v, want %v", tt.gap, err, tt.wantErr)
			}
			wantPosts := 2
			if tt.wantErr != nil {
				wantPosts = 1
			}
			// A failed post is looked for and made again 15 s later.
			e.runUntil(first.Add(tt.gap + time.Minute))
			if ps := e.rec.Posts(); len(ps) != wantPosts {
				t.Errorf("posts = %q, want %d", keys(ps), wantPosts)
			}
		})
	}

	t.Run("two processes at once, either side of a second boundary", func(t *testing.T) {
		t.Parallel()
		for rep := range 5 {
			a := newEnv(t, first)
			b := newEnv(t, first.Add(200*time.Millisecond), withDir(a.dir))
			a.start()
			b.run() // stands by for the scheduler lock
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, e := range []*env{a, b} {
				wg.Go(func() { _, errs[i] = e.q.PostNow(t.Context(), admin) })
			}
			wg.Wait()
			ok, refused := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, quiz.ErrAlreadyPosted):
					refused++
				default:
					t.Fatalf("rep %d: PostNow = %v", rep, err)
				}
			}
			if ok != 1 || refused != 1 || len(a.rec.Posts())+len(b.rec.Posts()) != 1 {
				t.Fatalf("rep %d: PostNow results %v, posts %d + %d; want one post and one ErrAlreadyPosted", rep, errs, len(a.rec.Posts()), len(b.rec.Posts()))
			}
		}
	})
}

// TestMetricsAndClicksOnOtherMessages: the counters move with what the
// quiz does, and a click counts only on the quiz message itself.
func TestMetricsAndClicksOnOtherMessages(t *testing.T) {
	t.Parallel()
	m := &countMetrics{}
	e := newEnv(t, mon(0, 8, 0), withMetrics(m))
	e.start()
	p := postedQuiz(t, e)
	ctx := t.Context()
	for _, c := range []quiz.Click{
		{QuizID: p.QuizID, User: "U1", Choice: 1, Channel: "C0OTHER", MessageTS: p.MessageTS},
		{QuizID: p.QuizID, User: "U1", Choice: 1, Channel: channel, MessageTS: "1700000099.000009"},
	} {
		if _, err := e.q.Answer(ctx, c); !errors.Is(err, quiz.ErrWrongMessage) {
			t.Errorf("Answer(%+v) = %v, want ErrWrongMessage", c, err)
		}
	}
	if _, err := e.answer(ctx, p.QuizID, "U1", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.answer(ctx, p.QuizID, "U1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.answer(ctx, p.QuizID, "U2", 0); err != nil {
		t.Fatal(err)
	}
	e.runUntil(mon(0, 16, 0))
	for k, want := range map[string]int{"posted": 1, "revealed": 1, "answered correct": 1, "answered wrong": 1, "answered repeat": 1, "answered rejected": 2} {
		if got := m.get(k); got != want {
			t.Errorf("metric %q = %d, want %d", k, got, want)
		}
	}
	if answers, _ := e.st.Answers(ctx, p.QuizID); len(answers) != 2 {
		t.Errorf("%d answers stored, want 2: clicks elsewhere must not count", len(answers))
	}
}
