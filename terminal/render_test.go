package terminal_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"shipmate/content"
	"shipmate/terminal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const table = `Pick one.

| | ECS | EKS |
|---|---|:-:|
| API | AWS-specific (console, CLI, CloudFormation, CDK, Terraform) | Standard Kubernetes (kubectl, Helm, GitOps tools) |
| Control plane cost | None | Hourly fee per cluster |
| IAM per workload | Task role | IRSA or EKS Pod Identity |
`

// TestRenderGolden pins the layout; run go test -update after a deliberate
// change and review the diff. In the golden files, ^[ stands for ESC.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		style     terminal.Style
	}{
		{"bold", "A **task definition** is the _blueprint_ for an ECS task: a versioned JSON document that lists the containers to run.\nA line break stays a line break.", terminal.Style{Width: 40}},
		{"bold-color", "A **task definition** is the _blueprint_ for an ECS task: a versioned JSON document that lists the **containers to run**.", terminal.Style{Width: 40, Color: true}},
		{"list", "Typical policy:\n1. Expire untagged images older than 14 days.\n2. Keep only the last 50 images tagged `dev-`.\n3. Keep release tags longer.\nRules only look at tags.\n\n- **Per container:** image, CPU and memory, port mappings, environment variables\n  - nested: health check and the command to run\n- **Task role:** the IAM role your code uses", terminal.Style{Width: 40}},
		{"list-color", "- **Per container:** image, CPU and memory, port mappings and `awsvpc`\n- [Task roles](https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html) for your code", terminal.Style{Width: 40, Color: true}},
		{"table", table, terminal.Style{Width: 80}},
		{"table-narrow", table, terminal.Style{Width: 44}},
		{"table-color", table, terminal.Style{Width: 60, Color: true}},
		{"table-headless", "| | |\n|---|---|\n| A) | No warning at all |\n| B) | Two minutes, enough to stop cleanly on SIGTERM and drain connections |", terminal.Style{Width: 40}},
		{"long-line", "Learn more: https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/ec2-and-fargate-spot.html https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-gpu.html (checked 2026-12-02) and a Supercalifragilisticexpialidocious-hyphenated-identifier-that-is-long word.", terminal.Style{Width: 30}},
		{"code-quote-rule", "Run:\n\n```\ndocker build -t app . && docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app\n```\n\n> Quoted text that is long enough to wrap at this width.\n\n---\n\n## A heading\n&amp; escaped \\*stars\\*", terminal.Style{Width: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strings.ReplaceAll(terminal.Render(tt.src, tt.style), "\x1b", "^[")
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Render(%s) =\n%s\nwant (%s):\n%s", tt.name, got, path, want)
			}
		})
	}
}

var escape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestRenderWraps lays out every note of the knowledge base at several
// widths: no line is wider than the width unless it is one word (or a
// table's columns cannot get narrower), no word is ever split, and colour
// changes nothing but the styles (code loses its backticks).
func TestRenderWraps(t *testing.T) {
	t.Parallel()
	base := content.MustLoadEmbedded()
	for _, n := range base.Notes {
		wide := terminal.Render(n.Body, terminal.Style{Width: 10000})
		hasTable := strings.Contains(n.Body, "\n|")
		for _, w := range []int{24, 40, 80, 132} {
			plain := terminal.Render(n.Body, terminal.Style{Width: w})
			color := terminal.Render(n.Body, terminal.Style{Width: w, Color: true})
			if strings.Contains(plain, "\x1b") {
				t.Errorf("note %s at %d: plain output has an escape sequence", n.ID, w)
			}
			if got, want := words(escape.ReplaceAllString(color, "")), words(strings.ReplaceAll(plain, "`", "")); got != want && !hasTable {
				t.Errorf("note %s at %d: colour output without its escapes =\n%s\nwant the words of the plain output\n%s", n.ID, w, got, want)
			}
			for l := range strings.Lines(plain) {
				l = strings.TrimRight(l, "\n")
				if runewidth.StringWidth(l) > w && len(strings.Fields(l)) > 1 && !hasTable {
					t.Errorf("note %s at %d: line %q is %d columns wide", n.ID, w, l, runewidth.StringWidth(l))
				}
			}
			if !hasTable && words(plain) != words(wide) {
				t.Errorf("note %s at %d: the words differ from the unwrapped text:\n%s\nwant\n%s", n.ID, w, plain, wide)
			}
		}
	}
}

// TestRenderPlain: without colour there is no markup left and no escape.
func TestRenderPlain(t *testing.T) {
	t.Parallel()
	got := terminal.Render("**Works with:** ECS\n\n| a | b |\n|---|---|\n| 1 | 2 |", terminal.Style{})
	want := "Works with: ECS\n\na  b\n-  -\n1  2\n"
	if got != want {
		t.Errorf("Render plain = %q, want %q", got, want)
	}
}

func words(s string) string { return strings.Join(strings.Fields(s), " ") }
