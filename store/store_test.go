package store

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
)

func question(id string) content.Question {
	return content.Question{
		ID: id, Topic: "ecs", Difficulty: "easy", Question: "Q " + id + "?", Note: "note-" + id,
		Choices: []content.Choice{{Text: "A", Why: "a"}, {Text: "B", Correct: true, Why: "b"}},
	}
}

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func openT(t *testing.T, dir string) *SQLite {
	t.Helper()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postQuiz claims a slot, creates a quiz and marks it posted at t0.
func postQuiz(t *testing.T, s *SQLite, key string) quiz.QuizRecord {
	t.Helper()
	ctx := t.Context()
	sl := quiz.Slot{Key: key, Channel: "C1", Due: t0}
	if _, won, err := s.ClaimSlot(ctx, sl, "me", t0, t0.Add(time.Minute)); err != nil || !won {
		t.Fatalf("ClaimSlot(%s) = %t, %v", key, won, err)
	}
	r, err := s.CreateQuiz(ctx, key, "me", quiz.NewQuiz{Channel: "C1", Question: question("q-" + key), Cycle: 1, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPosted(ctx, r.ID, quiz.Posting{MessageTS: "1.1", PostedAt: t0, RevealAt: t0.Add(6 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r, err = s.Quiz(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOpenSettings(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
	} {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil || got != tt.want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", tt.pragma, got, err, tt.want)
		}
	}
	// The read pool cannot write.
	if _, err := s.r.ExecContext(ctx, `INSERT INTO settings VALUES ('c', 'n', 'v', 0)`); err == nil {
		t.Errorf("write through the read pool succeeded")
	}
	if _, err := Open(ctx, ""); err == nil {
		t.Errorf("Open(\"\") succeeded")
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("fresh file is at the latest version", func(t *testing.T) {
		t.Parallel()
		s := openT(t, t.TempDir())
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
			t.Errorf("SchemaVersion() = %d, %v; want %d", v, err, len(migrations))
		}
	})

	t.Run("a v1 file keeps its data", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		v1, err := open(ctx, dir, 1)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := v1.SchemaVersion(ctx); v != 1 {
			t.Fatalf("made a v%d file, want v1", v)
		}
		r := postQuiz(t, v1, "C1@2025-06-02T09:00:00")
		if _, err := v1.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: r.ID, User: "U1", Choice: 1, Correct: true, At: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if _, err := v1.Paused(ctx, "C1"); err == nil {
			t.Fatalf("v1 has a settings table already; the test no longer tests a migration")
		}
		v1.Close()

		s := openT(t, dir)
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
			t.Errorf("SchemaVersion() after migrating = %d, %v; want %d", v, err, len(migrations))
		}
		got, err := s.Quiz(ctx, r.ID)
		if err != nil || got.Question.ID != r.Question.ID || got.Answered != 1 || got.Correct != 1 || !got.PostedAt.Equal(t0) || got.MessageTS != "1.1" {
			t.Errorf("Quiz(%d) after migrating = %+v, %v", r.ID, got, err)
		}
		if sl, ok, err := s.Slot(ctx, r.SlotKey); err != nil || !ok || sl.State != quiz.SlotPosted || sl.QuizID != r.ID {
			t.Errorf("Slot after migrating = %+v, %t, %v", sl, ok, err)
		}
		if err := s.SetPaused(ctx, "C1", true, t0); err != nil {
			t.Errorf("SetPaused after migrating: %v", err)
		}
		if p, err := s.Paused(ctx, "C1"); err != nil || !p {
			t.Errorf("Paused after migrating = %t, %v", p, err)
		}
	})

	t.Run("a file from a newer binary is refused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s := openT(t, dir)
		if _, err := s.w.ExecContext(ctx, `UPDATE schema_version SET version = 99`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(ctx, dir)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open(v99 file) = %v, want an error saying it is newer", err)
		}
	})

	t.Run("processes starting together migrate once", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				s, err := Open(ctx, dir)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				defer s.Close()
				if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations) {
					t.Errorf("SchemaVersion() = %d, %v", v, err)
				}
			})
		}
		wg.Wait()
	})
}

