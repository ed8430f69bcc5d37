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
	"shipmate/store/storetest"
)

func question(id string) content.Question {
	return content.Question{
		ID: id, Topic: "ecs", Difficulty: "easy", Question: "Q " + id + "?", Note: "note-" + id,
		Choices: []content.Choice{{Text: "A", Why: "a"}, {Text: "B", Correct: true, Why: "b"}},
	}
}

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func openT(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
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
	term := lead(t, old)
	r := postQuiz(t, old, term.Epoch(), "C1@2025-06-02T09:00:00")
	term.Release()
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

// The helpers and tests below run against both databases.

// backend opens stores on one database: a SQLite directory or a PostgreSQL
// database made for the test.
type backend struct {
	name string
	open func(t *testing.T) *Store
}

// backends returns a way to open stores sharing one fresh database, per
// kind. The PostgreSQL one is skipped, saying why, without a server.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f(t, backend{"sqlite", func(t *testing.T) *Store { return openT(t, dir) }})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := storetest.PostgresURL(t)
		f(t, backend{"postgres", func(t *testing.T) *Store {
			t.Helper()
			s, err := OpenURL(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}})
	})
}

// lead takes the scheduler lock of C1 and returns the term's epoch.
func lead(t *testing.T, s *Store) quiz.Term {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	term, err := s.LockScheduler(ctx, "C1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Release)
	return term
}

func newQuiz(id string) quiz.NewQuiz {
	return quiz.NewQuiz{Channel: "C1", Question: question(id), Cycle: 1, CreatedAt: t0}
}

// postQuiz claims a slot with a quiz and marks it posted at t0.
func postQuiz(t *testing.T, s *Store, epoch int64, key string) quiz.QuizRecord {
	t.Helper()
	ctx := t.Context()
	r, won, err := s.ClaimSlot(ctx, quiz.Slot{Key: key, Channel: "C1", Due: t0}, newQuiz("q-"+key), epoch)
	if err != nil || !won {
		t.Fatalf("ClaimSlot(%s) = %t, %v", key, won, err)
	}
	if err := s.StartPost(ctx, r.ID, epoch, t0); err != nil {
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

func TestSchedulerLock(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		a, c := b.open(t), b.open(t)
		ta := lead(t, a)
		if ta.Epoch() < 1 {
			t.Errorf("first term's epoch = %d", ta.Epoch())
		}
		// The second waits while the first holds it.
		got := make(chan quiz.Term, 1)
		go func() {
			tc, err := c.LockScheduler(ctx, "C1")
			if err != nil {
				t.Errorf("second LockScheduler: %v", err)
				close(got)
				return
			}
			got <- tc
		}()
		short, cancel := context.WithTimeout(ctx, 3*lockPoll)
		if _, err := a.LockScheduler(short, "C1"); err == nil {
			t.Errorf("a second term was granted while the first is held")
		}
		cancel()
		select {
		case <-got:
			t.Fatalf("the lock was granted twice")
		default:
		}
		// A term no longer current cannot claim.
		ta.Release()
		tc := <-got
		if tc == nil {
			t.FailNow()
		}
		defer tc.Release()
		if tc.Epoch() <= ta.Epoch() {
			t.Errorf("epoch after takeover = %d, want > %d", tc.Epoch(), ta.Epoch())
		}
		_, _, err := a.ClaimSlot(ctx, quiz.Slot{Key: "C1@x", Channel: "C1", Due: t0}, newQuiz("x"), ta.Epoch())
		if !errors.Is(err, quiz.ErrNotScheduler) {
			t.Errorf("ClaimSlot with an old epoch = %v, want ErrNotScheduler", err)
		}
		// Wake-ups reach the holder: a request from the other store.
		if _, _, err := a.RequestPost(ctx, quiz.Slot{Key: "C1@manual@1", Channel: "C1", Due: t0, Manual: true}, t0.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-tc.Wake():
		case <-time.After(10 * time.Second):
			t.Errorf("the holder was not woken by a request made elsewhere")
		}
	})
}

// TestSchedulerLockTakeoverOnDeath: PostgreSQL ends a dead holder's
// session, and with it the lock; the holder's term reports it lost.
func TestSchedulerLockTakeoverOnDeath(t *testing.T) {
	t.Parallel()
	u := storetest.PostgresURL(t)
	ctx := t.Context()
	open := func() *Store {
		s, err := OpenURL(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, c := open(), open()
	ta := lead(t, a)
	// Kill the holder's lock session, as the server does when its process
	// dies; only in this test's database, whose locks are this test's (the
	// other tests, here and in other packages, share the server).
	if _, err := c.w.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ta.Lost():
	case <-time.After(20 * time.Second):
		t.Fatalf("the holder did not notice it lost the lock")
	}
	tc := lead(t, c)
	if tc.Epoch() <= ta.Epoch() {
		t.Errorf("epoch after takeover = %d, want > %d", tc.Epoch(), ta.Epoch())
	}
}

func TestClaimSlot(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.open(t)
		e := lead(t, s).Epoch()
		sl := quiz.Slot{Key: "C1@2025-06-02T09:00:00", Channel: "C1", Due: t0}
		r, won, err := s.ClaimSlot(ctx, sl, newQuiz("one"), e)
		if err != nil || !won || r.ID == 0 || r.Question.ID != "one" || r.SlotKey != sl.Key {
			t.Fatalf("ClaimSlot = %+v, %t, %v", r, won, err)
		}
		again, won, err := s.ClaimSlot(ctx, sl, newQuiz("two"), e)
		if err != nil || won || again.ID != r.ID || again.Question.ID != "one" {
			t.Errorf("second ClaimSlot = %+v, %t, %v; want the first quiz, not won", again, won, err)
		}
		rec, ok, err := s.Slot(ctx, sl.Key)
		if err != nil || !ok || rec.State != quiz.SlotClaimed || rec.QuizID != r.ID {
			t.Errorf("Slot = %+v, %t, %v", rec, ok, err)
		}
		pending, err := s.PendingSlots(ctx, "C1")
		if err != nil || len(pending) != 1 || pending[0].QuizID != r.ID {
			t.Errorf("PendingSlots = %+v, %v", pending, err)
		}
		// Not attempted yet: not in the history.
		if qs, err := s.Quizzes(ctx, "C1"); err != nil || len(qs) != 0 {
			t.Errorf("Quizzes before StartPost = %d, %v", len(qs), err)
		}
		if err := s.StartPost(ctx, r.ID, e, t0); err != nil {
			t.Fatal(err)
		}
		qs, err := s.Quizzes(ctx, "C1")
		if err != nil || len(qs) != 1 || !qs[0].PostStartedAt.Equal(t0) || qs[0].Posted() {
			t.Errorf("Quizzes after StartPost = %+v, %v; want it as tried", qs, err)
		}
		// Posted: the slot settles and the first ts stays.
		p := quiz.Posting{MessageTS: "1.5", PostedAt: t0.Add(time.Second), RevealAt: t0.Add(time.Hour)}
		if err := s.MarkPosted(ctx, r.ID, p); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkPosted(ctx, r.ID, quiz.Posting{MessageTS: "9.9", PostedAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Quiz(ctx, r.ID)
		if err != nil || got.MessageTS != "1.5" || !got.PostedAt.Equal(p.PostedAt) || !got.RevealAt.Equal(p.RevealAt) {
			t.Errorf("Quiz after MarkPosted = %+v, %v", got, err)
		}
		if rec, _, _ := s.Slot(ctx, sl.Key); rec.State != quiz.SlotPosted {
			t.Errorf("slot state after MarkPosted = %s", rec.State)
		}
		if pending, _ := s.PendingSlots(ctx, "C1"); len(pending) != 0 {
			t.Errorf("PendingSlots after posting = %+v", pending)
		}
		if err := s.MarkPosted(ctx, 999, p); !errors.Is(err, quiz.ErrNotFound) {
			t.Errorf("MarkPosted(999) = %v, want ErrNotFound", err)
		}
		if _, err := s.Quiz(ctx, 999); !errors.Is(err, quiz.ErrNotFound) {
			t.Errorf("Quiz(999) = %v, want ErrNotFound", err)
		}
	})
}

// TestClaimRace: schedulers on several connections claim one slot at once;
// exactly one wins (the epoch check aside, which they share here).
func TestClaimRace(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		stores := []*Store{b.open(t), b.open(t), b.open(t)}
		e := lead(t, stores[0]).Epoch()
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 12 {
			s := stores[i%len(stores)]
			wg.Go(func() {
				_, won, err := s.ClaimSlot(ctx, quiz.Slot{Key: "C1@race", Channel: "C1", Due: t0}, newQuiz(fmt.Sprint("q", i)), e)
				if err != nil {
					t.Errorf("ClaimSlot: %v", err)
				}
				mu.Lock()
				if won {
					wins++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d claims won, want 1", wins)
		}
	})
}

func TestRequestPost(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, other := b.open(t), b.open(t)
		e := lead(t, s).Epoch()
		manual := func(at time.Time) quiz.Slot {
			return quiz.Slot{Key: "C1@manual@" + at.Format(time.RFC3339Nano), Channel: "C1", Due: at, Manual: true}
		}
		// Racing double submits from two processes: one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 6 {
			st := []*Store{s, other}[i%2]
			at := t0.Add(time.Duration(i) * time.Millisecond)
			wg.Go(func() {
				_, won, err := st.RequestPost(ctx, manual(at), at.Add(-10*time.Second))
				if err != nil {
					t.Errorf("RequestPost: %v", err)
				}
				mu.Lock()
				if won {
					wins++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d of 6 racing requests won, want 1", wins)
		}
		pending, err := s.PendingSlots(ctx, "C1")
		if err != nil || len(pending) != 1 || pending[0].QuizID != 0 || !pending[0].Manual {
			t.Fatalf("PendingSlots = %+v, %v; want one request", pending, err)
		}
		// The scheduler gives the request its quiz.
		r, won, err := s.ClaimSlot(ctx, pending[0].Slot, newQuiz("m"), e)
		if err != nil || !won || r.SlotKey != pending[0].Key {
			t.Errorf("ClaimSlot(request) = %+v, %t, %v", r, won, err)
		}
		// Later than the window, another is taken.
		if _, won, err := s.RequestPost(ctx, manual(t0.Add(time.Minute)), t0.Add(50*time.Second)); err != nil || !won {
			t.Errorf("RequestPost after the window = %t, %v", won, err)
		}
	})
}

func TestSettleSlot(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.open(t)
		e := lead(t, s).Epoch()
		slot := func(k string) quiz.Slot { return quiz.Slot{Key: "C1@" + k, Channel: "C1", Due: t0} }

		// New: stored settled.
		if rec, err := s.SettleSlot(ctx, slot("new"), quiz.SlotSkipped, t0); err != nil || rec.State != quiz.SlotSkipped {
			t.Errorf("SettleSlot(new) = %+v, %v", rec, err)
		}
		// Settled: stays as it was.
		if rec, err := s.SettleSlot(ctx, slot("new"), quiz.SlotMissed, t0); err != nil || rec.State != quiz.SlotSkipped {
			t.Errorf("SettleSlot(settled) = %+v, %v", rec, err)
		}
		// Claimed but never tried: settled, its quiz closed.
		r, _, err := s.ClaimSlot(ctx, slot("chosen"), newQuiz("c"), e)
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := s.SettleSlot(ctx, slot("chosen"), quiz.SlotMissed, t0); err != nil || rec.State != quiz.SlotMissed {
			t.Errorf("SettleSlot(chosen) = %+v, %v", rec, err)
		}
		if got, _ := s.Quiz(ctx, r.ID); got.ClosedAt.IsZero() {
			t.Errorf("the quiz of a settled slot is not closed")
		}
		// Tried: may be in Slack, so it is left to reconcile.
		r, _, _ = s.ClaimSlot(ctx, slot("tried"), newQuiz("t"), e)
		if err := s.StartPost(ctx, r.ID, e, t0); err != nil {
			t.Fatal(err)
		}
		if rec, err := s.SettleSlot(ctx, slot("tried"), quiz.SlotMissed, t0); err != nil || rec.State != quiz.SlotClaimed {
			t.Errorf("SettleSlot(tried) = %+v, %v; want it left claimed", rec, err)
		}
		// Given up: missed, closed, and a click would say so.
		if err := s.GiveUpPost(ctx, r.ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if rec, _, _ := s.Slot(ctx, slot("tried").Key); rec.State != quiz.SlotMissed {
			t.Errorf("slot after GiveUpPost = %s, want missed", rec.State)
		}
		out, err := s.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: r.ID, User: "U1", Choice: 1, At: t0.Add(2 * time.Minute)})
		if err != nil || !out.Closed {
			t.Errorf("answer to a given-up quiz = %+v, %v; want closed", out, err)
		}
		// Posted: stays posted.
		postQuiz(t, s, e, "C1@posted")
		if rec, err := s.SettleSlot(ctx, quiz.Slot{Key: "C1@posted", Channel: "C1", Due: t0}, quiz.SlotMissed, t0); err != nil || rec.State != quiz.SlotPosted {
			t.Errorf("SettleSlot(posted) = %+v, %v", rec, err)
		}
		if _, err := s.SettleSlot(ctx, slot("x"), quiz.SlotPosted, t0); err == nil {
			t.Errorf("SettleSlot as posted succeeded")
		}
	})
}

