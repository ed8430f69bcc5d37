package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Lexicon is how Shipmate reads a question: the words it ignores, the words
// that put a question in its domain, the phrases people use for what the
// knowledge base calls something, the requirements those phrases express,
// and what lies outside the domain. It is lexicon.yaml; FORMAT.md describes
// every field.
type Lexicon struct {
	// Protected tokens are never stemmed, so acronyms stay themselves
	// ("ecs" would otherwise become "ec").
	Protected []string `yaml:"protected"`
	// Filler words carry no meaning in a question to Shipmate.
	Filler []string `yaml:"filler"`
	// Anchors put a question in the domain even when it names no service.
	Anchors []string `yaml:"anchors"`
	// Weak words name a service but are as often about something else
	// ("ec2" instances in general, "docker" on a laptop): a question needs
	// another domain word as well to be in the domain.
	Weak []string `yaml:"weak"`
	// Generic words appear in service names but are too common to mark a
	// question as being about containers ("amazon", "elastic", "service").
	Generic []string `yaml:"generic"`
	// AWS are the phrases that say a question is about AWS.
	AWS []string `yaml:"aws"`
	// AWSShared are the entries of AWS that other clouds use too ("region",
	// "IAM"): next to another cloud's product, or in a question leaving
	// AWS, they do not make it a question about AWS.
	AWSShared []string `yaml:"aws_shared"`
	// Features are the names of one service's features ("Pod Identity",
	// "Express Mode"): a question that names one is answered by a document
	// that names it too.
	Features []string `yaml:"features"`
	// Descriptions are how people describe features without their names
	// ("an IAM role per pod without the OIDC provider" is Pod Identity): a
	// question that says one names its features.
	Descriptions []Description `yaml:"descriptions"`
	Negation     Negation      `yaml:"negation"`
	Cues         Cues          `yaml:"cues"`
	// Replaces are features that take a need away from the user: a
	// question asking about Auto Mode does not ask for EC2 nodes of its
	// own, though it names the node groups it leaves.
	Replaces []Replacement `yaml:"replaces"`
	// Terms map how people say things to the knowledge base's words and to
	// the requirements they express.
	Terms []Term `yaml:"terms"`
	// Quantities turn numbers into needs: "takes 40 minutes" is more than
	// Lambda's 15, "512 GB of RAM" more than a Fargate task holds.
	Quantities []Quantity `yaml:"quantities"`
	// Beyond are the words after which a number counts as exceeded
	// ("exceeds 10 GiB" is more than 10).
	Beyond []string `yaml:"beyond"`
	// Periods are the words after which a number is how often something
	// happens, not how long it takes ("every 5 minutes"): it expresses no
	// need of the quantities.
	Periods []string `yaml:"periods"`
	// Needs are the requirements a question can express, each in a facet.
	Needs  []Need  `yaml:"needs"`
	Facets []Facet `yaml:"facets"`
	// Outside names what Shipmate does not cover.
	Outside Outside `yaml:"outside"`
	Pos     Pos     `yaml:"-"`
}

// Negation says how far a negation reaches: from a negating word to the end
// of its clause, at most Reach words.
type Negation struct {
	Words []string `yaml:"words"`
	Reach int      `yaml:"reach"`
	// Breaks are words that end a clause, as punctuation does ("but").
	Breaks []string `yaml:"breaks"`
	// Cancel are words that, right after a negating word, make it state a
	// limitation rather than a wish ("doesn't let us run workers").
	Cancel []string `yaml:"cancel"`
	// Speakers are the words by which users speak of themselves: right
	// before a negating word followed by one of Practices and a word with
	// meaning they make what follows their own doing ("we don't run
	// kubernetes"), which that Cancel word does not turn into a limitation.
	Speakers  []string `yaml:"speakers"`
	Practices []string `yaml:"practices"`
	// Lacks are verbs of having: a negating word right after one of them,
	// itself right after a service's name, states what the service lacks
	// ("fargate has no GPUs"), not what the user does without.
	Lacks []string `yaml:"lacks"`
	// Amounts are phrases in which a negating word is a number ("down to
	// zero", "scale from zero"): it negates nothing.
	Amounts []string `yaml:"amounts"`
	// Places are words that end a negation after Existential words once
	// it has covered a word with meaning: what follows says where
	// ("there's no KEDA on ECS" lacks KEDA, not ECS).
	Places      []string `yaml:"places"`
	Existential []string `yaml:"existential"`
	// Complaints are words that say the rest of their clause is a burden
	// ("patching the boxes is a chore", "deploys on EC2 are a mess"): a
	// phrase with a negated meaning in such a clause takes it, whether it
	// comes before or after the complaint.
	Complaints []string `yaml:"complaints"`
}