func TestClaimSlot(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	sl := quiz.Slot{Key: "C1@2025-06-02T09:00:00", Channel: "C1", Due: t0}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	steps := []struct {
		name      string
		owner     string
		now       time.Time
		wantWon   bool
		wantOwner string
	}{
		{"first claim wins", "a", at(0), true, "a"},
		{"second claimer loses under a live lease", "b", at(1), false, "a"},
		{"the holder itself cannot re-claim under its live lease", "a", at(1), false, "a"},
		{"after the lease, the claim can be taken over", "b", at(2), true, "b"},
		{"and the new lease protects it", "a", at(3), false, "b"},
	}
	for _, st := range steps {
		rec, won, err := s.ClaimSlot(ctx, sl, st.owner, st.now, st.now.Add(2*time.Minute))
		if err != nil || won != st.wantWon || rec.Owner != st.wantOwner || rec.State != quiz.SlotClaimed {
			t.Errorf("%s: ClaimSlot(%s at %v) = %+v, %t, %v; want won=%t owner %s", st.name, st.owner, st.now, rec, won, err, st.wantWon, st.wantOwner)
		}
	}
	// Only the holder may create the quiz.
	if _, err := s.CreateQuiz(ctx, sl.Key, "a", quiz.NewQuiz{Channel: "C1", Question: question("x"), CreatedAt: at(3)}); !errors.Is(err, quiz.ErrClaimLost) {
		t.Errorf("CreateQuiz by a former holder = %v, want ErrClaimLost", err)
	}
	r, err := s.CreateQuiz(ctx, sl.Key, "b", quiz.NewQuiz{Channel: "C1", Question: question("x"), CreatedAt: at(3)})
	if err != nil {
		t.Fatal(err)
	}
	// A crash now, and a take-over: the quiz comes with the claim.
	rec, won, err := s.ClaimSlot(ctx, sl, "c", at(10), at(12))
	if err != nil || !won || rec.QuizID != r.ID {
		t.Errorf("take-over ClaimSlot = %+v, %t, %v; want won with quiz %d", rec, won, err, r.ID)
	}
	if again, err := s.CreateQuiz(ctx, sl.Key, "c", quiz.NewQuiz{Channel: "C1", Question: question("y"), CreatedAt: at(10)}); err != nil || again.ID != r.ID || again.Question.ID != "x" {
		t.Errorf("CreateQuiz after take-over = %+v, %v; want the existing quiz", again, err)
	}
	if err := s.MarkPosted(ctx, r.ID, quiz.Posting{MessageTS: "9.9", PostedAt: at(10), RevealAt: at(100), Late: true}); err != nil {
		t.Fatal(err)
	}
	// Once posted, the slot is never claimed again, even long after.
	if rec, won, err := s.ClaimSlot(ctx, sl, "d", at(1000), at(1002)); err != nil || won || rec.State != quiz.SlotPosted {
		t.Errorf("ClaimSlot of a posted slot = %+v, %t, %v", rec, won, err)
	}
	if err := s.MarkPosted(ctx, 999, quiz.Posting{PostedAt: at(10)}); !errors.Is(err, quiz.ErrNotFound) {
		t.Errorf("MarkPosted(unknown) = %v, want ErrNotFound", err)
	}
	got, _ := s.Quiz(ctx, r.ID)
	if got.MessageTS != "9.9" || !got.Late || !got.RevealAt.Equal(at(100)) {
		t.Errorf("posted quiz = %+v", got)
	}
}

func TestSettleSlot(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	slot := func(k string) quiz.Slot { return quiz.Slot{Key: k, Channel: "C1", Due: t0} }

	if _, _, err := s.ClaimSlot(ctx, slot("live"), "a", at(0), at(2)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimSlot(ctx, slot("expired"), "a", at(0), at(2)); err != nil {
		t.Fatal(err)
	}
	postQuiz(t, s, "posted")

	tests := []struct {
		key, owner string
		state      quiz.SlotState
		now        time.Time
		want       quiz.SlotState
	}{
		{"new", "b", quiz.SlotSkipped, at(0), quiz.SlotSkipped},
		{"new", "b", quiz.SlotMissed, at(1), quiz.SlotSkipped},  // settled stays settled
		{"live", "b", quiz.SlotMissed, at(1), quiz.SlotClaimed}, // someone is posting it
		{"live", "a", quiz.SlotMissed, at(1), quiz.SlotMissed},  // the holder gives up
		{"expired", "b", quiz.SlotMissed, at(3), quiz.SlotMissed},
		{"posted", "b", quiz.SlotSkipped, at(3), quiz.SlotPosted},
	}
	for _, tt := range tests {
		rec, err := s.SettleSlot(ctx, slot(tt.key), tt.state, tt.owner, tt.now)
		if err != nil || rec.State != tt.want {
			t.Errorf("SettleSlot(%s, %s by %s) = %q, %v; want %q", tt.key, tt.state, tt.owner, rec.State, err, tt.want)
		}
	}
	if _, err := s.SettleSlot(ctx, slot("x"), quiz.SlotPosted, "a", at(0)); err == nil {
		t.Errorf("SettleSlot(posted) succeeded")
	}
}

// TestClaimRace has goroutines on two handles (two processes, as far as
// SQLite is concerned) claim the same slots at once.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	handles := []*SQLite{openT(t, dir), openT(t, dir)}
	for rep := range 50 {
		sl := quiz.Slot{Key: fmt.Sprintf("C1@rep%d", rep), Channel: "C1", Due: t0}
		var wins sync.Map
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 8 {
			wg.Go(func() {
				<-start
				_, won, err := handles[i%2].ClaimSlot(t.Context(), sl, fmt.Sprint("owner", i), t0, t0.Add(time.Minute))
				if err != nil {
					t.Errorf("ClaimSlot: %v", err)
				}
				if won {
					wins.Store(i, true)
				}
			})
		}
		close(start)
		wg.Wait()
		n := 0
		wins.Range(func(any, any) bool { n++; return true })
		if n != 1 {
			t.Fatalf("rep %d: %d winners, want 1", rep, n)
		}
	}
}

