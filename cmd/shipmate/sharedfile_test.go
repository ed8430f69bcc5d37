package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// TestSharedSQLitePostNow: two serve processes on one SQLite file (a
// rolling deploy on a shared volume) — one runs the quiz scheduler, the
// other stands by. A post-now typed on the standby is posted by the
// scheduler within seconds, and the admin is told it was posted, not
// that it is queued.
func TestSharedSQLitePostNow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	// Each process on its own fake Slack, so the post-now surely lands on
	// the standby.
	slackA, slackB := fakeslack.New(), fakeslack.New()
	t.Cleanup(slackA.Close)
	t.Cleanup(slackB.Close)
	a := startServe(t, ctx, slackA, quizEnv(dataDir)...)
	waitLog(t, ctx, a, "this process runs the quiz scheduler")
	b := startServe(t, ctx, slackB, quizEnv(dataDir)...)

	env := slackB.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")
	asked := time.Now()
	if _, err := slackB.Send(ctx, env); err != nil {
		t.Fatal(err)
	}
	got := answered(t, ctx, slackB, b, env.Payload["response_url"].(string))
	if len(got) != 1 || !strings.Contains(got[0], "Posted") {
		t.Errorf("post-now on the standby answered %q, want posted\nscheduler:\n%s\nstandby:\n%s", got, a.Logs(), b.Logs())
	}
	qs := ofKind(quizMessages(slackA, "CQUIZ"), "question")
	if len(qs) != 1 {
		t.Fatalf("%d questions posted by the scheduler, want 1", len(qs))
	}
	if strings.Contains(b.Logs(), "this process runs the quiz scheduler") {
		t.Errorf("the standby ran the scheduler too")
	}
	t.Logf("posted and confirmed %v after the post-now", time.Since(asked).Round(time.Millisecond))
}