// Cues are phrases that give a question its shape. Each is matched as
// whole words, ignoring case.
type Cues struct {
	// Definition phrases open a "what is …" question; "..." in a phrase
	// stands for any words ("how does ... work").
	Definition []string `yaml:"definition"`
	// Comparison words weigh services against each other ("vs", "or").
	Comparison []string `yaml:"comparison"`
	// Ability phrases ask whether a service can do something ("can", "does").
	Ability []string `yaml:"ability"`
	// Doubt phrases question a service the user names ("do we need").
	Doubt []string `yaml:"doubt"`
	// Leaving phrases mark the service named nearest before them as the one
	// the user is moving away from or cannot use ("won't work", "keeps
	// cutting it off"); LeavingNext phrases mark the service named right
	// after them ("instead of", "cheaper than").
	Leaving     []string `yaml:"leaving"`
	LeavingNext []string `yaml:"leaving_next"`
	// Target phrases mark the service named right after them as the one
	// the user is heading for ("thinking ECS fargate first", "moving to
	// EKS"): the others named are where they come from.
	Target []string `yaml:"target"`
	// Arrival phrases put the workload in AWS ("move them to AWS",
	// "multi-AZ"): a place need beside them is where it runs now.
	Arrival []string `yaml:"arrival"`
	// Unable phrases ("can't", "won't") right after a service's name mark
	// it as failing the user: "fargate can't handle our 8 hour job". After
	// a tool or a part of it ("ecs-cli can't convert", "the ECS agent
	// can't connect") they do not.
	Unable []string `yaml:"unable"`
	// Symptoms are words that, right after an Unable phrase, report a
	// symptom of the user's setup rather than the service failing them
	// ("fargate tasks can't reach the internet").
	Symptoms []string `yaml:"symptoms"`
	// Failing phrases mark, as Leaving phrases do, the service the user
	// reports failing them ("refuses", "won't work on"): an answer
	// recommending it is demoted even when the service could in general
	// meet the need.
	Failing []string `yaml:"failing"`
	// Rejecting phrases ("instead", "an alternative") mark, as Leaving
	// phrases do, a service the user wants replaced; so do LeavingNext
	// phrases ("instead of X"). An answer recommending it drops out unless
	// it meets a variant need (Fargate Spot for "something cheaper instead
	// of Fargate").
	Rejecting []string `yaml:"rejecting"`
	// RejectingEarlier phrases are Rejecting ones that only reject a
	// service named in an earlier clause ("… on Lambda. better option for
	// steady traffic?"); in the clause that names services they weigh
	// them ("is Fargate a better option than EC2?").
	RejectingEarlier []string `yaml:"rejecting_earlier"`
	// Spawns are verbs that, right before a Rejecting phrase (an article
	// between them allowed), make the replacement something the service
	// does rather than something the user wants: "ECS starts a
	// replacement" replaces a task, not ECS.
	Spawns []string `yaml:"spawns"`
	// Workaround phrases start what the user already does ("so I", "we
	// ended up"): a Rejecting phrase after one in its clause reports their
	// own workaround ("so I download the model at startup instead"), not
	// a service they want replaced.
	Workaround []string `yaml:"workaround"`
	// Wishes are words that, between a Workaround phrase and a Rejecting
	// one, make it a wish again ("so we need something else instead").
	Wishes []string `yaml:"wishes"`

	// Followup phrases open a question that continues the previous one
	// ("what about", "and if").
	Followup []string `yaml:"followup"`
	// Equivalence phrases ask for the AWS counterpart of something
	// ("like", "equivalent", "coming from").
	Equivalence []string `yaml:"equivalence"`
	// Likeness phrases, among the Equivalence ones, ask for a counterpart
	// only of another cloud's product named right next to them in their
	// clause ("something like Cloud Run"), not in "like they had for VMs"
	// or "save like 70%".
	Likeness []string `yaml:"likeness"`
	// Newcomer phrases say the user starts anew ("new project", "new
	// account"): a service closed to new customers is not for them.
	Newcomer []string `yaml:"newcomer"`
	// Chatter phrases mark a message that reports or reacts rather than
	// asks ("thanks, fargate worked great"): without a question mark, a
	// request or a need it is not a question.
	Chatter []string `yaml:"chatter"`
	// Choice phrases ask for a service ("which service", "options?",
	// "where should we run"). ChoiceWeak words ("which", "or", "deploy")
	// ask for one too, but also come in questions about a tool ("bridge or
	// host network, which is faster"): alone, they do not make a question
	// with no AWS word about AWS.
	Choice     []string `yaml:"choice"`
	ChoiceWeak []string `yaml:"choice_weak"`
	// Howto phrases mark a how-to or troubleshooting question ("how do I",
	// "not working").
	Howto []string `yaml:"howto"`
	// Requests phrases make the clause they are in ask for what follows
	// them, without a question mark ("now we need windows nodes").
	Requests []string `yaml:"requests"`
	// Inside phrases put what a how-to asks about inside the container
	// itself ("inside a docker container", "in my Dockerfile"): with
	// nothing about AWS in it, it is about containers in general.
	Inside []string `yaml:"inside"`
	// Process phrases are about what the application's own process or
	// build does in any container ("ignores SIGTERM", "stdout buffered",
	// "multi-stage build"): with nothing about AWS in the question, it is
	// about containers in general whether or not it asks how.
	Process []string `yaml:"process"`
	// Departure phrases say the user is leaving AWS itself ("moving off
	// AWS to Hetzner"); a phrase followed by an AWS name is about that
	// service instead ("off AWS Beanstalk").
	Departure []string `yaml:"departure"`
	// Reference phrases name a service as a point of comparison for
	// another one ("can Lambda read secrets the way ECS does?"); "..."
	// stands for a few words.
	Reference []string `yaml:"reference"`
}