func TestRecordAnswer(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.open(t)
		e := lead(t, s).Epoch()
		r := postQuiz(t, s, e, "C1@a")
		ans := func(user string, choice int, at time.Time) quiz.AnswerOutcome {
			t.Helper()
			out, err := s.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: r.ID, User: user, Choice: choice, Correct: choice == 1, At: at})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if out := ans("U1", 1, t0.Add(time.Minute)); out.Already || out.Closed || out.Stored.Choice != 1 {
			t.Errorf("first answer = %+v", out)
		}
		if out := ans("U1", 0, t0.Add(2*time.Minute)); !out.Already || out.Stored.Choice != 1 {
			t.Errorf("second answer = %+v, want the first", out)
		}
		if out := ans("U2", 0, t0.Add(7*time.Hour)); !out.Closed || out.Already {
			t.Errorf("answer after reveal_at = %+v, want closed", out)
		}
		if _, err := s.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: 999, User: "U1"}); !errors.Is(err, quiz.ErrNotFound) {
			t.Errorf("answer to quiz 999 = %v, want ErrNotFound", err)
		}
		got, _ := s.Quiz(ctx, r.ID)
		if got.Answered != 1 || got.Correct != 1 {
			t.Errorf("counts = %d/%d, want 1/1", got.Correct, got.Answered)
		}
		all, err := s.ChannelAnswers(ctx, "C1")
		if err != nil || len(all) != 1 || all[0].User != "U1" {
			t.Errorf("ChannelAnswers = %+v, %v", all, err)
		}
	})
}

