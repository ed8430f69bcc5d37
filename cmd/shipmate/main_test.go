package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"shipmate/content"
)

// runCmd runs the program with args and a fake environment.
func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err = run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestAskJSON(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"which service for serverless containers, no node ops?", "what is the price of bitcoin", `+-:*"?`} {
		out, _, err := runCmd(t, nil, "", "ask", "--json", q)
		if err != nil {
			t.Fatalf("ask --json %q: %v", q, err)
		}
		if strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("ask --json %q printed more than one line:\n%s", q, out)
		}
		var got struct {
			Question  string `json:"question"`
			Confident *bool  `json:"confident"`
			Clarify   *struct {
				Question string `json:"question"`
				Options  []struct {
					Label    string `json:"label"`
					Question string `json:"question"`
				} `json:"options"`
			} `json:"clarify"`
			Answers []struct {
				ID       string   `json:"id"`
				Kind     string   `json:"kind"`
				Title    string   `json:"title"`
				Services []string `json:"services"`
				Text     string   `json:"text"`
				Score    *float64 `json:"score"`
				Sources  []string `json:"sources"`
				Reviewed string   `json:"reviewed"`
			} `json:"answers"`
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("ask --json %q: %v\n%s", q, err, out)
		}
		if got.Question != q || got.Confident == nil || got.Answers == nil {
			t.Errorf("ask --json %q = %s, want question, confident and answers", q, out)
		}
		for _, a := range got.Answers {
			if a.ID == "" || (a.Kind != "scenario" && a.Kind != "note") || a.Text == "" || a.Score == nil || len(a.Services) == 0 {
				t.Errorf("ask --json %q: incomplete answer %+v", q, a)
			}
			if _, err := time.Parse(content.DateLayout, a.Reviewed); err != nil || len(a.Sources) == 0 || !strings.HasPrefix(a.Sources[0], "https://") {
				t.Errorf("ask --json %q: answer %s has sources %q reviewed %q, want documentation URLs and a date", q, a.ID, a.Sources, a.Reviewed)
			}
		}
	}
}

// TestAskJSONClarify: "clarify" appears only when Shipmate asks back, with
// a question and options that each carry the question to ask next.
func TestAskJSONClarify(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{"spot instances to save money": true, "expire untagged images automatically": false} {
		out, _, err := runCmd(t, nil, "", "ask", "--json", q)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		raw, has := got["clarify"]
		if has != want {
			t.Fatalf("ask --json %q: clarify present = %v, want %v\n%s", q, has, want, out)
		}
		if !has {
			continue
		}
		var c struct {
			Question string `json:"question"`
			Options  []struct{ Label, Question string }
		}
		if err := json.Unmarshal(raw, &c); err != nil || c.Question == "" || len(c.Options) < 2 {
			t.Fatalf("ask --json %q: clarify = %s (%v), want a question and options", q, raw, err)
		}
		for _, o := range c.Options {
			if o.Label == "" || o.Question == "" {
				t.Errorf("ask --json %q: option %+v, want a label and a question", q, o)
			}
		}
	}
}

func TestAskText(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, nil, "", "ask", "private registry for our docker images with IAM access control")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ECR") {
		t.Errorf("ask registry = %q, want it to recommend ECR", out)
	}
	out, _, err = runCmd(t, nil, "", "ask", "how do I tune postgres")
	if err != nil || !strings.Contains(out, "I don't know that one") {
		t.Errorf("ask postgres = %q, %v; want a decline", out, err)
	}
}

func TestValidateBrokenDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("services.yaml", "- id: ecs\n  name: ECS\n  colour: blue\n")
	write("lexicon.yaml", "negation:\n  reach: 6\nterms:\n  - says: [k8s]\n")
	write("notes/ecs.md", "---\nid: ecs\ntitle: ECS\nservices: [ecs, docker]\nrelated: [missing]\n---\nBody.\n")
	write("notes/bad.md", "no front matter\n")
	write("scenarios/a.yaml", "- id: s1\n  need: n\n  use: [ecs]\n  answer: ECS\n  because: b\n  consider:\n    - use: [ecs]\n      when: w\n  note: nowhere\n- id: s1\n  need: n\n  use: [ecs]\n  answer: ECS\n  because: b\n  consider:\n    - use: [eks]\n      when: w\n  note: ecs\n")
	write("quiz/q.yaml", "- id: q1\n  topic: ecs\n  difficulty: easy\n  question: Q?\n  choices:\n    - text: a\n      why: w\n    - text: b\n      why: w\n  note: ecs\n")
	out, errOut, err := runCmd(t, nil, "", "validate", dir)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("validate broken dir: err = %v, want exit 1", err)
	}
	out = strings.ReplaceAll(out, dir+string(filepath.Separator), "")
	out = filepath.ToSlash(out)
	for _, want := range []string{
		`services.yaml:3: unknown field "colour"`,
		`services.yaml:1: service "ecs": missing field "summary"`,
		`services.yaml: no entry for service "eks"`,
		`lexicon.yaml:4: term: needs "means", "needs" or "negated"`,
		`capabilities.yaml: `,
		`notes/ecs.md:1: note "ecs": unknown service id "docker"`,
		`notes/ecs.md:1: note "ecs": related "missing" is not a note id`,
		`notes/ecs.md:1: note "ecs": missing field "sources"`,
		`notes/ecs.md:1: note "ecs": missing field "reviewed"`,
		`notes/bad.md:1: missing front matter`,
		`scenarios/a.yaml:1: scenario "s1": consider.use [ecs] is the recommendation itself`,
		`scenarios/a.yaml:1: scenario "s1": note "nowhere" is not a note id`,
		`scenarios/a.yaml:10: duplicate scenario id "s1"`,
		`quiz/q.yaml:1: question "q1": has 0 correct choices, want exactly one`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "problem(s)") {
		t.Errorf("validate stderr = %q, want a count of problems", errOut)
	}
	if out, _, err := runCmd(t, nil, "", "validate"); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("validate built-in = %q, %v; want ok", out, err)
	}
}

// TestValidateNoteWithoutSources: the built-in content with the sources
// taken out of one note fails validation, at that note's file and line.
func TestValidateNoteWithoutSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, content.Embedded); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "notes", "fargate-spot.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	inSources := false
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(l, "sources:"):
			inSources = true
			continue
		case inSources && strings.HasPrefix(l, "  - "):
			continue
		}
		inSources = false
		kept = append(kept, l)
	}
	if len(kept) == len(strings.Split(string(data), "\n")) {
		t.Fatal("notes/fargate-spot.md has no sources to take out")
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, nil, "", "validate", dir)
	if exitCode(err) != 1 {
		t.Fatalf("validate without sources: err = %v, want exit 1\n%s", err, out)
	}
	out = filepath.ToSlash(strings.ReplaceAll(out, dir+string(filepath.Separator), ""))
	want := `notes/fargate-spot.md:1: note "fargate-spot": missing field "sources"`
	if !strings.Contains(out, want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("validate output:\n%s\nwant exactly the one problem %q", out, want)
	}
}

// TestValidateMaxAge: --max-age warns, with file and line, about notes and
// service sheets reviewed longer ago than that, and still exits 0.
func TestValidateMaxAge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, content.Embedded); err != nil {
		t.Fatal(err)
	}
	stale := time.Now().AddDate(0, 0, -400).Format(content.DateLayout)
	fresh := time.Now().AddDate(0, 0, -10).Format(content.DateLayout)
	if err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		date := fresh
		if filepath.Base(path) == "ecs.md" {
			date = stale
		}
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if k, _, ok := strings.Cut(l, "reviewed: "); ok && strings.TrimSpace(k) == "" {
				lines[i] = k + "reviewed: " + date
			}
		}
		return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	line := 0
	data, _ := os.ReadFile(filepath.Join(dir, "notes", "ecs.md"))
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "reviewed:") {
			line = i + 1
		}
	}
	out, _, err := runCmd(t, nil, "", "validate", "--max-age", "180d", dir)
	if err != nil {
		t.Fatalf("validate --max-age 180d: %v\n%s", err, out)
	}
	out = filepath.ToSlash(strings.ReplaceAll(out, dir+string(filepath.Separator), ""))
	want := fmt.Sprintf("notes/ecs.md:%d: warning: note \"ecs\": reviewed %s, 400 days ago", line, stale)
	if !strings.Contains(out, want) || strings.Count(out, "warning:") != 1 {
		t.Errorf("validate --max-age 180d output:\n%s\nwant exactly one warning, %q", out, want)
	}
	if out, _, err := runCmd(t, nil, "", "validate", "--max-age", "500d", dir); err != nil || strings.Contains(out, "warning") {
		t.Errorf("validate --max-age 500d = %q, %v; want ok without warnings", out, err)
	}
	if _, _, err := runCmd(t, nil, "", "validate", "--max-age", "soon", dir); exitCode(err) != 2 {
		t.Errorf("validate --max-age soon: err = %v, want a usage error", err)
	}
}