// Term is one way people say something. A question using one of the Says
// phrases searches for Means as well and expresses the Needs; when the
// phrase is negated ("no servers"), Negated applies instead, if given.
type Term struct {
	Says    []string `yaml:"says"`
	Means   string   `yaml:"means"`
	Needs   []string `yaml:"needs"`
	Negated *Meaning `yaml:"negated"`
	// Situation is set for phrases that state what the user has or knows
	// ("our team knows Kubernetes", "Kubernetes skills"): their needs count
	// even in a question that weighs the services they name.
	Situation bool `yaml:"situation"`
	Pos       Pos  `yaml:"-"`
}

// Description is a set of phrases that describe Features without naming
// them. A phrase with "..." matches any words in its place within one
// clause ("role ... per pod").
type Description struct {
	Features []string `yaml:"features"`
	Says     []string `yaml:"says"`
	Pos      Pos      `yaml:"-"`
}

// Replacement is a feature and the needs it takes away from the user.
type Replacement struct {
	Feature string   `yaml:"feature"`
	Needs   []string `yaml:"needs"`
	Pos     Pos      `yaml:"-"`
}

// Meaning is what a term stands for.
type Meaning struct {
	Means string   `yaml:"means"`
	Needs []string `yaml:"needs"`
}

// Quantity is a number with a unit that expresses needs when it is above
// or below a bound, optionally only in a clause with one of the With words.
type Quantity struct {
	Units []string `yaml:"units"`
	// Above and Below bound the number (exclusive); nil means unbounded.
	Above *float64 `yaml:"above"`
	Below *float64 `yaml:"below"`
	With  []string `yaml:"with"`
	Needs []string `yaml:"needs"`
	Pos   Pos      `yaml:"-"`
}

// Need is one requirement a question can express: "the Kubernetes API",
// "GPUs", "runs longer than 15 minutes".
type Need struct {
	ID    string `yaml:"id"`
	Facet string `yaml:"facet"`
	// Label names the need in an answer ("GPUs").
	Label string `yaml:"label"`
	// Place needs say where the workload runs outside AWS ("our own data
	// center"): a question that moves it to AWS (cues.arrival) describes
	// where it is now, not what it needs.
	Place bool `yaml:"place"`
	Pos   Pos  `yaml:"-"`
}

