package content_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shipmate/content"
)

// TestValidateLexicon breaks lexicon.yaml and capabilities.yaml one way at
// a time and checks each problem is reported with its file and line.
func TestValidateLexicon(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		edit  func(string) string
		wants []string // "file:line: message substring"
	}{
		{
			name:  "unknown field in a term",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return appendTerm(s, "  - says: [kube thing]\n    mean: kubernetes\n") },
			wants: []string{`unknown field "mean"`, `term: needs "means", "needs" or "negated"`},
		},
		{
			name:  "term with an unknown need",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return appendTerm(s, "  - says: [gpu farm]\n    needs: [gpuz]\n") },
			wants: []string{`term needs: "gpuz" is not a need id`},
		},
		{
			name:  "repeated key",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return strings.Replace(s, "weak:", "aws: [aws]\nweak:", 1) },
			wants: []string{`mapping key "aws" already defined at line`},
		},
		{
			name:  "empty outside phrase",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return strings.Replace(s, "  local:\n    [", "  local:\n    [\"\", ", 1) },
			wants: []string{`outside.local: expected a non-empty phrase`},
		},
		{
			name:  "two words where one is expected",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return strings.Replace(s, "weak: [", "weak: [elastic beanstalk, ", 1) },
			wants: []string{`weak: "elastic beanstalk" must be a single word`},
		},
		{
			name:  "shared AWS word that is not an AWS word",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return strings.Replace(s, "aws_shared: [", "aws_shared: [resource group, ", 1) },
			wants: []string{`aws_shared: "resource group" is not an entry of aws`},
		},
		{
			name:  "feature no answer names",
			file:  "lexicon.yaml",
			edit:  func(s string) string { return strings.Replace(s, "features: [", "features: [warp drive, ", 1) },
			wants: []string{`features: no note or scenario answer names "warp drive"`},
		},
		{
			name: "description of a feature that is not a feature",
			file: "lexicon.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "descriptions:\n", "descriptions:\n  - features: [warp drive]\n    says: [faster than light, ... light]\n", 1)
			},
			wants: []string{`description: "warp drive" is not an entry of features`, `description: "... light" must be words, with "..." only between them`},
		},
		{
			name: "capabilities of an unknown service",
			file: "capabilities.yaml",
			edit: func(s string) string {
				return s + "\n- service: beanstalk\n  role: platform\n"
			},
			wants: []string{`capabilities: unknown service id "beanstalk"`},
		},
		{
			name: "a limit without its sentence",
			file: "capabilities.yaml",
			edit: func(s string) string {
				return s + "\n- service: lambda\n  role: platform\n  cannot:\n    - need: nothing-like-this\n      instead: [ecs, docker]\n"
			},
			wants: []string{`duplicate capabilities for "lambda"`, `"nothing-like-this" is not a need id`, `missing field "limit"`, `unknown service id "docker" in "instead"`},
		},
		{
			name:  "bad role",
			file:  "capabilities.yaml",
			edit:  func(s string) string { return strings.Replace(s, "role: registry", "role: storage", 1) },
			wants: []string{`role "storage" is not one of`},
		},
		{
			name: "quantity with an unknown need",
			file: "lexicon.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "\nquantities:\n", "\nquantities:\n  - {units: [gb], above: 1, needs: [huge]}\n", 1)
			},
			wants: []string{`quantity needs: "huge" is not a need id`},
		},
		{
			name: "scenario satisfying an unknown need",
			file: "scenarios/kubernetes-compute.yaml",
			edit: func(s string) string {
				return strings.Replace(s, "satisfies: [kubernetes, gpu, nodes]", "satisfies: [kubernetes, gpus]", 1)
			},
			wants: []string{`scenario "eks-gpu-nodes" satisfies: "gpus" is not a need id`},
		},
		{
			name:  "missing lexicon",
			file:  "lexicon.yaml",
			wants: []string{"lexicon.yaml: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := copyEmbedded(t)
			path := filepath.Join(dir, tt.file)
			if tt.edit == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.edit(string(data))), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := content.LoadDir(dir)
			var ps content.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("LoadDir = %v, want Problems", err)
			}
			got := filepath.ToSlash(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
			for _, want := range tt.wants {
				found := false
				for _, line := range strings.Split(got, "\n") {
					// Every problem names its file, and a line where it has one.
					if strings.HasPrefix(line, tt.file+":") && strings.Contains(line, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("LoadDir problems:\n%s\nwant a %s line containing %q", got, tt.file, want)
				}
			}
		})
	}
}

// appendTerm adds a term at the end of lexicon.yaml's terms list.
func appendTerm(lexicon, term string) string {
	i := strings.Index(lexicon, "\n# Numbers with units")
	return lexicon[:i] + "\n" + term + lexicon[i:]
}

func TestLexiconLines(t *testing.T) {
	t.Parallel()
	b, err := content.Load(content.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range b.Lexicon.Terms {
		if term.Pos.File != "lexicon.yaml" || term.Pos.Line < 2 {
			t.Errorf("term %v at %v, want its line in lexicon.yaml", term.Says, term.Pos)
		}
	}
	for _, c := range b.Capabilities {
		if c.Pos.File != "capabilities.yaml" || c.Pos.Line < 2 {
			t.Errorf("capabilities of %s at %v, want its line", c.Service, c.Pos)
		}
	}
}
