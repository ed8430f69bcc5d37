package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"shipmate/internal/fakeslack"
)

// quizMsg is a quiz message in the fake Slack: the question or its result
// line, by the metadata Shipmate tags them with.
type quizMsg struct {
	TS, Thread string
	QuizID     string
	Kind       string // "question" or "result"
	Text       string
	Blocks     string // JSON
}

// quizMessages lists the quiz messages of a channel, oldest first.
func quizMessages(srv *fakeslack.Server, channel string) []quizMsg {
	var out []quizMsg
	for _, m := range srv.Messages(channel) {
		md, _ := m["metadata"].(map[string]any)
		if md == nil || md["event_type"] != "shipmate_quiz" {
			continue
		}
		p, _ := md["event_payload"].(map[string]any)
		blocks, _ := json.Marshal(m["blocks"])
		q := quizMsg{TS: fmt.Sprint(m["ts"]), QuizID: fmt.Sprint(p["quiz_id"]), Kind: fmt.Sprint(p["kind"]), Text: fmt.Sprint(m["text"]), Blocks: string(blocks)}
		if th, ok := m["thread_ts"].(string); ok {
			q.Thread = th
		}
		out = append(out, q)
	}
	return out
}

// questions and results pick one kind of quizMessages.
func ofKind(ms []quizMsg, kind string) []quizMsg {
	var out []quizMsg
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// waitQuiz waits until cond holds for the channel's quiz messages.
func waitQuiz(t *testing.T, ctx context.Context, srv *fakeslack.Server, channel string, what string, cond func([]quizMsg) bool, logs func() string) []quizMsg {
	t.Helper()
	var ms []quizMsg
	err := srv.WaitFor(ctx, func([]fakeslack.Call) bool {
		ms = quizMessages(srv, channel)
		return cond(ms)
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v\nquiz messages: %+v\nlogs:\n%s", what, err, quizMessages(srv, channel), logs())
	}
	return ms
}

// quizClick is a click on choice of the quiz message m, as user.
func quizClick(srv *fakeslack.Server, channel string, m quizMsg, user string, choice int) fakeslack.Envelope {
	return srv.InteractiveEnvelope(map[string]any{
		"user":      map[string]any{"id": user},
		"channel":   map[string]any{"id": channel},
		"container": map[string]any{"type": "message", "message_ts": m.TS, "channel_id": channel},
		"actions": []any{map[string]any{
			"type": "button", "action_id": fmt.Sprintf("quiz_answer_%d", choice), "block_id": "quiz",
			"value": fmt.Sprintf("%s|%d", m.QuizID, choice), "action_ts": srv.NextTS(),
		}},
	})
}

// revealed reports whether a question message shows its answer.
func (m quizMsg) revealed() bool { return strings.Contains(m.Blocks, "the answer is") }