// Facet groups needs: orchestrator, management model, compute, workload
// shape, constraints, cost, source.
type Facet struct {
	ID string `yaml:"id"`
	// Exclusive facets hold alternatives (Kubernetes or ECS): a question
	// naming both is weighing them, not needing both.
	Exclusive bool `yaml:"exclusive"`
	// A context facet says where the user runs things (Kubernetes, from the
	// word "pod") rather than what they need: a question whose only needs
	// are in context facets, with no AWS word and no request for a service,
	// is about the tool in general and is declined.
	Context bool `yaml:"context"`
	// Workload facets describe something to run (a batch job, a GPU
	// workload): a question with such a need is about compute even when it
	// also names another AWS product ("jobs triggered by S3 uploads").
	Workload bool `yaml:"workload"`
	// A variant facet's needs can be met by a cheaper or simpler form of
	// the service the user is leaving ("cheaper than Fargate": Fargate
	// Spot), so leaving a service for one of them does not rule it out;
	// leaving it for any other need ("a webhook past the 29 s limit, what
	// instead of Lambda?") does.
	Variant bool `yaml:"variant"`
	// Ask is the question Shipmate asks back when two answers differ only
	// in this facet; Options are the answers offered.
	Ask     string   `yaml:"ask"`
	Options []Option `yaml:"options"`
	Pos     Pos      `yaml:"-"`
}

// Option is one answer to a facet's question: the need it settles, its
// label, and the words added to the question when it is chosen.
type Option struct {
	Need  string `yaml:"need"`
	Label string `yaml:"label"`
	Adds  string `yaml:"adds"`
}

// Outside lists phrases naming what Shipmate does not cover.
type Outside struct {
	// Services are other products (S3, RDS, Route 53…): a question naming
	// one of them and no container service or container term is declined.
	Services []string `yaml:"services"`
	// Local are phrases about a developer's own machine ("docker desktop",
	// "my laptop"): such a question is declined unless it names an AWS
	// container service.
	Local []string `yaml:"local"`
	// Clouds are other clouds' products (GKE, Azure Container Apps): a
	// question about one for its own sake is declined; asking for its AWS
	// counterpart is not.
	Clouds []string `yaml:"clouds"`
	// Platforms are other services that run containers themselves
	// (SageMaker, AWS Batch, Elastic Beanstalk): a question about one
	// that names none of Shipmate's services and asks for no way off it
	// is about that platform.
	Platforms []string `yaml:"platforms"`
	// Troubleshooting are generic error and symptom phrases
	// (CrashLoopBackOff, exit code 137, "timed out"): a question about one
	// that expresses no need is declined, and one about a service the user
	// keeps is answered only by a document covering the problem.
	Troubleshooting []string `yaml:"troubleshooting"`
	// ErrorSuffixes end the names of exceptions and error types
	// ("ServerlessError", "NullPointerException"): a single word made of
	// another word and one of them is a pasted error, as a troubleshooting
	// phrase is, in a question with no AWS word.
	ErrorSuffixes []string `yaml:"error_suffixes"`
}

// Capability is what one service can and cannot do, as needs.
type Capability struct {
	Service string `yaml:"service"`
	// Role is what the service is: orchestrator, compute, platform or
	// registry. A choice among named services compares like with like.
	Role   string   `yaml:"role"`
	Can    []string `yaml:"can"`
	Cannot []Limit  `yaml:"cannot"`
	Pos    Pos      `yaml:"-"`
}

// Limit is a need a service cannot meet, why, and the way out.
type Limit struct {
	Need string `yaml:"need"`
	// Limit says what the service lacks, in a sentence.
	Limit string `yaml:"limit"`
	// Instead are the services that meet the need; Way says how.
	Instead []string `yaml:"instead"`
	Way     string   `yaml:"way"`
}

// Roles a service may have in capabilities.yaml: an orchestrator or a
// platform runs the workload itself, compute comes with an orchestrator,
// a registry holds images.
const (
	RoleOrchestrator = "orchestrator"
	RoleCompute      = "compute"
	RolePlatform     = "platform"
	RoleRegistry     = "registry"
)

// Roles lists the roles.
var Roles = []string{RoleOrchestrator, RoleCompute, RolePlatform, RoleRegistry}

// Capability returns the capabilities of a service, or nil.
func (b *Base) Capability(service string) *Capability {
	for i := range b.Capabilities {
		if b.Capabilities[i].Service == service {
			return &b.Capabilities[i]
		}
	}
	return nil
}

