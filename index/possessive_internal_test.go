package index

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestDropAcronymPossessives checks the hand-written scan against the
// regexp it replaced.
func TestDropAcronymPossessives(t *testing.T) {
	re := regexp.MustCompile(`\b([A-Z][A-Z0-9]+)['’]s\b`)
	for _, s := range []string{
		"", "ECS's", "ECS’s tasks", "AWS's and EKS's", "the ECS's", "aECS's", "_ECS's", "2FA's", "X 2FA's",
		"E's", "EC2's", "EC2'sx", "EC2's_", "ECS's's", "ECS''s", "ECS'", "ECS's", "ECS‘s", "éECS's", "ECS'sé",
		"don't", "it's", "Fargate's", "ECR's images, ECS's tasks' logs", "AB'sAB's", "AB's.CD's", "’s", "'s'",
		"ALB's\nNLB's", "S3's", "3S's", "AbC's", "ABc's", "AB’s’s", "A1's", "ECS’", "ECS’ s",
	} {
		want := re.ReplaceAllString(s, "$1")
		if got := dropAcronymPossessives(s); got != want {
			t.Errorf("dropAcronymPossessives(%q) = %q, want %q", s, got, want)
		}
	}
	// And on random texts of the characters that matter.
	alphabet := []string{"A", "B", "2", "a", "s", "_", "'", "’", "‘", " ", "é", "."}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := dropAcronymPossessives(s), re.ReplaceAllString(s, "$1"); got != want {
			t.Fatalf("dropAcronymPossessives(%q) = %q, want %q", s, got, want)
		}
	}
}
