package index

import (
	"slices"
	"strings"
	"testing"
)

// FuzzWords: for ASCII text, asciiWords returns what unicodeWords returns,
// or declines (ok false) and leaves the text to it. The seeds are the
// knowledge base's texts and the cases each rule of words is for.
//
//	go test -run '^$' -fuzz FuzzWords ./index/
func FuzzWords(f *testing.F) {
	for _, s := range []string{
		"", "ECS's tasks", "AWS's bill", "don't run it", "2.5 GB", "900.00", "ci/cd", "w/o a NAT", "W/ spot",
		"250MB of /tmp", "16vcpu", "Fargate.", "v1.2.3", "x86_64 arm64", "EC2's", "it's 3.5x", "a..b 1..2 1.a a.1",
		"CamelCaseName", "'quoted' words", "ECR'S", "s3://bucket/key", "ECS''s", "'s", "A'S", "AB's",
	} {
		f.Add(s)
	}
	addKnowledgeSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		in := []byte(s)
		for i := range in {
			in[i] &= 0x7f
		}
		s = string(in)
		got, ok := asciiWords(s)
		if !ok {
			if !strings.Contains(strings.ToLower(s), "w/") {
				t.Errorf("asciiWords(%q) declined ASCII text without w/", s)
			}
			return
		}
		if want := unicodeWords(s); !slices.Equal(got, want) {
			t.Errorf("asciiWords(%q) = %q, want %q", s, got, want)
		}
	})
}
