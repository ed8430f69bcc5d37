package store

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"shipmate/bot"
)

func TestThreadTurns(t *testing.T) {
	t.Parallel()
	eachBackend(t, testThreadTurns)
}

func testThreadTurns(t *testing.T, b backend) {
	s := b.open(t)
	ctx := t.Context()

	if _, ok, err := s.Thread(ctx, "C1", "1.1"); err != nil || ok {
		t.Fatalf("Thread(unknown) = ok %t, %v; want not found", ok, err)
	}
	for i := range 5 {
		turn := bot.Turn{Question: fmt.Sprintf("q%d", i), Services: []string{"eks"}, Answer: "scenario/x"}
		if err := s.AddTurn(ctx, "C1", "1.1", turn, 3, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	turns, ok, err := s.Thread(ctx, "C1", "1.1")
	if err != nil || !ok {
		t.Fatalf("Thread = ok %t, %v", ok, err)
	}
	var qs []string
	for _, tt := range turns {
		qs = append(qs, tt.Question)
	}
	if want := []string{"q2", "q3", "q4"}; !slices.Equal(qs, want) {
		t.Errorf("Thread turns = %v, want the newest three %v", qs, want)
	}
	if turns[0].Services[0] != "eks" || turns[0].Answer != "scenario/x" {
		t.Errorf("turn = %+v, want services and answer kept", turns[0])
	}
	// Another thread of the same channel is separate.
	if _, ok, _ := s.Thread(ctx, "C1", "2.2"); ok {
		t.Error("Thread(C1, 2.2) found, want only 1.1")
	}

	if err := s.AddTurn(ctx, "C2", "9.9", bot.Turn{Question: "old"}, 3, t0.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneThreads(ctx, t0.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneThreads = %d, %v; want 1", n, err)
	}
	if _, ok, _ := s.Thread(ctx, "C2", "9.9"); ok {
		t.Error("pruned thread still found")
	}
	if _, ok, _ := s.Thread(ctx, "C1", "1.1"); !ok {
		t.Error("recent thread pruned")
	}
}

// TestWriteBatch: a batch is AddTurn for each turn, in order, whatever the
// order of its threads, and AddGap for each gap.
func TestWriteBatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, testWriteBatch)
}

func testWriteBatch(t *testing.T, b backend) {
	s := b.open(t)
	ctx := t.Context()
	turn := func(q string, i int) bot.Turn {
		return bot.Turn{Question: q, Services: []string{"ecs"}, At: t0.Add(time.Duration(i) * time.Minute)}
	}
	if err := s.AddTurn(ctx, "C2", "2.2", turn("before", 0), 3, t0); err != nil {
		t.Fatal(err)
	}
	batch := []bot.ThreadTurn{
		{Channel: "C2", Thread: "2.2", Turn: turn("b1", 1)},
		{Channel: "C1", Thread: "1.1", Turn: turn("a1", 2)},
		{Channel: "C2", Thread: "2.2", Turn: turn("b2", 3)},
		{Channel: "C2", Thread: "2.2", Turn: turn("b3", 4)},
	}
	gap := bot.Gap{Kind: bot.GapDeclined, Question: "how do I bake bread?", Terms: []string{"bake", "bread"}, User: "U1", Key: "event:E1", At: t0}
	if _, _, err := s.AddGap(ctx, gap); err != nil {
		t.Fatal(err)
	}
	gaps := []bot.Gap{
		gap, // Slack's retry of the event: stored once
		{Kind: bot.GapDeclined, Question: "what is a sourdough starter?", User: "U2", Key: "event:E2", At: t0},
		{Kind: bot.GapDeclined, Question: "no key", User: "U3", At: t0},
	}
	if err := s.WriteBatch(ctx, bot.Batch{Turns: batch, Keep: 3, Gaps: gaps}); err != nil {
		t.Fatal(err)
	}
	stored, err := s.Gaps(ctx, t0.Add(-time.Hour), 10)
	var qs []string
	for _, g := range stored {
		qs = append(qs, g.Question)
	}
	if err != nil || !slices.Equal(qs, []string{"how do I bake bread?", "what is a sourdough starter?", "no key"}) {
		t.Errorf("gaps = %q, %v; want each once", qs, err)
	}
	for _, tc := range []struct {
		channel, thread string
		want            []string
	}{
		{"C1", "1.1", []string{"a1"}},
		{"C2", "2.2", []string{"b1", "b2", "b3"}},
	} {
		turns, ok, err := s.Thread(ctx, tc.channel, tc.thread)
		var qs []string
		for _, tt := range turns {
			qs = append(qs, tt.Question)
		}
		if err != nil || !ok || !slices.Equal(qs, tc.want) {
			t.Errorf("Thread(%s, %s) = %v, %t, %v; want %v", tc.channel, tc.thread, qs, ok, err, tc.want)
		}
	}
	// The thread's time of use is its newest turn's: pruning before it
	// keeps the thread.
	if n, err := s.PruneThreads(ctx, t0.Add(4*time.Minute)); err != nil || n != 1 {
		t.Errorf("PruneThreads = %d, %v; want 1 (C1, last used at 2 minutes)", n, err)
	}
	if _, ok, _ := s.Thread(ctx, "C2", "2.2"); !ok {
		t.Error("C2 pruned, want it kept: its newest turn is at 4 minutes")
	}
}

// TestThreadTurnsConcurrent adds turns to a thread from many goroutines
// and two stores on one database: none is lost below the bound.
func TestThreadTurnsConcurrent(t *testing.T) {
	t.Parallel()
	eachBackend(t, testThreadTurnsConcurrent)
}

func testThreadTurnsConcurrent(t *testing.T, be backend) {
	a, b := be.open(t), be.open(t)
	if err := a.AddTurn(t.Context(), "C1", "1.1", bot.Turn{Question: "first"}, 50, t0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			if err := s.AddTurn(t.Context(), "C1", "1.1", bot.Turn{Question: fmt.Sprint(i)}, 50, t0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	turns, _, err := a.Thread(t.Context(), "C1", "1.1")
	if err != nil || len(turns) != 21 {
		t.Errorf("Thread after 20 concurrent turns = %d turns, %v; want 21", len(turns), err)
	}
}

func TestGaps(t *testing.T) {
	t.Parallel()
	eachBackend(t, testGaps)
}

func testGaps(t *testing.T, b backend) {
	s := b.open(t)
	ctx := t.Context()

	g := bot.Gap{Kind: bot.GapDeclined, Question: "how do I bake bread?", Terms: []string{"bake", "bread"}, User: "U1", Key: "event:Ev1", At: t0}
	id, added, err := s.AddGap(ctx, g)
	if err != nil || !added || id == 0 {
		t.Fatalf("AddGap = %d, %t, %v; want a new id", id, added, err)
	}
	// Slack's retry of the same event is not a second record.
	id2, added, err := s.AddGap(ctx, g)
	if err != nil || added || id2 != id {
		t.Errorf("AddGap again = %d, %t, %v; want %d, false", id2, added, err, id)
	}
	nh := bot.Gap{Kind: bot.GapNotHelpful, Question: "gpu on fargate?", Answer: "scenario/fargate", User: "U2", Key: "feedback:U2/C1/1.1", At: t0.Add(time.Minute)}
	nhID, _, err := s.AddGap(ctx, nh)
	if err != nil {
		t.Fatal(err)
	}
	// Two records without a key are both kept.
	for range 2 {
		if _, added, err := s.AddGap(ctx, bot.Gap{Kind: bot.GapClarified, Question: "k8s?", Answer: "EKS", At: t0.Add(2 * time.Minute)}); err != nil || !added {
			t.Errorf("AddGap without key = %t, %v; want added", added, err)
		}
	}

	if ok, err := s.CommentGap(ctx, nhID, "U9", "forged"); err != nil || ok {
		t.Errorf("CommentGap by another user = %t, %v; want refused", ok, err)
	}
	if ok, err := s.CommentGap(ctx, nhID, "U2", "Fargate has no GPUs"); err != nil || !ok {
		t.Errorf("CommentGap = %t, %v; want ok", ok, err)
	}

	// The records survive a restart.
	s.Close()
	s = b.open(t)
	gaps, err := s.Gaps(ctx, t0, 100)
	if err != nil || len(gaps) != 4 {
		t.Fatalf("Gaps = %d, %v; want 4", len(gaps), err)
	}
	if got := gaps[0]; got.Kind != bot.GapDeclined || got.Question != g.Question || !slices.Equal(got.Terms, g.Terms) || got.User != "U1" || !got.At.Equal(t0) || got.Key != g.Key {
		t.Errorf("Gaps[0] = %+v, want %+v", got, g)
	}
	if got := gaps[1]; got.Comment != "Fargate has no GPUs" || got.Answer != "scenario/fargate" {
		t.Errorf("Gaps[1] = %+v, want the comment and answer", got)
	}
	if got, _ := s.Gaps(ctx, t0.Add(time.Minute), 100); len(got) != 3 {
		t.Errorf("Gaps(since a minute later) = %d, want 3", len(got))
	}
	if got, _ := s.Gaps(ctx, t0, 2); len(got) != 2 || got[0].Kind != bot.GapClarified {
		t.Errorf("Gaps(limit 2) = %+v, want the newest two", got)
	}

	n, err := s.PruneGaps(ctx, t0.Add(30*time.Second))
	if err != nil || n != 1 {
		t.Errorf("PruneGaps = %d, %v; want 1", n, err)
	}
	if got, _ := s.Gaps(ctx, time.Time{}, 100); len(got) != 3 {
		t.Errorf("Gaps after prune = %d, want 3", len(got))
	}
}

func TestClaimDigest(t *testing.T) {
	t.Parallel()
	eachBackend(t, testClaimDigest)
}

func testClaimDigest(t *testing.T, be backend) {
	a, b := be.open(t), be.open(t)
	ctx := t.Context()
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			won, err := s.ClaimDigest(ctx, "2025-06-02T09:00", t0)
			if err != nil {
				t.Error(err)
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("ClaimDigest won %d times, want once", wins)
	}
	if won, err := a.ClaimDigest(ctx, "2025-06-09T09:00", t0.AddDate(0, 0, 7)); err != nil || !won {
		t.Errorf("ClaimDigest(next week) = %t, %v; want won", won, err)
	}
}

func TestHomes(t *testing.T) {
	t.Parallel()
	eachBackend(t, testHomes)
}

func testHomes(t *testing.T, b backend) {
	s := b.open(t)
	ctx := t.Context()
	for i, u := range []string{"U1", "U2", "U3"} {
		if err := s.HomeOpened(ctx, u, t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// An older open does not move a user back.
	if err := s.HomeOpened(ctx, "U3", t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.HomeUsers(ctx, t0.Add(time.Hour), 10)
	if err != nil || !slices.Equal(got, []string{"U3", "U2"}) {
		t.Errorf("HomeUsers = %v, %v; want [U3 U2]", got, err)
	}
	if got, _ := s.HomeUsers(ctx, time.Time{}, 1); !slices.Equal(got, []string{"U3"}) {
		t.Errorf("HomeUsers(limit 1) = %v, want [U3]", got)
	}
	if ok, err := s.HasHome(ctx, "U2", t0); err != nil || !ok {
		t.Errorf("HasHome(U2) = %t, %v; want true", ok, err)
	}
	if ok, _ := s.HasHome(ctx, "U1", t0.Add(time.Minute)); ok {
		t.Error("HasHome(U1, since after its open) = true, want false")
	}
	if ok, _ := s.HasHome(ctx, "U9", time.Time{}); ok {
		t.Error("HasHome(U9) = true for a user who never opened it")
	}
	if n, err := s.PruneHomes(ctx, t0.Add(30*time.Minute)); err != nil || n != 1 {
		t.Errorf("PruneHomes = %d, %v; want 1", n, err)
	}
}
