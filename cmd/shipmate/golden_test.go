package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestAskGolden pins the rendered terminal answers; run with -update after
// a deliberate content or rendering change and review the diff.
func TestAskGolden(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, question string }{
		{"scenario", "Run containerized web service, no infra management"},
		{"note", "what does a task definition contain?"},
		{"decline", "how do I set up a postgres read replica"},
		{"markup", "<@U024BE7LH> expire untagged images automatically &amp; cheaply :wastebasket:"},
		{"verdict", "does fargate support gpus?"},
		{"clarify", "spot instances to save money"},
		{"closed", "does app runner autoscale or do I configure that"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runCmd(t, nil, "", "ask", tt.question)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", "ask-"+tt.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("ask %q =\n%s\nwant (%s):\n%s", tt.question, out, path, want)
			}
		})
	}
}
