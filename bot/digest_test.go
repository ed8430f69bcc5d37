package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/quiz"
)

// TestDigest runs two digests on one store, as two replicas would, with a
// fake clock: the Monday slot is posted once, with the week's gaps.
func TestDigest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sched, err := quiz.ParseSchedule("CRON_TZ=UTC 0 9 * * MON")
	if err != nil {
		t.Fatal(err)
	}
	conv := &bot.Conversation{Followups: true, GapsChannel: "CGAPS", GapsSchedule: sched, GapsRetention: bot.DefaultGapsRetention}
	h := start(t, setup{dataDir: dir, conv: conv})
	st := openStore(t, dir)
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if _, _, err := st.AddGap(t.Context(), bot.Gap{Kind: bot.GapDeclined, Question: "can fargate mount our nfs share?", Key: "k1", At: monday.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddGap(t.Context(), bot.Gap{Kind: bot.GapDeclined, Question: "a question from last month", Key: "k2", At: monday.AddDate(0, 0, -20)}); err != nil {
		t.Fatal(err)
	}

	clock := quiz.NewFakeClock(monday.Add(-time.Minute))
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 2)
	for range 2 {
		d := h.bot.Digest(clock, bot.OneProcess{})
		go func() { done <- d.Run(ctx) }()
	}
	if err := clock.BlockUntil(h.ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(h.srv.CallsTo("chat.postMessage")); n != 0 {
		t.Fatalf("%d posts before the slot", n)
	}
	clock.Advance(time.Minute)
	post := h.posts(t, 1)[0]
	// Both go back to sleep until next Monday; only then is the count final.
	if err := clock.WaitFor(h.ctx, func(created, pending int) bool { return created >= 4 && pending == 2 }); err != nil {
		t.Fatal(err)
	}
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Digest.Run = %v", err)
		}
	}
	if n := len(okCalls(h.srv.Calls(), "chat.postMessage", "")); n != 1 {
		t.Errorf("digest posted %d times, want once", n)
	}
	if post.Param("channel") != "CGAPS" {
		t.Errorf("digest posted to %s, want CGAPS", post.Param("channel"))
	}
	text := blockText(t, post)
	if !strings.Contains(text, "Weekly digest") || !strings.Contains(text, "can fargate mount our nfs share?") {
		t.Errorf("digest:\n%s", text)
	}
	if strings.Contains(text, "last month") {
		t.Errorf("digest lists a gap older than a week:\n%s", text)
	}
}

// TestDigestAfterRestart: a slot missed by a restart a few minutes after
// it is posted, not skipped.
func TestDigestAfterRestart(t *testing.T) {
	t.Parallel()
	sched, err := quiz.ParseSchedule("CRON_TZ=UTC 0 9 * * MON")
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, setup{conv: &bot.Conversation{GapsChannel: "CGAPS", GapsSchedule: sched}})
	clock := quiz.NewFakeClock(time.Date(2026, 11, 30, 9, 10, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.bot.Digest(clock, bot.OneProcess{}).Run(ctx) }()
	if got := h.posts(t, 1)[0]; !strings.Contains(blockText(t, got), "None") {
		t.Errorf("empty digest:\n%s", blockText(t, got))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Digest.Run = %v", err)
	}
}

// flakyLock fails its first fails calls, as a database that is not
// answering yet would, then holds like OneProcess.
type flakyLock struct {
	mu    sync.Mutex
	fails int
}

func (f *flakyLock) LockScheduler(ctx context.Context, name string) (quiz.Term, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("connect: connection refused")
	}
	return bot.OneProcess{}.LockScheduler(ctx, name)
}

// TestDigestLockRetried: the digest's lock cannot be taken at first (the
// database is down); the digest asks again and still posts its slot.
func TestDigestLockRetried(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sched, err := quiz.ParseSchedule("CRON_TZ=UTC 0 9 * * MON")
	if err != nil {
		t.Fatal(err)
	}
	conv := &bot.Conversation{Followups: true, GapsChannel: "CGAPS", GapsSchedule: sched, GapsRetention: bot.DefaultGapsRetention}
	h := start(t, setup{dataDir: dir, conv: conv})
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	clock := quiz.NewFakeClock(monday.Add(-time.Minute))
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	done := make(chan error, 1)
	d := h.bot.Digest(clock, &flakyLock{fails: 2})
	go func() { done <- d.Run(ctx) }()
	// Two failed tries each wait on the clock before the next.
	for range 2 {
		if err := clock.BlockUntil(h.ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Second)
	}
	clock.Set(monday.Add(time.Second))
	if post := h.posts(t, 1)[0]; post.Param("channel") != "CGAPS" {
		t.Errorf("digest posted to %s, want CGAPS", post.Param("channel"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Digest.Run = %v, want nil", err)
	}
}
