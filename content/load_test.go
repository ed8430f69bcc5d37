package content_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shipmate/content"
)

func TestEmbeddedIsValid(t *testing.T) {
	t.Parallel()
	b, err := content.Load(content.Embedded)
	if err != nil {
		t.Fatalf("embedded content:\n%v", err)
	}
	if got := len(b.Scenarios); got < 40 {
		t.Errorf("scenarios = %d, want at least 40", got)
	}
	if got := len(b.Questions); got < 79 {
		t.Errorf("quiz questions = %d, want at least 79", got)
	}
	for _, id := range content.ServiceIDs {
		if b.Service(id) == nil {
			t.Errorf("no service sheet for %q", id)
		}
	}
	covered := map[string]bool{}
	for _, s := range b.Scenarios {
		for _, id := range s.Use {
			covered[id] = true
		}
	}
	for _, id := range content.ServiceIDs {
		if !covered[id] {
			t.Errorf("no scenario recommends %q", id)
		}
	}
}

// copyEmbedded writes the embedded content to a new directory so a test
// can break one file of an otherwise valid knowledge base.
func copyEmbedded(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(content.Embedded, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(content.Embedded, path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

const validQuestion = `- id: ok-question
  topic: ecs
  difficulty: easy
  question: What is a task?
  choices:
    - text: A running instance of a task definition
      correct: true
      why: That is what a task is.
    - text: A cluster
      why: A cluster groups tasks.
  note: ecs-task
`

// serviceSheet is a complete services.yaml entry for id with extra lines.
func serviceSheet(id, extra string) string {
	return "- id: " + id + "\n  name: N\n  summary: S\n  control: C\n  pricing: P\n  pick_when: W\n  avoid_when: A\n  note: ecs\n" +
		"  sources: [https://docs.aws.amazon.com/AmazonECS/latest/developerguide/Welcome.html]\n  reviewed: 2026-11-01\n  " + extra + "\n"
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		body  string
		wants []string // "file:line: message substring"
	}{
		{
			name:  "yaml syntax",
			file:  "quiz/broken.yaml",
			body:  "- id: x\n  topic: ecs\n\tdifficulty: easy\n",
			wants: []string{"quiz/broken.yaml:2: found a tab character that violates indentation"},
		},
		{
			name:  "unknown field",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "  note: ecs-task\n", "  note: ecs-task\n  hint: read the docs\n", 1),
			wants: []string{`quiz/broken.yaml:12: unknown field "hint"`},
		},
		{
			name:  "unknown nested field",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "      why: A cluster groups tasks.\n", "      why: A cluster groups tasks.\n      score: 3\n", 1),
			wants: []string{`quiz/broken.yaml:11: unknown field "score"`},
		},
		{
			name:  "missing field",
			file:  "scenarios/broken.yaml",
			body:  "- id: no-because\n  need: something\n  use: [ecs]\n  answer: ECS\n  consider:\n    - use: [eks]\n      when: you like Kubernetes\n  note: ecs\n",
			wants: []string{`scenarios/broken.yaml:1: scenario "no-because": missing field "because"`},
		},
		{
			name:  "unknown service id",
			file:  "scenarios/broken.yaml",
			body:  "- id: bad-service\n  need: something\n  use: [ecs, kubernetes]\n  answer: ECS\n  because: reasons\n  consider:\n    - use: [eks]\n      when: you like Kubernetes\n  note: ecs\n",
			wants: []string{`scenarios/broken.yaml:1: scenario "bad-service": unknown service id "kubernetes"`},
		},
		{
			name:  "duplicate id",
			file:  "quiz/broken.yaml",
			body:  validQuestion + "\n" + validQuestion,
			wants: []string{`quiz/broken.yaml:13: duplicate question id "ok-question" (first defined at quiz/broken.yaml:1)`},
		},
		{
			name:  "link to missing note",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "note: ecs-task", "note: ecs-tasks", 1),
			wants: []string{`quiz/broken.yaml:1: question "ok-question": note "ecs-tasks" is not a note id`},
		},
		{
			name:  "two correct choices",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "      why: A cluster groups tasks.", "      correct: true\n      why: A cluster groups tasks.", 1),
			wants: []string{`quiz/broken.yaml:1: question "ok-question": has 2 correct choices, want exactly one`},
		},
		{
			name:  "no correct choice",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "      correct: true\n", "", 1),
			wants: []string{`quiz/broken.yaml:1: question "ok-question": has 0 correct choices, want exactly one`},
		},
		{
			name:  "bad topic and difficulty",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(strings.Replace(validQuestion, "topic: ecs", "topic: docker", 1), "difficulty: easy", "difficulty: trivial", 1),
			wants: []string{`quiz/broken.yaml:1: question "ok-question": topic "docker"`, `quiz/broken.yaml:1: question "ok-question": difficulty "trivial"`},
		},
		{
			name:  "note without front matter",
			file:  "notes/broken.md",
			body:  "# Just a heading\n",
			wants: []string{"notes/broken.md:1: missing front matter"},
		},
		{
			name: "note with bad related link and id",
			file: "notes/broken.md",
			body: "---\nid: not-broken\ntitle: T\nservices: [ecs]\nrelated: [nowhere]\n---\nBody.\n",
			wants: []string{
				`notes/broken.md:2: id "not-broken" does not match the file name`,
				`notes/broken.md:1: note "not-broken": related "nowhere" is not a note id`,
			},
		},
		{
			name:  "note front matter type error",
			file:  "notes/broken.md",
			body:  "---\nid: broken\ntitle: T\nservices: ecs\n---\nBody.\n",
			wants: []string{"notes/broken.md:4: cannot unmarshal"},
		},
		{
			name:  "file with the wrong extension",
			file:  "scenarios/extra.yml",
			body:  "[]\n",
			wants: []string{"scenarios/extra.yml: unexpected file"},
		},
		{
			name:  "duplicate key",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "  note: ecs-task\n", "  note: ecs-task\n  note: ecs\n", 1),
			wants: []string{`quiz/broken.yaml:12: mapping key "note" already defined at line 11`},
		},
		{
			name:  "type error",
			file:  "quiz/broken.yaml",
			body:  strings.Replace(validQuestion, "correct: true", "correct: yes please", 1),
			wants: []string{"quiz/broken.yaml:7: cannot unmarshal !!str `yes please` into bool"},
		},
		{
			name: "problems in two entries",
			file: "quiz/broken.yaml",
			body: strings.Replace(validQuestion, "  note: ecs-task\n", "  note: ecs-task\n  note: ecs\n", 1) +
				strings.Replace(strings.Replace(validQuestion, "ok-question", "second", 1), "correct: true", "correct: [yes]", 1),
			wants: []string{
				`quiz/broken.yaml:12: mapping key "note" already defined at line 11`,
				"quiz/broken.yaml:19: cannot unmarshal !!seq into bool",
			},
		},
		{
			name:  "entry that is not a mapping",
			file:  "quiz/broken.yaml",
			body:  validQuestion + "- just text\n",
			wants: []string{"quiz/broken.yaml:12: expected a mapping of field: value, not !!str `just text`"},
		},
		{
			name:  "unknown front matter field",
			file:  "notes/broken.md",
			body:  "---\nid: broken\ntitel: T\nservices: [ecs]\n---\nBody.\n",
			wants: []string{`notes/broken.md:3: unknown field "titel" (known: id, title,`},
		},
		{
			name:  "empty file",
			file:  "scenarios/broken.yaml",
			body:  "# nothing yet\n",
			wants: []string{"scenarios/broken.yaml:1: empty file"},
		},
		{
			name:  "note without sources",
			file:  "notes/broken.md",
			body:  "---\nid: broken\ntitle: T\nservices: [ecs]\nreviewed: 2026-01-01\n---\nBody.\n",
			wants: []string{`notes/broken.md:1: note "broken": missing field "sources"`},
		},
		{
			name:  "note without review date",
			file:  "notes/broken.md",
			body:  "---\nid: broken\ntitle: T\nservices: [ecs]\nsources: [https://docs.aws.amazon.com/AmazonECS/latest/developerguide/Welcome.html]\n---\nBody.\n",
			wants: []string{`notes/broken.md:1: note "broken": missing field "reviewed"`},
		},
		{
			name:  "source that is not a URL",
			file:  "notes/broken.md",
			body:  "---\nid: broken\ntitle: T\nservices: [ecs]\nsources: [the ECS guide, \"http://example.com/x\"]\nreviewed: 2026-01-01\n---\nBody.\n",
			wants: []string{`notes/broken.md:1: note "broken": source "the ECS guide" is not an https URL`, `source "http://example.com/x" is not an https URL`},
		},
		{
			name:  "review date that is not a date",
			file:  "notes/broken.md",
			body:  "---\nid: broken\ntitle: T\nservices: [ecs]\nsources: [https://docs.aws.amazon.com/AmazonECS/latest/developerguide/Welcome.html]\nreviewed: last week\n---\nBody.\n",
			wants: []string{`notes/broken.md:6: "last week" is not a date: write it as YYYY-MM-DD`},
		},
		{
			name: "service status",
			file: "services.yaml",
			body: serviceSheet("ecs", "status: available") + serviceSheet("eks", "status: retiring soon") +
				serviceSheet("fargate", "status: closed to new customers on 2026-13-01") + serviceSheet("ec2", "status: closed to new customers on 2026-04-30") +
				serviceSheet("ecr", "status: available\n  instead: nothing") + serviceSheet("app-runner", "aliases: [ar]") + serviceSheet("lambda", "status: available"),
			wants: []string{
				`services.yaml:22: status "retiring soon": want "available", "closed to new customers on YYYY-MM-DD" or "retiring on YYYY-MM-DD"`,
				`services.yaml:33: status "closed to new customers on 2026-13-01": "2026-13-01" is not a date`,
				`services.yaml:34: service "ec2": status "closed to new customers on 2026-04-30" needs "instead"`,
				`services.yaml:45: service "ecr": "instead" is only for a service that is closed to new customers or retiring`,
				`services.yaml:57: service "app-runner": missing field "status"`,
			},
		},
		{
			name:  "consider naming the recommendation itself",
			file:  "scenarios/broken.yaml",
			body:  "- id: self\n  need: n\n  use: [ecr]\n  answer: ECR\n  because: b\n  consider:\n    - use: [ecr]\n      when: w\n  note: ecr\n",
			wants: []string{`scenarios/broken.yaml:1: scenario "self": consider.use [ecr] is the recommendation itself`},
		},
		{
			name:  "not a list",
			file:  "quiz/broken.yaml",
			body:  "id: x\n",
			wants: []string{"quiz/broken.yaml:1: expected a list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := copyEmbedded(t)
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(tt.file)), []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := content.LoadDir(dir)
			var ps content.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("LoadDir = %v, want Problems", err)
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			got = filepath.ToSlash(got)
			for _, want := range tt.wants {
				if !strings.Contains(got, want) {
					t.Errorf("LoadDir problems:\n%s\nwant a line containing %q", got, want)
				}
			}
		})
	}
}

