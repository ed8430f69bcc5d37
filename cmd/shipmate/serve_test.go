package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
	"shipmate/store"
)

// binary is the real shipmate binary, built once for the process tests as
// the Dockerfile builds it (static, stripped), or with -race when the tests
// run with it, so they exercise what ships.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "shipmate-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "shipmate")
	args := []string{"build", "-o", bin}
	env := os.Environ()
	if raceEnabled {
		args = append(args, "-race")
	} else {
		args = append(args, "-trimpath", "-ldflags=-s -w")
		env = append(env, "CGO_ENABLED=0")
	}
	// go test puts its own toolchain first on PATH.
	build := exec.Command("go", append(args, ".")...)
	build.Env = env
	out, err := build.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := binary(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// shipmateCmd is the built binary with args, environment env (on top of
// this process's) and a working directory without a .env.
func shipmateCmd(t testing.TB, ctx context.Context, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	if raceEnabled {
		// The race runtime sleeps a second before exiting, which the
		// shipped binary does not.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

// child is `shipmate serve` running as a process against a fake Slack.
type child struct {
	cmd      *exec.Cmd
	health   string // base URL of the health endpoints
	logsDone chan struct{}
	mu       sync.Mutex
	logs     strings.Builder
}

func (c *child) Logs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

// startServe starts serve with the fake's tokens and extra environment, and
// waits until its health endpoints listen.
func startServe(t testing.TB, ctx context.Context, srv *fakeslack.Server, env ...string) *child {
	t.Helper()
	c, addr := launchServe(t, ctx, append([]string{
		"SLACK_BOT_TOKEN=" + srv.BotToken(),
		"SLACK_APP_TOKEN=" + srv.AppToken(),
		"SLACK_API_URL=" + srv.APIURL(),
	}, env...)...)
	select {
	case a := <-addr:
		c.health = "http://" + a
	case <-ctx.Done():
		t.Fatalf("serve did not start its health endpoints:\n%s", c.Logs())
	}
	if err := srv.WaitConnections(ctx, 1); err != nil {
		t.Fatalf("serve did not connect: %v\n%s", err, c.Logs())
	}
	return c
}

// launchServe starts serve with env (tokens and API URL included) and
// collects its logs; the channel gets the health endpoints' address once
// they listen. At cleanup the process is killed and its logs are checked
// for tokens.
func launchServe(t testing.TB, ctx context.Context, env ...string) (*child, <-chan string) {
	t.Helper()
	cmd := shipmateCmd(t, ctx, append([]string{
		"HTTP_ADDR=127.0.0.1:0",
		"LOG_FORMAT=json",
		"QUIZ_CHANNEL=",
		"DATA_DIR=" + t.TempDir(),
	}, env...), "serve")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, logsDone: make(chan struct{})}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.logsDone
		cmd.Wait()
		checkNoTokens(t, c.Logs())
	})
	addr := make(chan string, 1)
	go func() {
		defer close(c.logsDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.logs.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "health endpoints listening" {
				select {
				case addr <- rec["addr"].(string):
				default: // a restart's second address is not waited for
				}
			}
		}
	}()
	return c, addr
}

