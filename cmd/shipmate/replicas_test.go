package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shipmate/internal/fakeslack"
	"shipmate/store"
	"shipmate/store/storetest"
)

// Two real `shipmate serve` processes, each with its own DATA_DIR, share
// one PostgreSQL database and one fake Slack, which deals envelopes to
// their connections in turn: they behave as one bot.

// startReplicas starts n replicas on databaseURL and waits until all are
// connected.
func startReplicas(t *testing.T, ctx context.Context, srv *fakeslack.Server, n int, databaseURL string, env ...string) []*child {
	t.Helper()
	var cs []*child
	for range n {
		cs = append(cs, startReplica(t, ctx, srv, databaseURL, env...))
	}
	if err := srv.WaitConnections(ctx, n); err != nil {
		t.Fatalf("replicas did not all connect: %v", err)
	}
	return cs
}

func startReplica(t *testing.T, ctx context.Context, srv *fakeslack.Server, databaseURL string, env ...string) *child {
	t.Helper()
	return startServe(t, ctx, srv, append([]string{"DATABASE_URL=" + databaseURL, "QUIZ_CHANNEL=CQUIZ", "QUIZ_ADMINS=UADMIN"}, env...)...)
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-c.logsDone
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("replica after SIGTERM: %v\n%s", err, c.Logs())
	}
}

// responses returns the texts posted to a response URL.
func responses(srv *fakeslack.Server, url string) []string {
	var out []string
	for _, c := range srv.CallsTo(fakeslack.MethodResponseURL) {
		if c.Error == "" && strings.HasSuffix(url, c.Path) {
			out = append(out, c.Param("text"))
		}
	}
	return out
}

func TestReplicasAnswerOnce(t *testing.T) {
	t.Parallel()
	db := storetest.PostgresURL(t)
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	quiet := []string{"QUIZ_SCHEDULE=CRON_TZ=UTC 0 0 1 1 *", "QUIZ_GRACE=0", "QUIZ_REVEAL_AFTER=1h"}
	rs := startReplicas(t, ctx, srv, 2, db, quiet...)
	logs := func() string { return rs[0].Logs() + "\n--- replica 2\n" + rs[1].Logs() }

	// A retried event (same event_id, new envelope) lands on the other
	// connection: answered once.
	for i := range 5 {
		eventID := fmt.Sprintf("EvRETRY%d", i)
		ev := srv.AppMention("U1", "C1", fmt.Sprintf("<@UBOT> serverless containers without managing servers %d", i))
		first := srv.EventEnvelope(eventID, ev)
		retry := srv.EventEnvelope(eventID, ev)
		retry.RetryAttempt, retry.RetryReason = 1, "timeout"
		a1, a2 := srv.SendAsync(ctx, first), srv.SendAsync(ctx, retry)
		if a := <-a1; a.Err != nil {
			t.Fatal(a.Err)
		}
		if a := <-a2; a.Err != nil {
			t.Fatal(a.Err)
		}
	}
	replies := func(cs []fakeslack.Call) int {
		n := 0
		for _, c := range cs {
			if c.Method == "chat.postMessage" && c.Param("channel") == "C1" && c.Error == "" {
				n++
			}
		}
		return n
	}
	if err := srv.WaitFor(ctx, func(cs []fakeslack.Call) bool { return replies(cs) >= 5 }); err != nil {
		t.Fatalf("mentions not answered: %v\n%s", err, logs())
	}
	// A second answer would come from the other replica's worker: wait for
	// both to have handled their envelope (the duplicate is logged at debug,
	// so look for the Slack side to settle on a later mention instead).
	if _, err := srv.Send(ctx, srv.EventEnvelope("", srv.AppMention("U1", "C2", "<@UBOT> ecs or eks?"))); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Send(ctx, srv.EventEnvelope("", srv.AppMention("U1", "C2", "<@UBOT> ecs or eks?"))); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFor(ctx, func(cs []fakeslack.Call) bool {
		n := 0
		for _, c := range cs {
			if c.Method == "chat.postMessage" && c.Param("channel") == "C2" && c.Error == "" {
				n++
			}
		}
		return n == 2
	}); err != nil {
		t.Fatal(err)
	}
	if n := replies(srv.Calls()); n != 5 {
		t.Errorf("5 events, each delivered twice over two replicas: %d replies, want 5", n)
	}

	// A quiz, and clicks spread over the replicas: each user clicks twice,
	// the clicks land on different connections, and each counts once.
	if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")); err != nil {
		t.Fatal(err)
	}
	qm := ofKind(waitQuiz(t, ctx, srv, "CQUIZ", "the quiz", func(ms []quizMsg) bool { return len(ofKind(ms, "question")) == 1 }, logs), "question")[0]
	const users = 40
	urls := map[string][]string{}
	var acks []<-chan fakeslack.Ack
	for i := range users {
		user := fmt.Sprintf("UREP%02d", i)
		for c := range 2 {
			env := quizClick(srv, "CQUIZ", qm, user, (i+c)%2)
			urls[user] = append(urls[user], env.Payload["response_url"].(string))
			acks = append(acks, srv.SendAsync(ctx, env))
		}
	}
	for _, a := range acks {
		if r := <-a; r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for user, us := range urls {
		var texts []string
		for _, u := range us {
			err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return len(responses(srv, u)) == 1 })
			if err != nil {
				t.Fatalf("%s got no reply to a click: %v\n%s", user, err, logs())
			}
			texts = append(texts, responses(srv, u)[0])
		}
		recorded := 0
		for _, tx := range texts {
			if strings.Contains(tx, "recorded") {
				recorded++
			}
		}
		if recorded != 1 {
			t.Errorf("%s: replies %q, want exactly one recorded", user, texts)
		}
	}
	st, err := store.OpenURL(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, _ := strconv.ParseInt(qm.QuizID, 10, 64)
	answers, err := st.Answers(ctx, id)
	if err != nil || len(answers) != users {
		t.Errorf("stored answers = %d (%v), want %d", len(answers), err, users)
	}
	// The state is in PostgreSQL: neither DATA_DIR has a SQLite file.
	for _, c := range rs {
		for _, e := range c.cmd.Env {
			if dir, ok := strings.CutPrefix(e, "DATA_DIR="); ok {
				if _, err := os.Stat(filepath.Join(dir, store.FileName)); err == nil {
					t.Errorf("a replica made a SQLite file in %s", dir)
				}
			}
		}
	}

	// Scores survive restarts of both.
	rs[0].stop(t)
	rs[1].stop(t)
	if err := srv.WaitStats(ctx, func(s fakeslack.Stats) bool { return s.Live == 0 }); err != nil {
		t.Fatal(err)
	}
	rs = startReplicas(t, ctx, srv, 2, db, quiet...)
	env := srv.SlashEnvelope("/shipmate", "stats", "UREP01", "C1")
	if _, err := srv.Send(ctx, env); err != nil {
		t.Fatal(err)
	}
	url := env.Payload["response_url"].(string)
	if err := srv.WaitFor(ctx, func([]fakeslack.Call) bool { return len(responses(srv, url)) == 1 }); err != nil {
		t.Fatal(err)
	}
	if got := responses(srv, url)[0]; !strings.Contains(got, "1/1 right") && !strings.Contains(got, "0/1 right") {
		t.Errorf("stats after restarting both = %q, want UREP01's one answer", got)
	}
}

