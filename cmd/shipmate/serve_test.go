package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// TestMain lets a test run the real program in a child process: with
// SHIPMATE_RUN_MAIN set, the test binary is shipmate.
func TestMain(m *testing.M) {
	if os.Getenv("SHIPMATE_RUN_MAIN") != "" {
		os.Args = append([]string{"shipmate"}, strings.Fields(os.Getenv("SHIPMATE_RUN_MAIN"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
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

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Dir = t.TempDir() // no .env here; DATA_DIR defaults below it
	cmd.Env = append(os.Environ(),
		"SHIPMATE_RUN_MAIN=serve",
		"SLACK_BOT_TOKEN="+srv.BotToken(),
		"SLACK_APP_TOKEN="+srv.AppToken(),
		"SLACK_API_URL="+srv.APIURL(),
		"HTTP_ADDR=127.0.0.1:0",
		"LOG_FORMAT=json",
		"QUIZ_CHANNEL=",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logs strings.Builder
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "health endpoints listening" {
				addr <- rec["addr"].(string)
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-ctx.Done():
		t.Fatal("serve did not start its health endpoints")
	}
	if code := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if err := srv.WaitConnections(ctx, 1); err != nil {
		t.Fatalf("serve did not connect: %v", err)
	}
	// Ready follows the connection; poll with the test's deadline.
	for get(t, base+"/readyz") != http.StatusOK {
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

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	<-logsDone
	if err != nil {
		t.Fatalf("serve after SIGTERM: %v, want exit 0\nlogs:\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "shipmate stopped") {
		t.Errorf("serve did not log a clean stop:\n%s", logs.String())
	}
	for _, tok := range []string{srv.BotToken(), srv.AppToken()} {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("a token appears in the logs")
		}
	}
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
