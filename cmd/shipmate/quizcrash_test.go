package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// The quiz survives a SIGKILL at every step that talks to Slack: each test
// kills `shipmate serve` at one exact point of one call (the fake Slack
// does the work, then the process dies before it hears back), starts it
// again on the same data, and checks that the quiz is posted once, revealed
// once, with one result line, within seconds.

// quizEnv is the environment of a serve whose only quizzes are post-now's.
func quizEnv(dataDir string, extra ...string) []string {
	return append([]string{"QUIZ_CHANNEL=CQUIZ", "QUIZ_ADMINS=UADMIN", "DATA_DIR=" + dataDir,
		"QUIZ_SCHEDULE=CRON_TZ=UTC 0 0 1 1 *", "QUIZ_GRACE=0", "QUIZ_REVEAL_AFTER=8s"}, extra...)
}

// metaKind is the quiz kind ("question", "result") a chat.postMessage call
// carries in its metadata, or "".
func metaKind(c fakeslack.Call) string {
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal([]byte(c.Param("metadata")), &md) != nil || md.EventType != "shipmate_quiz" {
		return ""
	}
	kind, _ := md.EventPayload["kind"].(string)
	return kind
}

// killer SIGKILLs the serve process it is armed with, once.
type killer struct {
	mu     sync.Mutex
	target *child
	fired  atomic.Bool
}

func (k *killer) arm(c *child) { k.mu.Lock(); k.target = c; k.mu.Unlock() }

// fire kills the armed process the first time it is called and reports
// whether it did.
func (k *killer) fire() bool {
	if k.fired.Swap(true) {
		return false
	}
	k.mu.Lock()
	c := k.target
	k.mu.Unlock()
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	return true
}

// waitLog polls c's logs for substr until ctx ends.
func waitLog(t *testing.T, ctx context.Context, c *child, substr string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(c.Logs(), substr) {
		select {
		case <-ctx.Done():
			t.Fatalf("no log line with %q:\n%s", substr, c.Logs())
		case <-tick.C:
		}
	}
}

// restart starts serve again on dataDir after k killed the first, and
// returns it with the time it took to come up.
func restart(t *testing.T, ctx context.Context, srv *fakeslack.Server, dataDir string) *child {
	t.Helper()
	if err := srv.WaitStats(ctx, func(s fakeslack.Stats) bool { return s.Live == 0 }); err != nil {
		t.Fatal(err)
	}
	return startServe(t, ctx, srv, quizEnv(dataDir)...)
}

func TestQuizSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// method and match pick the call to kill in; deliver says whether
		// Slack did the work before the process died.
		method  string
		match   func(c fakeslack.Call) bool
		deliver bool
		// resumeLog is logged by the restarted process when it picks up.
		resumeLog string
		// within bounds how long after the restart the quiz is whole again.
		within time.Duration
	}{
		{"killed while the post's response is in flight", "chat.postMessage",
			func(c fakeslack.Call) bool { return metaKind(c) == "question" }, true,
			"found the message of an unconfirmed post in Slack", 5 * time.Second},
		{"killed before the post reached Slack", "chat.postMessage",
			func(c fakeslack.Call) bool { return metaKind(c) == "question" }, false,
			"a post never reached Slack; posting it again", 25 * time.Second},
		{"killed during the reveal's update", "chat.update",
			func(c fakeslack.Call) bool { return strings.Contains(c.Param("blocks"), "the answer is") }, true,
			"quiz: revealed", 5 * time.Second},
		{"killed after the reveal's thread reply", "chat.postMessage",
			func(c fakeslack.Call) bool { return metaKind(c) == "result" }, true,
			"quiz: revealed", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeslack.New()
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			dataDir := t.TempDir()
			var k killer
			srv.Handle(tt.method, func(c fakeslack.Call) map[string]any {
				if !tt.match(c) || k.fired.Load() {
					return srv.Builtin(c)
				}
				var resp map[string]any
				if tt.deliver {
					resp = srv.Builtin(c)
				}
				k.fire()
				if resp == nil {
					resp = map[string]any{"ok": false, "error": "fatal_error"}
				}
				return resp // to a dead process
			})
			first := startServe(t, ctx, srv, quizEnv(dataDir)...)
			k.arm(first)
			if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")); err != nil {
				t.Fatal(err)
			}
			// One click before the kill, if the question is out by then.
			if strings.Contains(tt.name, "reveal") {
				qm := ofKind(waitQuiz(t, ctx, srv, "CQUIZ", "the question", func(ms []quizMsg) bool { return len(ofKind(ms, "question")) == 1 }, first.Logs), "question")[0]
				if _, err := srv.Send(ctx, quizClick(srv, "CQUIZ", qm, "UEARLY", 0)); err != nil {
					t.Fatal(err)
				}
			}
			if err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return k.fired.Load() }); err != nil {
				t.Fatalf("the kill point was never reached: %v\n%s", err, first.Logs())
			}

			second := restart(t, ctx, srv, dataDir)
			restarted := time.Now()
			rctx, rcancel := context.WithTimeout(ctx, tt.within)
			waitLog(t, rctx, second, tt.resumeLog)
			rcancel()
			// Whole: one question, revealed, one result line in its thread.
			done := func(ms []quizMsg) bool {
				qs, rs := ofKind(ms, "question"), ofKind(ms, "result")
				return len(qs) >= 1 && qs[0].revealed() && len(rs) >= 1
			}
			ms := waitQuiz(t, ctx, srv, "CQUIZ", "the reveal and its result line", done, second.Logs)
			whole := time.Since(restarted)
			// Anything more would be a duplicate: give it time to appear.
			waitLog(t, ctx, second, "quiz: revealed")
			ms = quizMessages(srv, "CQUIZ")
			qs, rs := ofKind(ms, "question"), ofKind(ms, "result")
			if len(qs) != 1 || len(rs) != 1 || rs[0].Thread != qs[0].TS {
				t.Fatalf("quiz messages = %+v, want one question and one result line in its thread\nlogs:\n%s", ms, second.Logs())
			}
			if strings.Count(second.Logs(), "quiz: revealed") != 1 && !strings.Contains(first.Logs(), "quiz: revealed") {
				t.Errorf("revealed %d times after the restart", strings.Count(second.Logs(), "quiz: revealed"))
			}
			t.Logf("whole again %v after the restart", whole.Round(time.Millisecond))

			// The next post-now asks another question. (Within 10 s of the
			// first, a post-now is taken for a double submit: ask again
			// every 2 s until it is taken.)
			ask := time.NewTicker(2 * time.Second)
			defer ask.Stop()
			for len(ofKind(quizMessages(srv, "CQUIZ"), "question")) < 2 {
				if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")); err != nil {
					t.Fatal(err)
				}
				select {
				case <-ctx.Done():
					t.Fatalf("no second question:\n%s", second.Logs())
				case <-ask.C:
				}
			}
			ms = quizMessages(srv, "CQUIZ")
			qs = ofKind(ms, "question")
			if qs[0].Text == qs[1].Text {
				t.Errorf("the next quiz repeats the question: %q", qs[1].Text)
			}
		})
	}
}