// TestReplicasScheduleOnce runs 3-second slots on two replicas through a
// rolling restart (SIGTERM of the scheduler, a new replica) and a SIGKILL
// of the next scheduler: the other takes over at once and no slot is
// posted twice.
func TestReplicasScheduleOnce(t *testing.T) {
	t.Parallel()
	db := storetest.PostgresURL(t)
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	slots := []string{"QUIZ_SCHEDULE=@every 3s", "QUIZ_GRACE=0", "QUIZ_REVEAL_AFTER=2s"}
	rs := startReplicas(t, ctx, srv, 2, db, slots...)
	all := append([]*child(nil), rs...)
	logs := func() string {
		var b strings.Builder
		for i, c := range all {
			fmt.Fprintf(&b, "--- replica %d\n%s", i+1, c.Logs())
		}
		return b.String()
	}
	holder := func(cs []*child) *child {
		t.Helper()
		var found *child
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for found == nil {
			for _, c := range cs {
				if strings.Contains(c.Logs(), "this process runs the quiz scheduler") {
					found = c
				}
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no replica took the scheduler lock:\n%s", logs())
			case <-tick.C:
			}
		}
		return found
	}
	questions := func() int { return len(ofKind(quizMessages(srv, "CQUIZ"), "question")) }
	waitQuestions := func(n int) {
		t.Helper()
		waitQuiz(t, ctx, srv, "CQUIZ", fmt.Sprintf("%d questions", n), func(ms []quizMsg) bool { return len(ofKind(ms, "question")) >= n }, logs)
	}
	waitQuestions(2)

	// Rolling restart: SIGTERM the scheduler; it finishes and hands the
	// lock back; a new replica joins.
	h := holder(rs)
	other := rs[0]
	if other == h {
		other = rs[1]
	}
	h.stop(t)
	before := questions()
	waitLog(t, ctx, other, "this process runs the quiz scheduler")
	fresh := startReplica(t, ctx, srv, db, slots...)
	all = append(all, fresh)
	waitQuestions(before + 2)

	// SIGKILL the new scheduler: the standby takes over within seconds.
	other.cmd.Process.Signal(syscall.SIGKILL)
	other.cmd.Wait()
	killed := time.Now()
	before = questions()
	waitLog(t, ctx, fresh, "this process runs the quiz scheduler")
	t.Logf("standby took over %v after SIGKILL", time.Since(killed).Round(time.Millisecond))
	waitQuestions(before + 2)
	fresh.stop(t)

	// Every question message is its own quiz, each posted once and
	// revealed at most once with at most one result line.
	ms := quizMessages(srv, "CQUIZ")
	byQuiz := map[string]int{}
	results := map[string]int{}
	for _, m := range ms {
		switch m.Kind {
		case "question":
			byQuiz[m.QuizID]++
		case "result":
			results[m.QuizID]++
		}
	}
	for id, n := range byQuiz {
		if n != 1 {
			t.Errorf("quiz %s posted %d times", id, n)
		}
		if results[id] > 1 {
			t.Errorf("quiz %s has %d result lines", id, results[id])
		}
	}
	st, err := store.OpenURL(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	qs, err := st.Quizzes(ctx, "CQUIZ")
	if err != nil {
		t.Fatal(err)
	}
	posted := 0
	for _, q := range qs {
		if q.Posted() {
			posted++
		}
	}
	if posted != len(byQuiz) {
		t.Errorf("%d quizzes recorded as posted in PostgreSQL, %d in Slack", posted, len(byQuiz))
	}
	t.Logf("%d slots posted, each once, across a rolling restart and a SIGKILL", len(byQuiz))
}

// TestReplicasSchedulerConnectionDropped: PostgreSQL ends the scheduler's
// lock session (pg_terminate_backend, as a failover or an idle-session
// killer would): the advisory lock is gone, so the holder stops
// scheduling and the standby takes over; 3-second slots go on, each
// posted once.
func TestReplicasSchedulerConnectionDropped(t *testing.T) {
	t.Parallel()
	db := storetest.PostgresURL(t)
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	slots := []string{"QUIZ_SCHEDULE=@every 3s", "QUIZ_GRACE=0", "QUIZ_REVEAL_AFTER=2s"}
	rs := startReplicas(t, ctx, srv, 2, db, slots...)
	logs := func() string { return "--- replica 1\n" + rs[0].Logs() + "--- replica 2\n" + rs[1].Logs() }
	waitQuiz(t, ctx, srv, "CQUIZ", "2 questions", func(ms []quizMsg) bool { return len(ofKind(ms, "question")) >= 2 }, logs)
	holder, standby := rs[0], rs[1]
	for strings.Count(holder.Logs(), "this process runs the quiz scheduler") == 0 {
		holder, standby = standby, holder
		select {
		case <-ctx.Done():
			t.Fatalf("no scheduler:\n%s", logs())
		case <-time.After(20 * time.Millisecond):
		}
	}

	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var pid int
	err = conn.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&pid)
	if err != nil {
		t.Fatalf("find the scheduler's lock session: %v", err)
	}
	var ended bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ended); err != nil || !ended {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ended, err)
	}
	dropped := time.Now()
	waitLog(t, ctx, holder, "lost the scheduler lock")
	waitLog(t, ctx, standby, "this process runs the quiz scheduler")
	t.Logf("standby took over %v after the lock session ended", time.Since(dropped).Round(time.Millisecond))
	before := len(ofKind(quizMessages(srv, "CQUIZ"), "question"))
	waitQuiz(t, ctx, srv, "CQUIZ", "2 more questions", func(ms []quizMsg) bool { return len(ofKind(ms, "question")) >= before+2 }, logs)
	if n := strings.Count(holder.Logs(), "this process runs the quiz scheduler"); n != 1 {
		t.Errorf("the replica that lost the lock took it %d times, want once (the standby holds it)", n)
	}

	// The old holder stopped: every slot posted once, and PostgreSQL has
	// them all.
	rs[0].stop(t)
	rs[1].stop(t)
	byQuiz := map[string]int{}
	for _, m := range ofKind(quizMessages(srv, "CQUIZ"), "question") {
		byQuiz[m.QuizID]++
	}
	for id, n := range byQuiz {
		if n != 1 {
			t.Errorf("quiz %s posted %d times", id, n)
		}
	}
	var posted, slotsPosted, epoch int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM quizzes WHERE posted_at IS NOT NULL`).Scan(&posted); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM slots WHERE state = 'posted'`).Scan(&slotsPosted); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT epoch FROM scheduler WHERE name = 'CQUIZ'`).Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	if posted != len(byQuiz) || slotsPosted != len(byQuiz) {
		t.Errorf("PostgreSQL has %d posted quizzes and %d posted slots, Slack %d questions", posted, slotsPosted, len(byQuiz))
	}
	if epoch < 2 {
		t.Errorf("scheduler epoch %d, want a second term after the takeover", epoch)
	}
}

// TestServeDatabaseURLErrors: a bad DATABASE_URL stops start-up with a
// message naming the variable, and never prints the password.
func TestServeDatabaseURLErrors(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"postgres://shipmate:S3CRETPW@[::1",                                                   // malformed
		"postgres://shipmate:S3CRETPW@127.0.0.1:1/shipmate?sslmode=disable&connect_timeout=2", // nothing listens
	} {
		env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "DATA_DIR": t.TempDir(), "DATABASE_URL": u, "LOG_LEVEL": "error"}
		_, stderr, err := runCmd(t, env, "", "serve")
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Errorf("serve with DATABASE_URL %s = %v, want an error naming DATABASE_URL", strings.ReplaceAll(u, "S3CRETPW", "…"), err)
		}
		if strings.Contains(fmt.Sprint(err)+stderr, "S3CRETPW") {
			t.Errorf("the password appears in the error or the logs: %v", err)
		}
	}
}
