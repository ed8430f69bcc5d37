package bot_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/index"
	"shipmate/quiz"
)

// checkGoldenJSON compares v, as indented JSON, with testdata/golden/name.json.
func checkGoldenJSON(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from %s (run with -update if the change is wanted):\n%s", name, path, lineDiff(string(want), buf.String()))
	}
}

var gapT0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func sampleGaps() []bot.Gap {
	at := func(h int) time.Time { return gapT0.Add(time.Duration(h) * time.Hour) }
	gaps := []bot.Gap{
		{Kind: bot.GapDeclined, Question: "Can we run Windows containers on Fargate Spot?", User: "U1", At: at(1)},
		{Kind: bot.GapDeclined, Question: "windows containers on fargate spot?", User: "U2", At: at(2)},
		{Kind: bot.GapNotHelpful, Question: "Windows containers with Fargate Spot, possible?", Answer: "scenario/fargate-spot", Comment: "Spot is Linux only, it did not say so", User: "U3", At: at(3)},
		{Kind: bot.GapDeclined, Question: "how do I bake sourdough <bread> & rolls?", User: "U4", At: at(4)},
		{Kind: bot.GapClarified, Question: "we need an orchestrator", Answer: "Kubernetes API", User: "U5", At: at(5)},
		{Kind: bot.GapClarified, Question: "we need an orchestrator!", Answer: "Kubernetes API", User: "U6", At: at(6)},
		{Kind: bot.GapClarified, Question: "need an orchestrator", Answer: "No Kubernetes", User: "U7", At: at(7)},
	}
	for i := range gaps {
		gaps[i].Terms = bot.GapTerms(gaps[i].Question)
	}
	return gaps
}

func TestGapReportGrouping(t *testing.T) {
	t.Parallel()
	r := bot.BuildGapReport(sampleGaps(), gapT0, gapT0.Add(7*24*time.Hour))
	if len(r.Gaps) != 2 {
		t.Fatalf("BuildGapReport gaps = %+v, want 2 groups (Windows on Fargate Spot ×3, bread ×1)", r.Gaps)
	}
	win := r.Gaps[0]
	if win.Count != 3 || win.Declined != 2 || win.NotHelpful != 1 || len(win.Wordings) != 2 {
		t.Errorf("first group = %+v, want 3 records (2 declined, 1 not helpful) in 3 wordings", win)
	}
	if !slices.Equal(win.Answers, []string{"scenario/fargate-spot"}) || len(win.Comments) != 1 {
		t.Errorf("first group answers %v comments %v, want the answer shown and the comment", win.Answers, win.Comments)
	}
	if len(r.Clarified) != 1 || r.Clarified[0].Count != 3 || !slices.Equal(r.Clarified[0].Answers, []string{"Kubernetes API ×2", "No Kubernetes"}) {
		t.Errorf("clarified = %+v, want one group of 3 with the options chosen", r.Clarified)
	}
}

func TestGapTerms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{"Windows containers on Fargate Spot?", "windows container on fargate spot", true},
		{"<@U1> what's the price of EKS?", "EKS price", true},
		{"how do I bake bread?", "EKS price", false},
	}
	for _, tt := range tests {
		a, b := bot.GapTerms(tt.a), bot.GapTerms(tt.b)
		if got := slices.Equal(a, b); got != tt.same {
			t.Errorf("GapTerms(%q) = %v, GapTerms(%q) = %v; same = %t, want %t", tt.a, a, tt.b, b, got, tt.same)
		}
	}
	if got := bot.GapTerms("what is it?"); len(got) != 0 {
		t.Errorf("GapTerms of stop words = %v, want none", got)
	}
}

func TestConversationGolden(t *testing.T) {
	t.Parallel()
	// A question of the test's own, so content edits do not change the files.
	q := content.Question{ID: "q1", Topic: "fargate", Difficulty: "easy", Question: "Which launch type bills per vCPU and GiB while a task <runs>?",
		Choices: []content.Choice{{Text: "EC2", Why: "You pay for the instances."}, {Text: "Fargate", Correct: true, Why: "Fargate bills the task's resources & time."}}}
	report := bot.BuildGapReport(sampleGaps(), gapT0, gapT0.Add(7*24*time.Hour))
	gaps := bot.RenderBlocks(bot.Reply{Gaps: &bot.GapsReply{Report: report, Period: "the last 7 days"}}, sharedIndex(t).ServiceName, bot.RenderOptions{Command: "gaps"})
	checkGolden(t, "gaps", gaps)
	checkLimits(t, gaps)

	empty := bot.RenderBlocks(bot.Reply{Gaps: &bot.GapsReply{Period: "the last 30 days"}}, sharedIndex(t).ServiceName, bot.RenderOptions{})
	checkGolden(t, "gaps-empty", empty)

	decline := bot.RenderBlocks(bot.Reply{Answer: answer(t, "how do I bake sourdough bread")}, sharedIndex(t).ServiceName, bot.RenderOptions{Command: "bread"})
	checkGolden(t, "decline-hint", bot.HelpHint(decline, []string{"what is fargate spot?", "push code & have <aws> run it"}))

	asked := &index.Answer{Question: "we need an orchestrator", Answers: []index.Hit{}, Clarify: &index.Clarify{
		Question: "Do you need the Kubernetes API?",
		Options:  []index.ClarifyOption{{Label: "Yes, Kubernetes", Question: "orchestrator with the kubernetes api"}, {Label: "No <thanks>", Question: "orchestrator without kubernetes"}},
	}}
	clarify := bot.RenderBlocks(bot.Reply{Answer: asked}, sharedIndex(t).ServiceName, bot.RenderOptions{Command: asked.Question})
	checkGolden(t, "clarify-question", clarify)
	checkLimits(t, clarify)

	checkGoldenJSON(t, "comment-modal", bot.CommentModal(42, "which service for <GPUs> & spot?"))

	wrong := (q.Correct() + 1) % len(q.Choices)
	home := bot.HomeData{
		User: "U1", Followups: true, Examples: []string{"what is fargate spot?", "compare ecs eks"}, QuizOn: true,
		Quiz:    quiz.Home{Channel: "CQUIZ", Open: &quiz.OpenQuiz{QuizID: 3, Question: q, Answered: true, Choice: wrong}, Review: []content.Question{q}},
		Stats:   quiz.Stats{User: "U1", Week: quiz.Score{Points: 3, Answered: 2, Correct: 1}, All: quiz.Score{Points: 12, Answered: 9, Correct: 6, Streak: 2}, BestStreak: 4, Rank: 2},
		Leaders: []quiz.Score{{User: "U2", Points: 5, Streak: 3}, {User: "U1", Points: 3, Streak: 2}},
	}
	checkGoldenJSON(t, "home", bot.HomeView(home))
	fresh := bot.HomeData{User: "U9", QuizOn: true, Quiz: quiz.Home{Channel: "CQUIZ"}}
	checkGoldenJSON(t, "home-new-user", bot.HomeView(fresh))
	checkGoldenJSON(t, "home-no-quiz", bot.HomeView(bot.HomeData{User: "U9"}))

}
