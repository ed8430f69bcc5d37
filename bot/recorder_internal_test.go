package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"shipmate/metrics"
)

// gatedThreads is a Memory whose batch writes wait for a gate, so a test
// can look at turns while they are being written. It keeps threads and
// gaps, and forgets the rest.
type gatedThreads struct {
	forget
	gate chan struct{}

	mu      sync.Mutex
	threads map[threadKey][]Turn
	gaps    []Gap
	batches int
}

func (g *gatedThreads) AddTurn(ctx context.Context, channel, thread string, t Turn, keep int, _ time.Time) error {
	return g.WriteBatch(ctx, Batch{Turns: []ThreadTurn{{channel, thread, t}}, Keep: keep})
}

func (g *gatedThreads) AddGap(ctx context.Context, gap Gap) (int64, bool, error) {
	return 0, true, g.WriteBatch(ctx, Batch{Gaps: []Gap{gap}})
}

func (g *gatedThreads) WriteBatch(ctx context.Context, b Batch) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.batches++
	g.gaps = append(g.gaps, b.Gaps...)
	keep := b.Keep
	for _, tt := range b.Turns {
		k := threadKey{tt.Channel, tt.Thread}
		g.threads[k] = append(g.threads[k], tt.Turn)
		if n := len(g.threads[k]); n > keep {
			g.threads[k] = g.threads[k][n-keep:]
		}
	}
	return nil
}

func (g *gatedThreads) Thread(_ context.Context, channel, thread string) ([]Turn, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ts, ok := g.threads[threadKey{channel, thread}]
	return slices.Clone(ts), ok, nil
}

func questions(ts []Turn) []string {
	var qs []string
	for _, t := range ts {
		qs = append(qs, t.Question)
	}
	return qs
}

// TestRecorder: turns handed to the recorder are read back before they
// are written, once while and after they are, in batches with the gaps,
// and stopping writes what is left.
func TestRecorder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := &gatedThreads{gate: make(chan struct{}), threads: map[threadKey][]Turn{}}
	w := newRecorder(st, 3, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New())
	w.start()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := w.addTurn(ctx, "C1", "1.1", Turn{Question: fmt.Sprint("q", i), At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.addGap(ctx, Gap{Kind: GapDeclined, Question: "bread?", Key: "event:E1"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := w.thread(ctx, "C1", "2.2"); ok {
		t.Error("another thread found")
	}
	turns, ok, err := w.thread(ctx, "C1", "1.1")
	if want := []string{"q2", "q3", "q4"}; err != nil || !ok || !slices.Equal(questions(turns), want) {
		t.Errorf("thread before the write = %v, %t, %v; want %v", questions(turns), ok, err, want)
	}
	close(st.gate) // let every write through
	w.close(ctx)
	turns, ok, err = w.thread(ctx, "C1", "1.1")
	if want := []string{"q2", "q3", "q4"}; err != nil || !ok || !slices.Equal(questions(turns), want) {
		t.Errorf("thread after the write = %v, %t, %v; want %v", questions(turns), ok, err, want)
	}
	if stored, _, _ := st.Thread(ctx, "C1", "1.1"); !slices.Equal(questions(stored), []string{"q2", "q3", "q4"}) {
		t.Errorf("stored = %v, want the newest three", questions(stored))
	}
	if st.batches > 2 || len(st.gaps) != 1 {
		t.Errorf("5 turns and %d gaps written in %d batches, want the gap and at most 2 batches (the first, then the rest)", len(st.gaps), st.batches)
	}
	// Stopped: a turn is written at once.
	if err := w.addTurn(ctx, "C2", "3.3", Turn{Question: "late", At: t0}); err != nil {
		t.Fatal(err)
	}
	if stored, ok, _ := st.Thread(ctx, "C2", "3.3"); !ok || len(stored) != 1 {
		t.Errorf("turn after close = %v, want written", stored)
	}
}

func TestMergeTurns(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	turn := func(q string, s int) Turn { return Turn{Question: q, At: t0.Add(time.Duration(s) * time.Second)} }
	a, b, c, d := turn("a", 1), turn("b", 2), turn("c", 3), turn("same", 4)
	for _, tc := range []struct {
		stored, unwritten []Turn
		want              []string
	}{
		{nil, []Turn{a}, []string{"a"}},
		{[]Turn{a}, []Turn{b, c}, []string{"a", "b", "c"}},
		{[]Turn{a, b}, []Turn{b, c}, []string{"a", "b", "c"}}, // b written meanwhile
		{[]Turn{a, b, c}, []Turn{b, c}, []string{"a", "b", "c"}},
		{[]Turn{d}, []Turn{d, d}, []string{"same", "same"}}, // one of two equal turns written
	} {
		if got := questions(mergeTurns(slices.Clone(tc.stored), tc.unwritten)); !slices.Equal(got, tc.want) {
			t.Errorf("mergeTurns(%v, %v) = %v, want %v", questions(tc.stored), questions(tc.unwritten), got, tc.want)
		}
	}
}