func TestRecordAnswer(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	r := postQuiz(t, s, "k")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ans := func(user string, choice int, m int) quiz.AnswerRecord {
		return quiz.AnswerRecord{QuizID: r.ID, User: user, Choice: choice, Correct: choice == 1, At: at(m)}
	}
	tests := []struct {
		a           quiz.AnswerRecord
		wantChoice  int
		wantAlready bool
		wantClosed  bool
	}{
		{ans("U1", 1, 1), 1, false, false},
		{ans("U2", 0, 2), 0, false, false},
		{ans("U1", 0, 3), 1, true, false},
		{ans("U3", 1, 360), 0, false, true}, // at reveal_at: closed
		{ans("U2", 1, 400), 0, true, true},
	}
	for _, tt := range tests {
		out, err := s.RecordAnswer(ctx, tt.a)
		if err != nil || out.Stored.Choice != tt.wantChoice || out.Already != tt.wantAlready || out.Closed != tt.wantClosed {
			t.Errorf("RecordAnswer(%s, %d at %v) = %+v, %v; want choice %d already %t closed %t",
				tt.a.User, tt.a.Choice, tt.a.At, out, err, tt.wantChoice, tt.wantAlready, tt.wantClosed)
		}
	}
	// A reveal in progress closes the quiz whatever the answer's clock says.
	r2 := postQuiz(t, s, "k2")
	if _, won, err := s.ClaimReveal(ctx, r2.ID, "a", at(0), at(2)); err != nil || !won {
		t.Fatalf("ClaimReveal = %t, %v", won, err)
	}
	if out, err := s.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: r2.ID, User: "U1", Choice: 1, At: at(-5)}); err != nil || !out.Closed {
		t.Errorf("RecordAnswer during reveal = %+v, %v; want Closed", out, err)
	}
	if _, err := s.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: 999, User: "U1", At: at(1)}); !errors.Is(err, quiz.ErrNotFound) {
		t.Errorf("RecordAnswer(unknown quiz) = %v, want ErrNotFound", err)
	}
	as, err := s.Answers(ctx, r.ID)
	if err != nil || len(as) != 2 || as[0].User != "U1" || as[1].User != "U2" || !as[0].At.Equal(at(1)) {
		t.Errorf("Answers = %+v, %v", as, err)
	}
	all, err := s.ChannelAnswers(ctx, "C1")
	if err != nil || len(all) != 2 {
		t.Errorf("ChannelAnswers = %+v, %v", all, err)
	}
	got, _ := s.Quiz(ctx, r.ID)
	if got.Answered != 2 || got.Correct != 1 {
		t.Errorf("counts = %d/%d, want 1/2", got.Correct, got.Answered)
	}
}

func TestReveal(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	r := postQuiz(t, s, "k")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	steps := []struct {
		owner       string
		now         time.Time
		wantWon     bool
		wantAttempt int
	}{
		{"a", at(0), true, 1},
		{"b", at(1), false, 0}, // a holds it
		{"b", at(2), true, 2},  // a's lease ran out
	}
	for _, st := range steps {
		attempt, won, err := s.ClaimReveal(ctx, r.ID, st.owner, st.now, st.now.Add(2*time.Minute))
		if err != nil || won != st.wantWon || attempt != st.wantAttempt {
			t.Errorf("ClaimReveal(%s at %v) = %d, %t, %v; want %d, %t", st.owner, st.now, attempt, won, err, st.wantAttempt, st.wantWon)
		}
	}
	if open, _ := s.OpenQuizzes(ctx, "C1"); len(open) != 1 || !open[0].ClosedAt.Equal(at(0)) {
		t.Errorf("OpenQuizzes during reveal = %+v, want the quiz, closed at %v", open, at(0))
	}
	if err := s.MarkRevealed(ctx, r.ID, at(3)); err != nil {
		t.Fatal(err)
	}
	if _, won, err := s.ClaimReveal(ctx, r.ID, "c", at(100), at(102)); err != nil || won {
		t.Errorf("ClaimReveal after reveal = %t, %v", won, err)
	}
	if open, _ := s.OpenQuizzes(ctx, "C1"); len(open) != 0 {
		t.Errorf("OpenQuizzes after reveal = %+v", open)
	}
	if qs, _ := s.Quizzes(ctx, "C1"); len(qs) != 1 || !qs[0].RevealedAt.Equal(at(3)) {
		t.Errorf("Quizzes = %+v", qs)
	}
	if _, err := s.Quiz(context.Background(), 999); !errors.Is(err, quiz.ErrNotFound) {
		t.Errorf("Quiz(999) = %v, want ErrNotFound", err)
	}
}
