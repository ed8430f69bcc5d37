package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"shipmate/content"
	"shipmate/index"
)

// oneLine joins s's words with single spaces, so that text can be found
// however it was wrapped.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// chatTurns plays lines through one chat and returns what each one printed.
func chatTurns(t *testing.T, lines ...string) []string {
	t.Helper()
	ix, err := index.New(content.MustLoadEmbedded())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	var out bytes.Buffer
	c := newChat(ix, &out)
	var turns []string
	for _, l := range lines {
		out.Reset()
		if c.turn(context.Background(), l) {
			t.Fatalf("chat ended on %q", l)
		}
		turns = append(turns, out.String())
	}
	out.Reset()
	c.leave()
	return append(turns, out.String())
}

// TestChatConversation: a follow-up is answered in the context of the
// chat (which also settles what would otherwise be asked back), and a
// number picks an option of a question back.
func TestChatConversation(t *testing.T) {
	t.Parallel()
	turns := chatTurns(t, "we run everything on kubernetes with helm charts", "and if we need GPUs?", "spot instances to save money")
	if !strings.Contains(turns[1], "EKS") || !strings.Contains(turns[1], "GPU") {
		t.Errorf("chat follow-up about GPUs after Kubernetes =\n%s\nwant an EKS GPU answer", turns[1])
	}
	if strings.Contains(turns[2], "Do you need the Kubernetes API") || !strings.Contains(turns[2], "EKS") || !strings.Contains(turns[2], "Spot") {
		t.Errorf("chat Spot question after Kubernetes =\n%s\nwant an EKS Spot answer, not a question back", turns[2])
	}
	turns = chatTurns(t, "spot instances to save money", "2")
	if !strings.Contains(turns[0], "Do you need the Kubernetes API") || !strings.Contains(turns[0], "\n1. ") || !strings.Contains(turns[0], "\n2. ") {
		t.Errorf("chat tie =\n%s\nwant a question back with numbered options", turns[0])
	}
	if !strings.Contains(turns[1], "on ecs") || !strings.Contains(turns[1], "ECS") {
		t.Errorf("chat option 2 =\n%s\nwant the ECS variant answered", turns[1])
	}
}

// TestChatPracticeQuiz: a practice question takes its answer until the
// next question, even after other questions; the next question reveals an
// unanswered one, and so does leaving.
func TestChatPracticeQuiz(t *testing.T) {
	t.Parallel()
	turns := chatTurns(t, "quiz", "explain ecs", "e", "a", "a", "quiz", "quiz")
	if !strings.Contains(turns[0], "A)  ") || !strings.Contains(turns[0], "Answer with A, B") {
		t.Errorf("chat quiz =\n%s\nwant a question with lettered choices", turns[0])
	}
	if !strings.Contains(turns[1], "Amazon Elastic Container Service") {
		t.Errorf("chat explain ecs during a quiz =\n%s\nwant ECS explained", turns[1])
	}
	if !strings.Contains(turns[2], "The choices are") {
		t.Errorf("chat answer e to a question with fewer choices =\n%s\nwant the choices named", turns[2])
	}
	if !strings.Contains(turns[3], "Right: A.") && !strings.Contains(turns[3], "Not quite: you chose A.") {
		t.Errorf("chat answer a after another question =\n%s\nwant it graded", turns[3])
	}
	if strings.Contains(turns[4], "Right: A.") || strings.Contains(turns[4], "Not quite") {
		t.Errorf("chat second answer a =\n%s\nwant it not graded again", turns[4])
	}
	if strings.Contains(turns[5], "The answer to") {
		t.Errorf("chat quiz after an answered question =\n%s\nwant no reveal", turns[5])
	}
	if !strings.Contains(turns[6], "The answer to") || strings.Index(turns[6], "The answer to") > strings.Index(turns[6], "A)  ") {
		t.Errorf("chat quiz over an unanswered question =\n%s\nwant its answer first, then the new question", turns[6])
	}
	if !strings.Contains(turns[7], "The answer to") {
		t.Errorf("leaving the chat with a question open =\n%s\nwant its answer", turns[7])
	}
}

// TestChatLongLine: a 1 MB line from a pipe is read (its start answered),
// and the lines after it too.
func TestChatLongLine(t *testing.T) {
	t.Parallel()
	long := "which service for GPU containers " + strings.Repeat("lorem ipsum ", 1<<20/12)
	out, errOut, err := runCmd(t, nil, long+"\nexplain fargate\n", "chat")
	if err != nil {
		t.Fatalf("chat with a 1 MB line: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "AWS Fargate\n") {
		t.Errorf("chat after a 1 MB line =\n%.2000s\nwant the next line answered", out)
	}
	if !strings.Contains(errOut, "line 1 has") {
		t.Errorf("chat stderr = %q, want the long line reported", errOut)
	}
}