// TestAnswersRaceClose: answers from several connections race the reveal's
// close. Every answer told it was recorded is in the tally read after the
// close, and each user counts once.
func TestAnswersRaceClose(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		stores := []*Store{b.open(t), b.open(t)}
		s := stores[0]
		e := lead(t, s).Epoch()
		r := postQuiz(t, s, e, "C1@race")
		const users = 40
		var wg sync.WaitGroup
		var mu sync.Mutex
		recorded := map[string]bool{}
		start := make(chan struct{})
		for i := range users {
			for c := range 2 { // each user clicks twice, on two connections
				st := stores[(i+c)%2]
				wg.Go(func() {
					<-start
					user := fmt.Sprintf("U%02d", i)
					out, err := st.RecordAnswer(ctx, quiz.AnswerRecord{QuizID: r.ID, User: user, Choice: c, Correct: c == 1, At: t0.Add(time.Minute)})
					if err != nil {
						t.Errorf("RecordAnswer: %v", err)
						return
					}
					if !out.Already && !out.Closed {
						mu.Lock()
						if recorded[user] {
							t.Errorf("%s recorded twice", user)
						}
						recorded[user] = true
						mu.Unlock()
					}
				})
			}
		}
		close(start)
		closed, err := s.CloseQuiz(ctx, r.ID, e, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		tally, err := s.Answers(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		final, _ := s.Answers(ctx, r.ID)
		if len(final) != len(tally) {
			t.Errorf("%d answers stored after the close was read, %d before: some landed after the close", len(final), len(tally))
		}
		if len(final) != len(recorded) {
			t.Errorf("%d answers stored, %d users told recorded", len(final), len(recorded))
		}
		if closed.ClosedAt.IsZero() {
			t.Errorf("CloseQuiz did not close")
		}
	})
}

