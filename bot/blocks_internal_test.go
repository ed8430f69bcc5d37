package bot

import "testing"

func TestSourceLabel(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/express-service-work.html":      "AmazonECS: express service work",
		"https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html#pod-id-considerations": "eks: pod identities",
		"https://aws.amazon.com/fargate/pricing/":                                                    "fargate: pricing",
		"https://aws.amazon.com/ecs/":                                                                "ecs",
		"https://docs.aws.amazon.com/":                                                               "docs.aws.amazon.com",
		"https://example.com/a/index.html?x=1":                                                       "example.com",
	} {
		if got := sourceLabel(u); got != want {
			t.Errorf("sourceLabel(%q) = %q, want %q", u, got, want)
		}
	}
}
