package quiz

import (
	"context"
	"testing"
	"time"
)

func TestFakeClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	c := NewFakeClock(start)
	t1 := c.NewTimer(time.Minute)
	t2 := c.NewTimer(time.Hour)
	t3 := c.NewTimer(2 * time.Hour)
	if !t3.Stop() || t3.Stop() {
		t.Errorf("Stop() of a pending timer, then again = want true, false")
	}
	if created, pending := c.Timers(); created != 3 || pending != 2 {
		t.Errorf("Timers() = %d, %d; want 3, 2", created, pending)
	}
	if at, ok := c.NextTimer(); !ok || !at.Equal(start.Add(time.Minute)) {
		t.Errorf("NextTimer() = %v, %t", at, ok)
	}
	c.Advance(30 * time.Second)
	select {
	case <-t1.C():
		t.Errorf("timer fired early")
	default:
	}
	if at, ok := c.AdvanceToNext(); !ok || !at.Equal(start.Add(time.Minute)) {
		t.Errorf("AdvanceToNext() = %v, %t", at, ok)
	}
	if got, ok := fired(t1); !ok || !got.Equal(start.Add(time.Minute)) {
		t.Errorf("t1 fired = %t at %v, want at %v", ok, got, start.Add(time.Minute))
	}
	c.Set(start) // never backwards
	if !c.Now().Equal(start.Add(time.Minute)) {
		t.Errorf("Set moved the clock back to %v", c.Now())
	}
	c.Advance(2 * time.Hour)
	if got, ok := fired(t2); !ok || !got.Equal(start.Add(2*time.Hour+time.Minute)) {
		t.Errorf("t2 fired = %t at %v, want at %v", ok, got, start.Add(2*time.Hour+time.Minute))
	}
	if _, ok := fired(c.NewTimer(0)); !ok {
		t.Errorf("NewTimer(0) did not fire at once")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.BlockUntil(ctx, 1); err == nil {
		t.Errorf("BlockUntil with no timers and a cancelled context = nil")
	}
}

// fired reports whether t has fired, and when, without waiting: a fake
// timer fires inside Advance or Set.
func fired(t Timer) (time.Time, bool) {
	select {
	case at := <-t.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestRunWithSystemClockStops(t *testing.T) {
	t.Parallel()
	q := New(Config{}, nil, nil, nil, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- q.Run(ctx) }()
	cancel()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	case <-timeout.C:
		t.Fatalf("Run() did not return after its context was cancelled")
	}
	if tm := (SystemClock{}).NewTimer(time.Hour); !tm.Stop() {
		t.Errorf("SystemClock timer Stop() = false")
	}
}