func TestRevealSteps(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.open(t)
		term := lead(t, s)
		e := term.Epoch()
		r := postQuiz(t, s, e, "C1@r")
		other := postQuiz(t, s, e, "C1@r2")
		if n, err := s.RequestReveal(ctx, "C1", t0.Add(time.Minute)); err != nil || n != 2 {
			t.Errorf("RequestReveal = %d, %v; want 2", n, err)
		}
		if got, _ := s.Quiz(ctx, other.ID); !got.RevealAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("reveal_at after RequestReveal = %v", got.RevealAt)
		}
		got, err := s.CloseQuiz(ctx, r.ID, e, t0.Add(2*time.Minute))
		if err != nil || !got.ClosedAt.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("CloseQuiz = %+v, %v", got, err)
		}
		if again, _ := s.CloseQuiz(ctx, r.ID, e, t0.Add(3*time.Minute)); !again.ClosedAt.Equal(got.ClosedAt) {
			t.Errorf("a second CloseQuiz moved closed_at to %v", again.ClosedAt)
		}
		if err := s.MarkRevealShown(ctx, r.ID, t0.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRevealed(ctx, r.ID, "1.9", t0.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Quiz(ctx, r.ID)
		if got.RevealShownAt.IsZero() || got.ResultTS != "1.9" || !got.RevealedAt.Equal(t0.Add(4*time.Minute)) {
			t.Errorf("after the reveal: %+v", got)
		}
		open, err := s.OpenQuizzes(ctx, "C1")
		if err != nil || len(open) != 1 || open[0].ID != other.ID {
			t.Errorf("OpenQuizzes = %+v, %v", open, err)
		}
	})
}

