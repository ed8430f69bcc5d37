package metrics_test

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"shipmate/metrics"
)

func TestScrape(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.Envelope("events_api")
	m.Envelope("events_api")
	m.Acked(0.002)
	m.Replied("mention", 0.4)
	m.Abandoned("slash", "deadline")
	m.Answered("confident")
	m.Feedback(true)
	m.APICall("chat.postMessage", metrics.ResultRateLimited, 0.01)
	m.APICall("chat.postMessage", metrics.ResultOK, 0.01)
	m.Connected(true)
	m.Reconnected()
	m.QuizPosted()
	m.QuizAnswered("correct")
	m.QuizRevealed()
	m.StoreError("record_answer")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	text := string(body)
	for _, want := range []string{
		`shipmate_envelopes_total{type="events_api"} 2`,
		`shipmate_ack_seconds_count 1`,
		`shipmate_reply_seconds_count{kind="mention"} 1`,
		`shipmate_replies_total{kind="mention"} 1`,
		`shipmate_replies_abandoned_total{kind="slash",reason="deadline"} 1`,
		`shipmate_answers_total{outcome="confident"} 1`,
		`shipmate_feedback_clicks_total{verdict="helpful"} 1`,
		`shipmate_slack_api_calls_total{method="chat.postMessage",result="429"} 1`,
		`shipmate_slack_api_calls_total{method="chat.postMessage",result="ok"} 1`,
		`shipmate_slack_api_call_seconds_count{method="chat.postMessage"} 2`,
		`shipmate_socket_connected 1`,
		`shipmate_socket_reconnects_total 1`,
		`shipmate_quiz_posts_total 1`,
		`shipmate_quiz_answers_total{result="correct"} 1`,
		`shipmate_quiz_reveals_total 1`,
		`shipmate_store_errors_total{op="record_answer"} 1`,
		`shipmate_build_info{`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// Conventions: shipmate_ prefix, counters end in _total, durations in
	// seconds, and no label that could hold a user or channel id.
	for _, line := range strings.Split(text, "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "shipmate_") {
			continue
		}
		f := strings.Fields(name)
		switch {
		case f[1] == "counter" && !strings.HasSuffix(f[0], "_total"):
			t.Errorf("counter %s does not end in _total", f[0])
		case f[1] == "histogram" && !strings.HasSuffix(f[0], "_seconds"):
			t.Errorf("histogram %s is not in seconds", f[0])
		}
	}
	if regexp.MustCompile(`(user|channel|team)="`).MatchString(text) {
		t.Errorf("a metric is labelled with a user, channel or team:\n%s", text)
	}
}