// TestServeLifecycle runs `shipmate serve` as a process against a fake
// Slack: it connects, reports ready on /readyz, answers a mention, and on
// SIGTERM finishes and exits 0.
func TestServeLifecycle(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	c := startServe(t, ctx, srv)

	if code := get(t, c.health+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	// Ready follows the connection; poll with the test's deadline.
	for get(t, c.health+"/readyz") != http.StatusOK {
		select {
		case <-ctx.Done():
			t.Fatal("/readyz never became 200")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := srv.Send(ctx, srv.EventEnvelope("", srv.AppMention("U1", "C1", "<@UBOT> serverless containers, no node ops"))); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitCalls(ctx, "chat.postMessage", 1); err != nil {
		t.Fatal(err)
	}

	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-c.logsDone // all of stderr read: Wait closes the pipe
	err := c.cmd.Wait()
	logs := c.Logs()
	if err != nil {
		t.Fatalf("serve after SIGTERM: %v, want exit 0\nlogs:\n%s", err, logs)
	}
	if !strings.Contains(logs, "shipmate stopped") {
		t.Errorf("serve did not log a clean stop:\n%s", logs)
	}
	for _, tok := range []string{srv.BotToken(), srv.AppToken()} {
		if strings.Contains(logs, tok) {
			t.Errorf("a token appears in the logs")
		}
	}
}

// TestKillDuringClickBurst kills serve with SIGKILL in the middle of a burst
// of quiz answers: every answer whose user was told it was recorded is in
// the store afterwards.
func TestKillDuringClickBurst(t *testing.T) {
	t.Parallel()
	srv := fakeslack.New()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	// A schedule that does not fire today, so the only quiz is the one
	// posted here (a weekday 09:00 slot within the grace would be posted
	// at start-up, and revealed by the next post).
	c := startServe(t, ctx, srv, "QUIZ_CHANNEL=CQUIZ", "QUIZ_ADMINS=UADMIN", "DATA_DIR="+dataDir,
		"QUIZ_SCHEDULE=CRON_TZ=UTC 0 0 1 1 *", "QUIZ_GRACE=0")

	if _, err := srv.Send(ctx, srv.SlashEnvelope("/shipmate", "quiz post-now", "UADMIN", "C1")); err != nil {
		t.Fatal(err)
	}
	qm := ofKind(waitQuiz(t, ctx, srv, "CQUIZ", "the quiz post", func(ms []quizMsg) bool { return len(ms) > 0 }, c.Logs), "question")[0]
	quizID := qm.QuizID

	const clicks = 300
	users := map[string]string{} // response URL → user
	acks := make([]<-chan fakeslack.Ack, 0, clicks)
	for i := range clicks {
		user := fmt.Sprintf("UCLICK%03d", i)
		env := quizClick(srv, "CQUIZ", qm, user, 0)
		users[env.Payload["response_url"].(string)] = user
		acks = append(acks, srv.SendAsync(ctx, env))
	}
	// Kill once some answers have been confirmed, while others are in flight.
	if err := srv.WaitFor(ctx, func(cs []fakeslack.Call) bool { return len(confirmed(cs, users)) >= clicks/10 }); err != nil {
		t.Fatalf("%v: %d answers confirmed\nlogs:\n%s", err, len(confirmed(srv.Calls(), users)), c.Logs())
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	for _, a := range acks {
		<-a // acked, or failed because the process died
	}
	told := confirmed(srv.Calls(), users)
	if len(told) == clicks {
		t.Logf("every click was confirmed before the kill landed; the check still holds")
	}

	st, err := store.Open(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, _ := strconv.ParseInt(quizID, 10, 64)
	answers, err := st.Answers(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, a := range answers {
		stored[a.User] = true
	}
	for user := range told {
		if !stored[user] {
			t.Errorf("%s was told the answer was recorded, but the store lacks it", user)
		}
	}
	t.Logf("%d clicks, %d confirmed before SIGKILL, %d stored", clicks, len(told), len(stored))
}

// confirmed returns the users whose response URL got a "recorded" reply.
func confirmed(cs []fakeslack.Call, users map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, c := range cs {
		if c.Method != fakeslack.MethodResponseURL || c.Error != "" {
			continue
		}
		for url, user := range users {
			if strings.HasSuffix(url, c.Path) && strings.Contains(c.Param("text"), "recorded") {
				out[user] = true
			}
		}
	}
	return out
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeConfigErrors: a missing or malformed token stops start-up with a
// message naming the variable.
func TestServeConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "SLACK_BOT_TOKEN is not set"},
		{map[string]string{"SLACK_BOT_TOKEN": "xapp-1", "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN must be a bot token"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "QUIZ_SCHEDULE": "CRON_TZ=UTC"}, "QUIZ_SCHEDULE"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "LOG_FORMAT": "xml"}, "LOG_FORMAT"},
	}
	for _, tt := range tests {
		tt.env["DATA_DIR"] = t.TempDir()
		_, _, err := runCmd(t, tt.env, "", "serve")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve with %v = %v, want an error containing %q", tt.env, err, tt.want)
		}
	}
}

// A malformed .env fails start-up without echoing the file: godotenv's own
// message quotes it, tokens included.
func TestDotEnvErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	const token = "xoxb-1111-SECRET-NEVER-PRINT"
	for _, body := range []string{
		"SLACK_BOT_TOKEN=\"" + token + "\n",
		"LOG-LEVEL=debug\nSLACK_BOT_TOKEN=" + token + "\n",
	} {
		path := t.TempDir() + "/.env"
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := withDotEnv(func(string) string { return "" }, path)
		if err == nil {
			t.Errorf("withDotEnv(%q) = nil error, want malformed", body)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("withDotEnv error leaks the file: %v", err)
		}
	}
	// The real environment wins over the file.
	path := t.TempDir() + "/.env"
	os.WriteFile(path, []byte("LOG_LEVEL=debug\nLOG_FORMAT=text\n"), 0o600)
	getenv, err := withDotEnv(func(k string) string { return map[string]string{"LOG_LEVEL": "warn"}[k] }, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := getenv("LOG_LEVEL"); got != "warn" {
		t.Errorf("LOG_LEVEL = %q, want the environment's warn", got)
	}
	if got := getenv("LOG_FORMAT"); got != "text" {
		t.Errorf("LOG_FORMAT = %q, want the file's text", got)
	}
}
