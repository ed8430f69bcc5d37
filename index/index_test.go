package index_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"shipmate/content"
	"shipmate/index"
)

var (
	sharedOnce sync.Once
	shared     *index.Index
	sharedErr  error
)

// newIndex returns one index over the embedded content, shared by the tests
// (an Index is safe for concurrent use).
// answer asks ix the question q, failing the test on an error.
func answer(tb testing.TB, ix *index.Index, q string) index.Answer {
	tb.Helper()
	a, err := ix.Answer(context.Background(), index.Query{Text: q})
	if err != nil {
		tb.Fatalf("Answer(%q) error = %v", q, err)
	}
	return a
}

func newIndex(tb testing.TB) *index.Index {
	tb.Helper()
	sharedOnce.Do(func() {
		b, err := content.Load(content.Embedded)
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = index.New(b)
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

// The bars from the answer-quality requirement.
const (
	minPrecision  = 0.95
	minAbstention = 0.90
)

func TestEval(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	tests := []struct {
		file         string
		minPrecision float64
	}{
		{"testdata/labelled.jsonl", minPrecision},
		{"testdata/dev-questions.jsonl", minPrecision},
		{"testdata/holdout.jsonl", minPrecision},
		{"testdata/holdout2.jsonl", minPrecision},
		{"testdata/holdout3.jsonl", minPrecision},
		// The newest set written apart from the content, kept as written: a
		// guard against regressions on questions nobody tuned for.
		{"testdata/holdout4.jsonl", 0.90},
		// Real people's questions as they asked them (REAL.md), tuned on.
		{"testdata/real-tune.jsonl", 0.90},
		// Real questions on the 2026 material, each with the term a right
		// answer must name (REAL.md), tuned on.
		{"testdata/aws2026.jsonl", 0.90},
		// Questions written to name or describe the 2026 features, each
		// with the feature's name a right answer must say, tuned on.
		{"testdata/features.jsonl", 0.90},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			set, err := index.ReadLabelled(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ix.Evaluate(context.Background(), set)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			r.Write(&out)
			t.Logf("%s\n%s", tt.file, out.String())
			if r.Precision() < tt.minPrecision {
				t.Errorf("precision@1 = %.3f, want >= %.2f", r.Precision(), tt.minPrecision)
			}
			if r.Abstention() < minAbstention {
				t.Errorf("declined = %.3f, want >= %.2f", r.Abstention(), minAbstention)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	tests := []struct {
		q         string
		confident bool
		services  []string // all must be in the top answer
	}{
		{"which service for running containers without managing servers?", true, []string{"fargate"}},
		{"<@U024BE7LH> private registry for our docker images &amp; IAM access", true, []string{"ecr"}},
		{"k8s with gitops, must stay portable", true, []string{"eks"}},
		{"GPU containers for ML inference :rocket:", true, []string{"ec2"}},
		{"ECS", true, []string{"ecs"}},
		{"contaner image vulnerabilty scaning", true, []string{"ecr"}},
		{"hello", false, nil},
		{"", false, nil},
		{"how do I tune postgres", false, nil},
		{`+-:*"?~^()`, false, nil},
	}
	for _, tt := range tests {
		a, err := ix.Answer(context.Background(), index.Query{Text: tt.q})
		if err != nil {
			t.Fatalf("Answer(%q) error = %v", tt.q, err)
		}
		if a.Confident != tt.confident {
			t.Errorf("Answer(%q).Confident = %v, want %v (%+v)", tt.q, a.Confident, tt.confident, a.Answers)
			continue
		}
		if !tt.confident {
			if len(a.Answers) != 0 {
				t.Errorf("Answer(%q) declined but returned %d answers", tt.q, len(a.Answers))
			}
			continue
		}
		top := a.Top()
		for _, s := range tt.services {
			if !slices.Contains(top.Services, s) {
				t.Errorf("Answer(%q) top = %s %v, want it to include %q", tt.q, top.ID, top.Services, s)
			}
		}
		if len(a.Answers) > index.MaxAnswers {
			t.Errorf("Answer(%q) returned %d answers, want at most %d", tt.q, len(a.Answers), index.MaxAnswers)
		}
	}
}

// TestAnswerCache: a question asked again is answered as the first time,
// whatever the caller did to the first answer, and as a fresh index
// answers it.
func TestAnswerCache(t *testing.T) {
	t.Parallel()
	fresh, err := index.New(content.MustLoadEmbedded())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	ix := newIndex(t)
	ctx := context.Background()
	for _, s := range ix.Base().Scenarios[:20] {
		q := index.Query{Text: s.Examples[0]}
		var again index.Answer
		for range 3 { // the first answer, then two from the cache
			var err error
			if again, err = ix.Answer(ctx, q); err != nil {
				t.Fatal(err)
			}
			changed := again
			for i := range changed.Answers {
				changed.Answers[i].Services[0] = "changed"
				changed.Answers[i].ID = "changed"
			}
			changed.Answers = append(changed.Answers[:0], index.Hit{ID: "changed"})
		}
		if again, err = ix.Answer(ctx, q); err != nil {
			t.Fatal(err)
		}
		want, err := fresh.Answer(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		// Two indexes may sum a score's parts in another order: scores
		// agree to rounding.
		for i := range min(len(again.Answers), len(want.Answers)) {
			if math.Abs(again.Answers[i].Score-want.Answers[i].Score) > 1e-9*want.Answers[i].Score {
				t.Errorf("Answer(%q) asked again: answer %d scores %v, want %v", q.Text, i, again.Answers[i].Score, want.Answers[i].Score)
			}
			again.Answers[i].Score = want.Answers[i].Score
		}
		if !reflect.DeepEqual(again, want) {
			t.Errorf("Answer(%q) asked again = %+v, want %+v", q.Text, again, want)
		}
	}
}

func TestAnswerCancelled(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Answer(ctx, index.Query{Text: "fargate pricing"}); err == nil {
		t.Error("Answer with a cancelled context = nil error")
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"<@U024BE7LH> which registry?", "which registry?"},
		{"see <#C123|platform-team> and <https://example.com|the docs>", "see platform-team and the docs"},
		{"<https://example.com> ecs", "ecs"},
		{"ECS &amp; EKS &lt;3", "ECS & EKS 3"},
		{":rocket: fargate :+1:", "fargate"},
		{"*bold* _it_ `code`", "bold it code"},
		{"<!here> <!subteam^S1|@platform> help", "help"},
		{"a\x00b\xffc", "a b c"},
		{"docker push 1234.dkr.ecr.us-east-1.amazonaws.com/api:latest fails", "docker push aws ecr fails"},
		{"curl https://s3.amazonaws.com/bucket/key", "curl https:// aws s3"},
		{"`eksctl create fargateprofile --namespace batch --cluster=prod` gives what?", "eksctl create fargateprofile --namespace --cluster gives what?"},
		{"no code here --namespace batch", "no code here --namespace batch"},
	}
	for _, tt := range tests {
		if got := index.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("fargate ", 5000)
	if got := utf8.RuneCountInString(index.Normalize(long)); got > index.MaxQuestionRunes {
		t.Errorf("Normalize(40k chars) has %d runes, want at most %d", got, index.MaxQuestionRunes)
	}
}

func FuzzPrepare(f *testing.F) {
	ix := newIndex(f)
	for _, s := range []string{
		"<@U1> which service?", "<#C1|x>", "<https://a|b>", "&amp;", "&lt;script&gt;",
		`+-:*?"~^()`, `"unbalanced`, "ECS vs EKS: which", "-fargate", "servers?",
		strings.Repeat("x", 40000), "🚀🔥 containers 👍", ":rocket:", "\x00\xff", "k8s",
		"field:value AND title:*", "[]{}<>!|&=/\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		n := index.Normalize(q)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q, not valid UTF-8", q, n)
		}
		if utf8.RuneCountInString(n) > index.MaxQuestionRunes {
			t.Fatalf("Normalize(%q) too long: %d runes", q, utf8.RuneCountInString(n))
		}
		a := answer(t, ix, q)
		if a.Confident && len(a.Answers) == 0 {
			t.Fatalf("Answer(%q) confident with no answers", q)
		}
		for _, h := range a.Answers {
			for _, s := range h.Services {
				if !slices.Contains(content.ServiceIDs, s) {
					t.Fatalf("Answer(%q) returned unknown service %q", q, s)
				}
			}
		}
	})
}

// benchQuestions are short and long, answerable and declined.
var benchQuestions = []string{
	"run containerized web service, no infra management",
	"<@U1> how does EKS let pods assume IAM roles?",
	"expire untagged images automatically",
	"how do I set up a postgres read replica",
	"we run everything on EC2 with docker-compose right now and deploys are a mess. what's the next step up on aws that isn't kubernetes",
	"our gitlab runner on ecs fargate can't build images because there's no docker daemon. kaniko? or move the runner somewhere else?",
}

// BenchmarkAnswer answers questions not asked before: every one is worked
// out through the five stages (a number added to the text keeps it out of
// the answer cache and means nothing to the engine).
func BenchmarkAnswer(b *testing.B) {
	ix := newIndex(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := benchQuestions[i%len(benchQuestions)] + " " + strconv.Itoa(i)
		if _, err := ix.Answer(ctx, index.Query{Text: q}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAnswerCached answers questions asked before, from the cache.
func BenchmarkAnswerCached(b *testing.B) {
	ix := newIndex(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ix.Answer(ctx, index.Query{Text: benchQuestions[i%len(benchQuestions)]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkLoadAndBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		base, err := content.Load(content.Embedded)
		if err != nil {
			b.Fatal(err)
		}
		ix, err := index.New(base)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

func ExampleIndex_Answer() {
	b, _ := content.Load(content.Embedded)
	ix, _ := index.New(b)
	defer ix.Close()
	a, _ := ix.Answer(context.Background(), index.Query{Text: "how do I expire untagged images automatically?"})
	fmt.Println(a.Confident, a.Top().Services)
	a, _ = ix.Answer(context.Background(), index.Query{Text: "how do I tune postgres?"})
	fmt.Println(a.Confident)
	// Output:
	// true [ecr]
	// false
}

// A service's caveat (say, closed to new customers) travels with every
// answer that recommends the service, and with every note about it.
func TestCaveatsInAnswers(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	type asked struct {
		id, question string
		services     []string
	}
	var all []asked
	for _, s := range ix.Base().Scenarios {
		all = append(all, asked{s.ID, s.Need, s.Use})
	}
	for _, n := range ix.Base().Notes {
		all = append(all, asked{n.ID, n.Title, n.Services})
	}
	checked := map[string]int{}
	for _, q := range all {
		caveats := ix.Caveats(q.services)
		if len(caveats) == 0 {
			continue
		}
		a, err := ix.Answer(context.Background(), index.Query{Text: q.question})
		if err != nil {
			t.Fatal(err)
		}
		top := a.Top()
		if top == nil || top.ID != q.id {
			continue // another answer won; not this test's concern
		}
		checked[top.Kind]++
		for _, c := range caveats {
			if !slices.Contains(top.Caveats, c) {
				t.Errorf("Answer(%q): caveat %q missing from the %s answer", q.question, c, top.Kind)
			}
		}
	}
	if checked[index.KindScenario] == 0 || checked[index.KindNote] == 0 {
		t.Errorf("checked %v answers with caveats; want scenarios and notes about a closed service", checked)
	}
}

func TestServiceName(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for id, want := range map[string]string{"ecs": "ECS", "eks": "EKS", "fargate": "Fargate", "ec2": "EC2", "ecr": "ECR", "app-runner": "App Runner", "lambda": "Lambda", "nope": "nope"} {
		if got := ix.ServiceName(id); got != want {
			t.Errorf("ServiceName(%q) = %q, want %q", id, got, want)
		}
	}
}

// Explain prints the stages Answer runs, so its decision and ranking are
// Answer's.
func TestExplainTracesAnswer(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for _, q := range []string{
		"we don't want to manage any EC2 instances, just run our containers",
		"expire untagged images automatically",
		"how do I tune postgres",
		"hello",
		"",
	} {
		a := answer(t, ix, q)
		out, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		for _, stage := range []string{"1. normalise", "2. understand", "3. retrieve", "4. rank", "5. decide"} {
			if !strings.Contains(out, stage) {
				t.Errorf("Explain(%q) lacks stage %q:\n%s", q, stage, out)
			}
		}
		if want := fmt.Sprintf("confident: %v", a.Confident); !strings.Contains(out, want) {
			t.Errorf("Explain(%q) lacks %q:\n%s", q, want, out)
		}
		if top := a.Top(); top != nil && !strings.Contains(out, "4. rank\n  1. "+top.Kind+"/"+top.ID+" ") {
			t.Errorf("Explain(%q) does not rank %s/%s first:\n%s", q, top.Kind, top.ID, out)
		}
	}
}

// A pasted identifier is read as its words, the names the lexicon knows
// kept whole within it.
func TestIdentifierNames(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	for q, want := range map[string]string{
		"what does the CloudFormationStackDrift check report": "cloudformation stack drift",
		"attach AmazonECSTaskExecutionRolePolicy to the role": "amazon ecs task execution role policy",
		"task stopped: CannotPullContainerError on fargate":   "cannotpullcontainererror",
		"we need 16 vCPUs per task":                           "vcpus",
	} {
		ex, err := ix.Explain(context.Background(), index.Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ex, want) {
			t.Errorf("Explain(%q) does not read %q", q, want)
		}
	}
}

// "isn't supported" states a limitation of something, not a wish of the
// user's: what follows it is still needed.
func TestUnsupportedIsALimit(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	q := "our old runbook says fargate spot isn't supported for graviton tasks. still the case in 2026?"
	out, err := ix.Explain(context.Background(), index.Query{Text: q})
	if err != nil {
		t.Fatal(err)
	}
	line := ""
	for l := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "needs:") {
			line = l
			break
		}
	}
	if !strings.Contains(line, `arm ("`) || strings.Contains(line, "not arm") {
		t.Errorf("Explain(%q) needs = %q, want arm needed", q, line)
	}
}

// Tasks stopped in a loop by failing load balancer health checks while
// they start are answered with the service's health check grace period.
func TestHealthCheckGracePeriod(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	q := "fargate tasks behind the alb get marked unhealthy and stopped while the app is still booting, then ecs starts new ones in a loop. how do we stop that?"
	a := answer(t, ix, q)
	if top := a.Top(); !a.Confident || top == nil || top.ID != "ecs-tasks-fail-load-balancer-health-checks" {
		t.Errorf("Answer(%q) = %+v, want the health check grace period scenario", q, top)
	}
}

// A service that "has no" something lacks it; the user still needs it.
// "the team has no kubernetes experience" still does without Kubernetes.
func TestServiceLacks(t *testing.T) {
	t.Parallel()
	ix := newIndex(t)
	q := "lambda has no gpus and our inference needs one, what now?"
	a := answer(t, ix, q)
	if top := a.Top(); !a.Confident || top == nil || !slices.Contains(top.Services, "ec2") || slices.Contains(top.Services, "lambda") {
		t.Errorf("Answer(%q) = %+v, want a confident answer on EC2 GPUs", q, top)
	}
	q = "the team has no kubernetes experience, where should our containers run?"
	b := answer(t, ix, q)
	if top := b.Top(); top == nil || slices.Contains(top.Services, "eks") {
		t.Errorf("Answer(%q) = %+v, want no EKS", q, top)
	}
}