// A note that does not load is reported once, not again by every file
// that links to it.
func TestBrokenNoteReportedOnce(t *testing.T) {
	t.Parallel()
	dir := copyEmbedded(t)
	file := filepath.Join(dir, "notes", "ecs.md")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), "services: [ecs]", "services: {ecs: yes}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = content.LoadDir(dir)
	var ps content.Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("LoadDir problems = %v, want exactly one (the type error)", err)
	}
}

// A service that is closed to new customers or retiring says so, with the
// date and what to use instead, in every answer that recommends it.
func TestStatusCaveat(t *testing.T) {
	t.Parallel()
	b, err := content.Load(content.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range b.Services {
		switch s.Status.State {
		case content.Available:
			if s.Caveat != "" {
				t.Errorf("service %s is available but has caveat %q", s.ID, s.Caveat)
			}
		default:
			if !strings.Contains(s.Caveat, s.Status.Date.Long()) || !strings.Contains(s.Caveat, strings.TrimSuffix(s.Instead, ".")) {
				t.Errorf("service %s (%s): caveat %q lacks the date or what to use instead", s.ID, s.Status, s.Caveat)
			}
		}
	}
	if ar := b.Service("app-runner"); ar.Status.State != content.Closed || !strings.Contains(ar.Caveat, "30 April 2026") || !strings.Contains(ar.Caveat, "ECS Express Mode") {
		t.Errorf("App Runner caveat = %q, want closed to new customers since 30 April 2026, with ECS Express Mode", ar.Caveat)
	}
}

// Stale lists what was reviewed longer ago than the given age, at the line
// of its review date.
func TestStale(t *testing.T) {
	t.Parallel()
	b, err := content.Load(content.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	oldest, newest := b.Notes[0].Reviewed.Time, b.Notes[0].Reviewed.Time
	for _, n := range b.Notes {
		if n.Reviewed.After(newest) {
			newest = n.Reviewed.Time
		}
		if n.Reviewed.Before(oldest) {
			oldest = n.Reviewed.Time
		}
	}
	for _, s := range b.Services {
		if s.Reviewed.Before(oldest) {
			oldest = s.Reviewed.Time
		}
	}
	if ps := b.Stale(oldest.Add(time.Hour), 2*time.Hour); len(ps) != 0 {
		t.Errorf("Stale(an hour after the oldest review, 2 hours) = %v, want none", ps)
	}
	ps := b.Stale(newest.AddDate(2, 0, 0), 180*24*time.Hour)
	if len(ps) != len(b.Notes)+len(b.Services) {
		t.Fatalf("Stale(2 years on, 180 days) listed %d, want every note and service sheet (%d)", len(ps), len(b.Notes)+len(b.Services))
	}
	for _, p := range ps {
		if p.Line < 2 || !strings.Contains(p.Msg, "reviewed ") {
			t.Errorf("Stale problem %v: want the line of the reviewed field", p)
		}
	}
}

// A scenario may leave consider out when no other service would win.
func TestScenarioWithoutConsider(t *testing.T) {
	t.Parallel()
	dir := copyEmbedded(t)
	body := "- id: no-alternative\n  need: n\n  use: [ecr]\n  answer: ECR\n  because: b\n  note: ecr\n"
	if err := os.WriteFile(filepath.Join(dir, "scenarios", "extra.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := content.LoadDir(dir); err != nil {
		t.Errorf("LoadDir with a scenario without consider: %v", err)
	}
}

func TestLoadDirMissing(t *testing.T) {
	t.Parallel()
	if _, err := content.LoadDir(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("LoadDir(missing) = nil error")
	}
}

func ExampleLoad() {
	b, err := content.Load(content.Embedded)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Service("fargate").Name)
	// Output: AWS Fargate
}