// TestQuizSIGTERMDuringSlowPost stops serve while Slack sits on the quiz
// post: it exits within 5 s; the post then lands after all, and the next
// serve finds it instead of posting it again.
func TestQuizSIGTERMDuringSlowPost(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv.Handle("chat.postMessage", func(c fakeslack.Call) map[string]any {
		if metaKind(c) == "question" {
			first := false
			once.Do(func() { first = true })
			if first {
				close(held)
				<-release // Slack is slow; the message lands when released
			}
		}
		return srv.Builtin(c)
	})
	first := startServe(t, ctx, srv, quizEnv(dataDir)...)
	srv.SendAsync(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1"))
	select {
	case <-held:
	case <-ctx.Done():
		t.Fatalf("the post never reached Slack:\n%s", first.Logs())
	}
	sent := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-first.logsDone
	err := first.cmd.Wait()
	took := time.Since(sent)
	if err != nil || took > 5*time.Second {
		t.Errorf("serve after SIGTERM with a post in flight: %v after %v, want exit 0 within 5 s\n%s", err, took, first.Logs())
	}
	close(release) // the post lands after the process is gone
	waitQuiz(t, ctx, srv, "CQUIZ", "the late post", func(ms []quizMsg) bool { return len(ms) == 1 }, first.Logs)

	second := restart(t, ctx, srv, dataDir)
	waitLog(t, ctx, second, "found the message of an unconfirmed post in Slack")
	waitQuiz(t, ctx, srv, "CQUIZ", "the reveal", func(ms []quizMsg) bool {
		qs := ofKind(ms, "question")
		return len(qs) == 1 && qs[0].revealed() && len(ofKind(ms, "result")) == 1
	}, second.Logs)
	if qs := ofKind(quizMessages(srv, "CQUIZ"), "question"); len(qs) != 1 {
		t.Errorf("%d questions posted, want 1", len(qs))
	}
	t.Logf("exited %v after SIGTERM with the post in flight", took.Round(time.Millisecond))
}

// TestQuizSIGKILLWithoutHistoryScope: an app installed without the history
// scopes cannot look for a post whose outcome it does not know, so it gives
// the post up rather than risk it twice, and a click on the stray message
// is answered "closed", not recorded for a quiz nobody will reveal.
func TestQuizSIGKILLWithoutHistoryScope(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New(fakeslack.WithoutHistory())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	var k killer
	srv.Handle("chat.postMessage", func(c fakeslack.Call) map[string]any {
		resp := srv.Builtin(c)
		if metaKind(c) == "question" {
			k.fire()
		}
		return resp
	})
	first := startServe(t, ctx, srv, quizEnv(dataDir)...)
	k.arm(first)
	srv.SendAsync(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1"))
	if err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return k.fired.Load() }); err != nil {
		t.Fatal(err)
	}
	second := restart(t, ctx, srv, dataDir)
	waitLog(t, ctx, second, "cannot tell whether a quiz was posted; giving it up")
	qm := ofKind(quizMessages(srv, "CQUIZ"), "question")[0]
	env := quizClick(srv, "CQUIZ", qm, "USTRAY", 0)
	if _, err := srv.Send(ctx, env); err != nil {
		t.Fatal(err)
	}
	url := env.Payload["response_url"].(string)
	if err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return len(responses(srv, url)) == 1 }); err != nil {
		t.Fatalf("no reply to a click on the stray message: %v\n%s", err, second.Logs())
	}
	if got := responses(srv, url)[0]; !strings.Contains(got, "closed") {
		t.Errorf("click on the stray message = %q, want it closed", got)
	}
	if qs := ofKind(quizMessages(srv, "CQUIZ"), "question"); len(qs) != 1 {
		t.Errorf("%d questions posted, want the one (never twice)", len(qs))
	}
}