// LimitFor returns the limit of a service for a need, or nil if it has none.
func (c *Capability) LimitFor(need string) *Limit {
	if c == nil {
		return nil
	}
	for i := range c.Cannot {
		if c.Cannot[i].Need == need {
			return &c.Cannot[i]
		}
	}
	return nil
}

// Files of the lexicon and the capabilities.
const (
	lexiconFile      = "lexicon.yaml"
	capabilitiesFile = "capabilities.yaml"
)

// loadLexicon reads lexicon.yaml and capabilities.yaml into b and checks
// them against each other and against the rest of b (service ids, the
// needs scenarios say they satisfy).
func loadLexicon(fsys fs.FS, b *Base) Problems {
	var ps Problems
	lx := &Lexicon{Pos: Pos{File: lexiconFile, Line: 1}}
	root := strictYAML(fsys, lexiconFile, lx, &ps)
	if root != nil {
		setLines(root, "terms", lx.Terms, func(t *Term) *Pos { return &t.Pos })
		setLines(root, "descriptions", lx.Descriptions, func(d *Description) *Pos { return &d.Pos })
		setLines(root, "replaces", lx.Replaces, func(r *Replacement) *Pos { return &r.Pos })
		setLines(root, "quantities", lx.Quantities, func(q *Quantity) *Pos { return &q.Pos })
		setLines(root, "needs", lx.Needs, func(n *Need) *Pos { return &n.Pos })
		setLines(root, "facets", lx.Facets, func(f *Facet) *Pos { return &f.Pos })
		b.Lexicon = lx
	}
	var lexRoot *yaml.Node
	if b.Lexicon != nil {
		lexRoot = root
	}
	var caps []Capability
	if croot := strictYAML(fsys, capabilitiesFile, &caps, &ps); croot != nil {
		for i, item := range croot.Content {
			if i < len(caps) {
				caps[i].Pos = Pos{capabilitiesFile, item.Line}
			}
		}
		b.Capabilities = caps
	}
	if b.Lexicon != nil {
		ps = append(ps, checkLexicon(b, lexRoot)...)
	}
	return ps
}

// setLines gives each of items the line of its entry in the list at key of
// the lexicon's top node.
func setLines[T any](root *yaml.Node, key string, items []T, pos func(*T) *Pos) {
	for i, line := range entryLines(root, key) {
		if i < len(items) {
			*pos(&items[i]) = Pos{lexiconFile, line}
		}
	}
}

// strictYAML decodes file into v, reporting unknown and repeated keys and
// type errors with their lines, and returns the file's top node for
// positions. A missing file is a problem: both files are required.
func strictYAML(fsys fs.FS, file string, v any, ps *Problems) *yaml.Node {
	add := func(line int, format string, args ...any) {
		*ps = append(*ps, Problem{Pos{file, line}, fmt.Sprintf(format, args...)})
	}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		add(0, "%v", unwrapPath(err))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	top := withNode{v: v}
	err = dec.Decode(&top)
	switch {
	case errors.Is(err, io.EOF):
		add(1, "empty file")
		return nil
	case err != nil:
		addYAMLError(file, err, ps)
		// Unknown fields and type errors leave the rest decoded, so its
		// other problems are found in the same run.
		var te *yaml.TypeError
		if !errors.As(err, &te) || top.node == nil {
			return nil
		}
	}
	return top.node
}

// withNode decodes into v and keeps the top node, for positions, in one
// parse. It uses the function form of UnmarshalYAML, so v is decoded by
// the calling Decoder, with its KnownFields and duplicate-key checks.
type withNode struct {
	v    any
	node *yaml.Node
}

func (w *withNode) UnmarshalYAML(unmarshal func(any) error) error {
	var n nodeOf
	if err := unmarshal(&n); err != nil {
		return err
	}
	w.node = n.Node
	return unmarshal(w.v)
}

// addYAMLError turns a yaml.v3 error into problems with file and line.
func addYAMLError(file string, err error, ps *Problems) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		line := 0
		if n, rest, ok := cutLine(m); ok {
			line, m = n, rest
		}
		if name, ok := strings.CutPrefix(m, "field "); ok {
			if name, _, found := strings.Cut(name, " not found in type "); found {
				m = fmt.Sprintf("unknown field %q", name)
			}
		}
		*ps = append(*ps, Problem{Pos{file, line}, m})
	}
}