func TestEvalBars(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "set.jsonl")
	body := `{"q": "serverless containers, no node ops", "expect": [["fargate"]]}
{"q": "which registry for docker images", "expect": [["lambda"]]}
{"q": "what is the price of bitcoin", "expect": "none"}
`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, nil, "", "eval", file)
	if err != nil {
		t.Fatalf("eval without bars: %v", err)
	}
	for _, want := range []string{"precision@1   50.0%", "declined     100.0%", "MRR", "want lambda"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCmd(t, nil, "", "eval", "--figures", file)
	if err != nil || !strings.Contains(out, "precision@1   50.0%") || strings.Contains(out, "want lambda") || strings.Contains(out, "registry") {
		t.Errorf("eval --figures = %q, %v; want the figures and no misses", out, err)
	}
	if _, _, err := runCmd(t, nil, "", "eval", "--min-precision", "0.9", file); err == nil {
		t.Error("eval --min-precision 0.9 at 50% = nil error, want failure")
	}
	if _, _, err := runCmd(t, nil, "", "eval", "--min-precision", "50", "--min-abstain", "100", file); err != nil {
		t.Errorf("eval at the bars: %v", err)
	}
}

func TestChat(t *testing.T) {
	t.Parallel()
	in := "which service for GPU containers for ML inference?\nexplain fargate\ncompare ecs eks\nhelp\nhello\n"
	out, _, err := runCmd(t, nil, in, "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"EC2", "AWS Fargate\n", "Amazon Elastic Kubernetes", "compare <service> <service>", "I don't know that one"} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	// From a pipe: no greeting, prompts or escape sequences.
	if regexp.MustCompile(`(?m)^> `).MatchString(out) || strings.Contains(out, "Shipmate here") || strings.Contains(out, "\x1b") {
		t.Errorf("piped chat output has a prompt, greeting or escape sequence:\n%s", out)
	}
}

func TestQuizTerminal(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, nil, "z\nb\n", "quiz")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Right: B.") && !strings.Contains(out, "Not quite: you chose B.") {
		t.Errorf("quiz output:\n%s\nwant the answer B graded after an invalid answer", out)
	}
}

// TestQuizByID previews one chosen question, graded like any other.
func TestQuizByID(t *testing.T) {
	t.Parallel()
	b := content.MustLoadEmbedded()
	q := b.Question("fargate-spot-architecture")
	if q == nil {
		t.Fatal("no question fargate-spot-architecture in the bank")
	}
	right := string(rune('a' + q.Correct()))
	out, _, err := runCmd(t, nil, right+"\n", "quiz", "--id", q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(oneLine(out), oneLine(q.Question)) || !strings.Contains(out, "Right: "+strings.ToUpper(right)+".") {
		t.Errorf("quiz --id %s output:\n%s\nwant the question, graded right", q.ID, out)
	}
	if _, _, err := runCmd(t, nil, "", "quiz", "--id", "no-such-question"); err == nil || !strings.Contains(err.Error(), "no-such-question") {
		t.Errorf("quiz --id no-such-question = %v, want an error naming the id", err)
	}
}

func TestContentDir(t *testing.T) {
	t.Parallel()
	_, _, err := runCmd(t, map[string]string{"CONTENT_DIR": t.TempDir()}, "", "ask", "fargate")
	if err == nil || !strings.Contains(err.Error(), "CONTENT_DIR") {
		t.Errorf("ask with an empty CONTENT_DIR = %v, want an error naming CONTENT_DIR", err)
	}
}