func TestFirstSeen(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		stores := []*Store{b.open(t), b.open(t)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		firsts := 0
		for i := range 10 {
			wg.Go(func() {
				ok, err := stores[i%2].FirstSeen(ctx, "event:Ev1")
				if err != nil {
					t.Errorf("FirstSeen: %v", err)
				}
				mu.Lock()
				if ok {
					firsts++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if firsts != 1 {
			t.Errorf("event seen first %d times, want 1", firsts)
		}
		if ok, err := stores[1].FirstSeen(ctx, "event:Ev2"); err != nil || !ok {
			t.Errorf("FirstSeen(Ev2) = %t, %v", ok, err)
		}
	})
}

func TestPaused(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, other := b.open(t), b.open(t)
		if p, err := s.Paused(ctx, "C1"); err != nil || p {
			t.Errorf("Paused() of a new channel = %t, %v", p, err)
		}
		if err := s.SetPaused(ctx, "C1", true, t0); err != nil {
			t.Fatal(err)
		}
		if p, err := other.Paused(ctx, "C1"); err != nil || !p {
			t.Errorf("Paused() seen by another process = %t, %v", p, err)
		}
		if err := other.SetPaused(ctx, "C1", false, t0); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Paused(ctx, "C1"); p {
			t.Errorf("still paused after resume")
		}
	})
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	eachBackend(t, func(t *testing.T, b backend) {
		// Processes starting together migrate once.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				s := b.open(t)
				want := len(s.migrations())
				if v, err := s.SchemaVersion(ctx); err != nil || v != want {
					t.Errorf("SchemaVersion() = %d, %v; want %d", v, err, want)
				}
			})
		}
		wg.Wait()
		// A database from a newer binary is refused.
		s := b.open(t)
		if _, err := s.w.ExecContext(ctx, `UPDATE schema_version SET version = 99`); err != nil {
			t.Fatal(err)
		}
		var err error
		if b.name == "sqlite" {
			_, err = Open(ctx, filepath.Dir(s.Path()))
		} else {
			_, err = openPostgres(ctx, pgURL(s), len(postgresMigrations))
		}
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("opening a v99 database = %v, want an error saying it is newer", err)
		}
	})

	t.Run("a v2 SQLite file keeps its data and its unposted quiz is looked for", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		v2, err := openSQLite(ctx, dir, 2)
		if err != nil {
			t.Fatal(err)
		}
		js := `{"ID":"old","Topic":"ecs","Question":"Q?","Choices":[{"Text":"A"},{"Text":"B","Correct":true}]}`
		for _, stmt := range []string{
			`INSERT INTO slots (key, channel, due, state, owner, lease_until, quiz_id, updated_at) VALUES ('C1@posted', 'C1', 1, 'posted', 'old', 0, 1, 1)`,
			`INSERT INTO slots (key, channel, due, state, owner, lease_until, quiz_id, updated_at) VALUES ('C1@claimed', 'C1', 2, 'claimed', 'old', 99, 2, 2)`,
			`INSERT INTO quizzes (id, slot_key, channel, question_id, question, cycle, created_at, message_ts, posted_at, reveal_at) VALUES (1, 'C1@posted', 'C1', 'old', '` + js + `', 1, 1, '1.1', 1000, 2000)`,
			`INSERT INTO quizzes (id, slot_key, channel, question_id, question, cycle, created_at) VALUES (2, 'C1@claimed', 'C1', 'old', '` + js + `', 1, 5000)`,
			`INSERT INTO answers VALUES (1, 'U1', 1, 1, 1500)`,
		} {
			if _, err := v2.w.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		v2.Close()
		s := openT(t, dir)
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(sqliteMigrations) {
			t.Errorf("SchemaVersion() = %d, %v", v, err)
		}
		got, err := s.Quiz(ctx, 1)
		if err != nil || got.MessageTS != "1.1" || got.Answered != 1 || got.Correct != 1 || !got.Posted() {
			t.Errorf("posted quiz after migrating = %+v, %v", got, err)
		}
		got, err = s.Quiz(ctx, 2)
		if err != nil || !got.PostStartedAt.Equal(time.UnixMilli(5000).UTC()) || got.Posted() {
			t.Errorf("unposted quiz after migrating = %+v, %v; want it marked as tried", got, err)
		}
		if pending, _ := s.PendingSlots(ctx, "C1"); len(pending) != 1 || pending[0].QuizID != 2 {
			t.Errorf("PendingSlots after migrating = %+v", pending)
		}
	})
}

// pgURL rebuilds a store's connection URL, for reopening it.
func pgURL(s *Store) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", s.pgCfg.User, s.pgCfg.Host, s.pgCfg.Port, s.pgCfg.Database)
}