// entryLines returns the line of each entry of the list at path (keys of
// nested mappings) under node m.
func entryLines(m *yaml.Node, path ...string) []int {
	for _, key := range path {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				next = m.Content[i+1]
			}
		}
		m = next
	}
	if m == nil {
		return nil
	}
	var lines []int
	for _, item := range m.Content {
		lines = append(lines, item.Line)
	}
	return lines
}

// checkLexicon checks the lexicon's lists and what the lexicon and
// capabilities refer to; root is lexicon.yaml's top node, for lines.
func checkLexicon(b *Base, root *yaml.Node) Problems {
	var ps Problems
	lx := b.Lexicon
	add := func(p Pos, format string, args ...any) {
		ps = append(ps, Problem{p, fmt.Sprintf(format, args...)})
	}
	top := Pos{lexiconFile, 1}
	if lx.Negation.Reach <= 0 {
		add(top, "negation: reach must be a positive number of words")
	}
	for _, l := range []struct {
		path   string
		items  []string
		single bool // each item must be one word
	}{
		{"protected", lx.Protected, true}, {"filler", lx.Filler, true}, {"anchors", lx.Anchors, true},
		{"weak", lx.Weak, true}, {"generic", lx.Generic, true}, {"aws", lx.AWS, false}, {"aws_shared", lx.AWSShared, false},
		{"features", lx.Features, false},
		{"negation.words", lx.Negation.Words, true}, {"negation.breaks", lx.Negation.Breaks, true},
		{"negation.cancel", lx.Negation.Cancel, true},
		{"negation.speakers", lx.Negation.Speakers, true}, {"negation.practices", lx.Negation.Practices, true}, {"negation.lacks", lx.Negation.Lacks, true}, {"negation.amounts", lx.Negation.Amounts, false},
		{"negation.places", lx.Negation.Places, true}, {"negation.existential", lx.Negation.Existential, false}, {"negation.complaints", lx.Negation.Complaints, true},
		{"cues.definition", lx.Cues.Definition, false}, {"cues.comparison", lx.Cues.Comparison, false},
		{"cues.ability", lx.Cues.Ability, false}, {"cues.doubt", lx.Cues.Doubt, false},
		{"cues.leaving", lx.Cues.Leaving, false}, {"cues.leaving_next", lx.Cues.LeavingNext, false},
		{"cues.failing", lx.Cues.Failing, false}, {"cues.rejecting", lx.Cues.Rejecting, false}, {"cues.rejecting_earlier", lx.Cues.RejectingEarlier, false}, {"cues.spawns", lx.Cues.Spawns, true}, {"cues.workaround", lx.Cues.Workaround, false}, {"cues.wishes", lx.Cues.Wishes, true}, {"cues.target", lx.Cues.Target, false}, {"cues.arrival", lx.Cues.Arrival, false},
		{"cues.unable", lx.Cues.Unable, false}, {"cues.symptoms", lx.Cues.Symptoms, true},
		{"cues.followup", lx.Cues.Followup, false},
		{"cues.equivalence", lx.Cues.Equivalence, false}, {"cues.likeness", lx.Cues.Likeness, false}, {"cues.newcomer", lx.Cues.Newcomer, false}, {"cues.chatter", lx.Cues.Chatter, false},
		{"cues.choice", lx.Cues.Choice, false},
		{"cues.choice_weak", lx.Cues.ChoiceWeak, false},
		{"cues.howto", lx.Cues.Howto, false}, {"cues.requests", lx.Cues.Requests, false}, {"cues.inside", lx.Cues.Inside, false}, {"cues.process", lx.Cues.Process, false}, {"cues.departure", lx.Cues.Departure, false},
		{"cues.reference", lx.Cues.Reference, false}, {"beyond", lx.Beyond, false}, {"periods", lx.Periods, false},
		{"outside.services", lx.Outside.Services, false}, {"outside.local", lx.Outside.Local, false},
		{"outside.clouds", lx.Outside.Clouds, false}, {"outside.platforms", lx.Outside.Platforms, false}, {"outside.troubleshooting", lx.Outside.Troubleshooting, false},
		{"outside.error_suffixes", lx.Outside.ErrorSuffixes, true},
	} {
		lines := entryLines(root, strings.Split(l.path, ".")...)
		for i, w := range l.items {
			p := top
			if i < len(lines) {
				p.Line = lines[i]
			}
			w = strings.TrimSpace(w)
			switch {
			case w == "":
				add(p, "%s: expected a non-empty phrase", l.path)
			case l.single && strings.ContainsAny(w, " \t"):
				add(p, "%s: %q must be a single word", l.path, w)
			case l.path == "aws_shared" && !slices.ContainsFunc(lx.AWS, func(a string) bool { return strings.EqualFold(strings.TrimSpace(a), w) }):
				add(p, "aws_shared: %q is not an entry of aws", w)
			}
		}
	}
	facets := map[string]*Facet{}
	for i := range lx.Facets {
		f := &lx.Facets[i]
		if f.ID == "" {
			add(f.Pos, "facet: missing field \"id\"")
			continue
		}
		if facets[f.ID] != nil {
			add(f.Pos, "duplicate facet id %q", f.ID)
		}
		facets[f.ID] = f
	}
	needs := map[string]*Need{}
	for i := range lx.Needs {
		n := &lx.Needs[i]
		switch {
		case n.ID == "":
			add(n.Pos, "need: missing field \"id\"")
			continue
		case needs[n.ID] != nil:
			add(n.Pos, "duplicate need id %q (first defined at %s:%d)", n.ID, needs[n.ID].Pos.File, needs[n.ID].Pos.Line)
		case facets[n.Facet] == nil:
			add(n.Pos, "need %q: facet %q is not a facet id", n.ID, n.Facet)
		}
		if strings.TrimSpace(n.Label) == "" {
			add(n.Pos, "need %q: missing field \"label\"", n.ID)
		}
		needs[n.ID] = n
	}
	known := func(p Pos, what string, ids []string) {
		for _, id := range ids {
			if needs[id] == nil {
				add(p, "%s: %q is not a need id", what, id)
			}
		}
	}
	for _, f := range lx.Facets {
		if len(f.Options) > 0 && strings.TrimSpace(f.Ask) == "" {
			add(f.Pos, "facet %q: options without \"ask\"", f.ID)
		}
		for _, o := range f.Options {
			known(f.Pos, fmt.Sprintf("facet %q option", f.ID), []string{o.Need})
			if n := needs[o.Need]; n != nil && n.Facet != f.ID {
				add(f.Pos, "facet %q option: need %q belongs to facet %q", f.ID, o.Need, n.Facet)
			}
			if strings.TrimSpace(o.Label) == "" || strings.TrimSpace(o.Adds) == "" {
				add(f.Pos, "facet %q option %q: needs both \"label\" and \"adds\"", f.ID, o.Need)
			}
		}
	}
	for _, t := range lx.Terms {
		if len(t.Says) == 0 {
			add(t.Pos, "term: missing field \"says\"")
		}
		for _, s := range t.Says {
			if strings.TrimSpace(s) == "" {
				add(t.Pos, "term: empty phrase in \"says\"")
			}
		}
		if strings.TrimSpace(t.Means) == "" && len(t.Needs) == 0 && t.Negated == nil {
			add(t.Pos, "term: needs \"means\", \"needs\" or \"negated\"")
		}
		known(t.Pos, "term needs", t.Needs)
		if t.Negated != nil {
			if strings.TrimSpace(t.Negated.Means) == "" && len(t.Negated.Needs) == 0 {
				add(t.Pos, "term negated: needs \"means\" or \"needs\"")
			}
			known(t.Pos, "term negated needs", t.Negated.Needs)
		}
	}
	// A feature no answer names would make a question that names it prefer
	// nothing: some note or scenario answer must say it.
	flines := entryLines(root, "features")
	for _, i := range unnamedFeatures(b, lx.Features) {
		p := top
		if i < len(flines) {
			p.Line = flines[i]
		}
		add(p, "features: no note or scenario answer names %q", lx.Features[i])
	}
	for _, d := range lx.Descriptions {
		if len(d.Features) == 0 || len(d.Says) == 0 {
			add(d.Pos, "description: needs \"features\" and \"says\"")
		}
		for _, f := range d.Features {
			if !slices.ContainsFunc(lx.Features, func(g string) bool { return strings.EqualFold(strings.TrimSpace(g), strings.TrimSpace(f)) }) {
				add(d.Pos, "description: %q is not an entry of features", f)
			}
		}
		for _, s := range d.Says {
			if w := strings.Fields(s); len(w) == 0 || w[0] == "..." || w[len(w)-1] == "..." {
				add(d.Pos, "description: %q must be words, with \"...\" only between them", s)
			}
		}
	}
	for _, r := range lx.Replaces {
		if strings.TrimSpace(r.Feature) == "" || len(r.Needs) == 0 {
			add(r.Pos, "replacement: needs \"feature\" and \"needs\"")
		}
		if !slices.ContainsFunc(lx.Features, func(g string) bool { return strings.EqualFold(strings.TrimSpace(g), strings.TrimSpace(r.Feature)) }) {
			add(r.Pos, "replacement: %q is not an entry of features", r.Feature)
		}
		known(r.Pos, "replacement needs", r.Needs)
	}
	for _, q := range lx.Quantities {
		if len(q.Units) == 0 || len(q.Needs) == 0 {
			add(q.Pos, "quantity: needs \"units\" and \"needs\"")
		}
		known(q.Pos, "quantity needs", q.Needs)
	}
	for _, s := range b.Scenarios {
		known(s.Pos, fmt.Sprintf("scenario %q satisfies", s.ID), s.Satisfies)
	}
	seen := map[string]Pos{}
	for _, c := range b.Capabilities {
		what := fmt.Sprintf("capabilities of %q", c.Service)
		if !slices.Contains(ServiceIDs, c.Service) {
			add(c.Pos, "capabilities: unknown service id %q (known: %s)", c.Service, strings.Join(ServiceIDs, ", "))
		} else if first, dup := seen[c.Service]; dup {
			add(c.Pos, "duplicate capabilities for %q (first at %s:%d)", c.Service, first.File, first.Line)
		}
		seen[c.Service] = c.Pos
		if !slices.Contains(Roles, c.Role) {
			add(c.Pos, "%s: role %q is not one of %s", what, c.Role, strings.Join(Roles, ", "))
		}
		known(c.Pos, what+" can", c.Can)
		for _, l := range c.Cannot {
			known(c.Pos, what+" cannot", []string{l.Need})
			if slices.Contains(c.Can, l.Need) {
				add(c.Pos, "%s: %q is both in \"can\" and \"cannot\"", what, l.Need)
			}
			if strings.TrimSpace(l.Limit) == "" {
				add(c.Pos, "%s cannot %q: missing field \"limit\"", what, l.Need)
			}
			for _, s := range l.Instead {
				if !slices.Contains(ServiceIDs, s) {
					add(c.Pos, "%s cannot %q: unknown service id %q in \"instead\"", what, l.Need, s)
				}
			}
		}
	}
	for _, id := range ServiceIDs {
		if _, ok := seen[id]; !ok && len(b.Capabilities) > 0 {
			add(Pos{capabilitiesFile, 0}, "no capabilities for service %q", id)
		}
	}
	return ps
}

// unnamedFeatures returns the indexes, in order, of the features that no
// note or scenario answer names (as plainWords, whole words). It stops
// reading once every feature has been found, as it is in the first few
// documents of any real knowledge base.
func unnamedFeatures(b *Base, features []string) []int {
	left := map[int]string{}
	for i, f := range features {
		if w := plainWords(f); w != "" {
			left[i] = " " + w + " "
		}
	}
	says := func(texts ...string) bool {
		t := " " + plainWords(strings.Join(texts, " ")) + " "
		for i, w := range left {
			if strings.Contains(t, w) {
				delete(left, i)
			}
		}
		return len(left) == 0
	}
	done := len(left) == 0
	for _, n := range b.Notes {
		if done = done || says(n.Title, n.Body); done {
			break
		}
	}
	for _, s := range b.Scenarios {
		texts := []string{s.Answer, s.Because}
		for _, a := range s.Consider {
			texts = append(texts, a.When)
		}
		if done = done || says(texts...); done {
			break
		}
	}
	out := slices.Collect(maps.Keys(left))
	slices.Sort(out)
	return out
}

// plainWords lowercases s and turns every run of characters other than
// letters and digits into one space: "Blue/Green" is "blue green".
func plainWords(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}
