package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	for _, tt := range []struct {
		db           *sql.DB
		pragma, want string
	}{
		{s.w, "journal_mode", "delete"}, // WAL does not work on a network file system
		{s.w, "synchronous", "2"},       // FULL
		{s.w, "busy_timeout", "10000"},
		{s.w, "foreign_keys", "1"},
		{s.r, "journal_mode", "delete"},
		{s.r, "busy_timeout", "10000"},
	} {
		var got string
		if err := tt.db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil || got != tt.want {
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

func TestOpenLeavesWAL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// A file an older Shipmate left in WAL mode, with a quiz in it.
	dir := t.TempDir()
	old := openT(t, dir)
	r := postQuiz(t, old, "C1@2025-06-02T09:00:00")
	if _, err := old.w.ExecContext(ctx, `PRAGMA journal_mode = WAL`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	// While another process still has it open in WAL mode, Open refuses
	// rather than run in two modes at once.
	wal, err := sql.Open("sqlite", filepath.Join(dir, FileName)+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := wal.QueryRowContext(ctx, `SELECT COUNT(*) FROM quizzes`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("WAL handle sees %d quizzes, %v", n, err)
	}
	if s, err := Open(ctx, dir); err == nil {
		s.Close()
		t.Errorf("Open while another handle holds the file in WAL mode succeeded")
	}
	wal.Close()

	// Once it is closed, Open switches the file back and keeps the data.
	s := openT(t, dir)
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal_mode after Open = %q, %v; want delete", mode, err)
	}
	if got, err := s.Quiz(ctx, r.ID); err != nil || got.MessageTS != "1.1" {
		t.Errorf("Quiz(%d) after leaving WAL = %+v, %v", r.ID, got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+"-wal")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the -wal file is still there: %v", err)
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

// A poster that crashed after choosing a quiz (and perhaps posting it)
// left it unrecorded; settling its slot closes it.
func TestSettleSlotClosesUnpostedQuiz(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name       string
		state      quiz.SlotState
		by         string
		now        time.Time
		wantClosed bool
	}{
		{"missed after the crashed claim's lease", quiz.SlotMissed, "b", at(3), true},
		{"skipped after the crashed claim's lease", quiz.SlotSkipped, "b", at(3), true},
		{"not while the claim is live", quiz.SlotMissed, "b", at(1), false},
		{"by the holder itself", quiz.SlotMissed, "a", at(1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openT(t, t.TempDir())
			ctx := t.Context()
			sl := quiz.Slot{Key: "C1@crashed", Channel: "C1", Due: t0}
			if _, won, err := s.ClaimSlot(ctx, sl, "a", at(0), at(2)); err != nil || !won {
				t.Fatalf("ClaimSlot = %t, %v", won, err)
			}
			r, err := s.CreateQuiz(ctx, sl.Key, "a", quiz.NewQuiz{Channel: "C1", Question: question("x"), Cycle: 1, CreatedAt: at(0)})
			if err != nil {
				t.Fatal(err)
			}
			posted := postQuiz(t, s, "C1@posted") // another slot's quiz: untouched
			if _, err := s.SettleSlot(ctx, sl, tt.state, tt.by, tt.now); err != nil {
				t.Fatal(err)
			}
			got, err := s.Quiz(ctx, r.ID)
			if err != nil || got.ClosedAt.IsZero() == tt.wantClosed || (tt.wantClosed && !got.ClosedAt.Equal(tt.now)) {
				t.Errorf("crashed quiz closed at %v (%v), want closed=%t at %v", got.ClosedAt, err, tt.wantClosed, tt.now)
			}
			out, err := s.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: r.ID, User: "U1", Choice: 1, Correct: true, At: tt.now.Add(time.Minute)})
			if err != nil || out.Closed != tt.wantClosed {
				t.Errorf("RecordAnswer on the crashed quiz = %+v, %v; want Closed=%t", out, err, tt.wantClosed)
			}
			if got, _ := s.Quiz(ctx, posted.ID); !got.ClosedAt.IsZero() {
				t.Errorf("the posted quiz of another slot was closed at %v", got.ClosedAt)
			}
		})
	}
}

func TestRenewClaim(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	sl := quiz.Slot{Key: "C1@2025-06-02T09:00:00", Channel: "C1", Due: t0}
	if _, won, err := s.ClaimSlot(ctx, sl, "a", at(0), at(5)); err != nil || !won {
		t.Fatalf("ClaimSlot = %t, %v", won, err)
	}
	steps := []struct {
		name      string
		do        func() error // a change before the renewal; nil for none
		owner     string
		now       time.Time
		wantOK    bool
		wantOwner string
		wantLease time.Time
	}{
		{"the holder renews", nil, "a", at(4), true, "a", at(9)},
		{"someone else cannot", nil, "b", at(4), false, "a", at(9)},
		{"the holder renews after its lease if nobody took over", nil, "a", at(10), true, "a", at(15)},
		{"not once it is taken over", func() error {
			_, won, err := s.ClaimSlot(ctx, sl, "b", at(15), at(20))
			if !won {
				return errors.New("take-over not won")
			}
			return err
		}, "a", at(16), false, "b", at(20)},
		{"not once it is settled", func() error {
			_, err := s.SettleSlot(ctx, sl, quiz.SlotMissed, "b", at(17))
			return err
		}, "b", at(17), false, "b", time.Time{}},
	}
	for _, st := range steps {
		if st.do != nil {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		ok, err := s.RenewClaim(ctx, sl.Key, st.owner, st.now, st.now.Add(5*time.Minute))
		rec, _, _ := s.Slot(ctx, sl.Key)
		if err != nil || ok != st.wantOK || rec.Owner != st.wantOwner || !rec.LeaseUntil.Equal(st.wantLease) {
			t.Errorf("%s: RenewClaim(%s at %v) = %t, %v, slot %+v; want %t, owner %s until %v", st.name, st.owner, st.now, ok, err, rec, st.wantOK, st.wantOwner, st.wantLease)
		}
	}
	if ok, err := s.RenewClaim(ctx, "C1@none", "a", at(0), at(5)); err != nil || ok {
		t.Errorf("RenewClaim(unknown slot) = %t, %v; want false", ok, err)
	}
}

func TestClaimManualSlot(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	sec := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Second))) }
	manual := func(c string, due time.Time) quiz.Slot {
		return quiz.Slot{Key: c + "@manual@" + due.Format(time.RFC3339Nano), Channel: c, Due: due, Manual: true}
	}
	claim := func(sl quiz.Slot) (quiz.SlotRecord, bool, error) {
		return s.ClaimManualSlot(ctx, sl, "a", sl.Due.Add(-10*time.Second), sl.Due, sl.Due.Add(5*time.Minute))
	}
	first := manual("C1", sec(0.9))
	if _, won, err := claim(first); err != nil || !won {
		t.Fatalf("first ClaimManualSlot = %t, %v", won, err)
	}
	tests := []struct {
		name    string
		slot    quiz.Slot
		wantWon bool
	}{
		{"a second later, in another second", manual("C1", sec(1.1)), false},
		{"9.9 s later", manual("C1", sec(10.8)), false},
		{"another channel", manual("C2", sec(1.1)), true},
		{"10 s later", manual("C1", sec(10.9)), true},
	}
	for _, tt := range tests {
		rec, won, err := claim(tt.slot)
		if err != nil || won != tt.wantWon {
			t.Errorf("%s: ClaimManualSlot = %+v, %t, %v; want won=%t", tt.name, rec, won, err, tt.wantWon)
		}
		if !won && rec.Key != first.Key {
			t.Errorf("%s: refused for slot %s, want %s", tt.name, rec.Key, first.Key)
		}
	}
	// A failed manual post, settled as missed, does not hold the next one up.
	failed := manual("C3", sec(0))
	if _, won, err := claim(failed); err != nil || !won {
		t.Fatalf("ClaimManualSlot = %t, %v", won, err)
	}
	if _, err := s.SettleSlot(ctx, failed, quiz.SlotMissed, "a", sec(0.5)); err != nil {
		t.Fatal(err)
	}
	if _, won, err := claim(manual("C3", sec(1))); err != nil || !won {
		t.Errorf("ClaimManualSlot after a missed one = %t, %v; want won", won, err)
	}
	// Scheduled slots do not count.
	if _, _, err := s.ClaimSlot(ctx, quiz.Slot{Key: "C4@2025-06-02T09:00:00", Channel: "C4", Due: t0}, "a", t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, won, err := claim(manual("C4", sec(1))); err != nil || !won {
		t.Errorf("ClaimManualSlot after a scheduled slot = %t, %v; want won", won, err)
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

func TestRenewReveal(t *testing.T) {
	t.Parallel()
	s := openT(t, t.TempDir())
	ctx := t.Context()
	r := postQuiz(t, s, "k")
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	if _, won, err := s.ClaimReveal(ctx, r.ID, "a", at(0), at(5)); err != nil || !won {
		t.Fatalf("ClaimReveal = %t, %v", won, err)
	}
	steps := []struct {
		name      string
		do        func() error
		owner     string
		now       time.Time
		wantOK    bool
		wantLease time.Time
	}{
		{"the holder renews", nil, "a", at(4), true, at(9)},
		{"someone else cannot", nil, "b", at(4), false, at(9)},
		{"not once it is taken over", func() error {
			_, won, err := s.ClaimReveal(ctx, r.ID, "b", at(9), at(14))
			if !won {
				return errors.New("take-over not won")
			}
			return err
		}, "a", at(10), false, at(14)},
		{"not once it is revealed", func() error { return s.MarkRevealed(ctx, r.ID, at(11)) }, "b", at(11), false, time.Time{}},
	}
	for _, st := range steps {
		if st.do != nil {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		ok, err := s.RenewReveal(ctx, r.ID, st.owner, st.now, st.now.Add(5*time.Minute))
		got, _ := s.Quiz(ctx, r.ID)
		if err != nil || ok != st.wantOK || !got.RevealLeaseUntil.Equal(st.wantLease) {
			t.Errorf("%s: RenewReveal(%s at %v) = %t, %v, lease until %v; want %t, %v", st.name, st.owner, st.now, ok, err, got.RevealLeaseUntil, st.wantOK, st.wantLease)
		}
	}
}
