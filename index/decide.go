package index

import (
	"slices"
	"strings"
)

// decision is the fifth stage's result: whether the best candidate is
// given as an answer, why, and whether to ask back.
type decision struct {
	confident bool
	reason    string
	// covered, nearCovered and total are the weights of the question's units
	// that the best candidate, and the best few together, cover; problem
	// and problemCovered leave out the container words and service names.
	covered, nearCovered, total float64
	problem, problemCovered     float64
	anchored                    bool
	// met and violated are the best candidate's needs match.
	met, violated int
	// metFrom is how many of the question's phrases expressed the needs met.
	metFrom int
	clarify *Clarify
}

// decide is the fifth stage: the domain gate, the confidence decision and
// whether a tie is worth asking about. Raw scores drift between queries, so
// the decision rests on meaning: whether the question is about AWS
// containers at all, how well the best document meets its needs, and how
// much of it the best documents cover.
func (ix *Index) decide(u *understanding, ranked []candidate, question string) decision {
	var d decision
	if len(u.units) == 0 {
		d.reason = "nothing to search for"
		return d
	}
	if len(ranked) == 0 {
		d.reason = "no document matches"
		return d
	}
	top := ranked[0].doc
	near := ranked[:min(len(ranked), nearHits)]
	for _, un := range u.units {
		w := ix.weight(un)
		d.total += w
		plain := !un.anchor && un.service == ""
		if plain {
			d.problem += w
		}
		if top.covers(un) {
			d.covered += w
			if plain {
				d.problemCovered += w
			}
		}
		for _, c := range near {
			if c.doc.covers(un) {
				d.nearCovered += w
				break
			}
		}
	}
	m := ix.matchNeeds(u, top)
	d.met, d.violated = len(m.met), len(m.violated)
	// "moved our whole company off heroku", asking for nothing: two needs
	// from one word are one piece of evidence that the message describes
	// a workload.
	from := map[string]bool{}
	for _, n := range u.needs {
		if slices.Contains(m.met, n.id) {
			from[n.from] = true
		}
	}
	d.metFrom = len(from)
	// A service named with a need of its own is in the domain even when the
	// name alone is not ("lambda" with "over the 250 MB limit"; not "EC2
	// instance" with "lost my key pair").
	// A keyword phrase of the knowledge base ("environment variables")
	// puts a question in the domain, but not one about Lambda or EC2 alone,
	// nor one about a product outside the domain ("NAT gateway data
	// processing costs").
	// So does asking about a container service's feature by its name.
	d.anchored = u.anchored || u.phrase != "" && !(len(u.named) > 0 && ix.weakOnly(u)) && !u.outside || len(u.named) > 0 && u.ownNeeds || ix.asksFeature(u)

	switch {
	// A service named with a need of its own ("lambdas over the 250MB
	// limit for S3 based ones") is still in the domain.
	// So is one asking about a container service's feature by its name
	// ("how do we run a service on managed instances?", with the tool the
	// user deploys it with), unless that name is an outside product's too.
	case u.outside && !ix.ownAnchored(u) && !ix.runs(u) && !(len(u.named) > 0 && u.ownNeeds && ix.requires(u)) && !ix.asksFeature(u):
		d.reason = "names a product outside the domain and nothing about containers or compute"
		return d
	// "the eventbridge rule on s3 isn't triggering" troubleshoots another
	// product, whatever workload it serves.
	case u.outside && u.trouble && !ix.ownAnchored(u) && len(u.wanted()) == 0:
		d.reason = "troubleshoots a product outside the domain"
		return d
	// "lambda function url vs api gateway for a webhook" weighs products
	// outside the domain, whatever the workload.
	case u.weighsOutside && !u.anchored && ix.weakOnly(u):
		d.reason = "weighs products outside the domain against each other"
		return d
	// "NAT gateway data processing jumped, how do I find who uses it?"
	// asks how to work another product, and nothing in it is about
	// containers.
	case u.outside && u.howto && !d.anchored && !u.asks && !u.followup:
		d.reason = "a how-to about a product outside the domain"
		return d
	// "thanks, fargate worked great for us" reports; it asks nothing.
	case u.chatter && !strings.Contains(question, "?") && !u.asks && !u.choice && !u.howto && !u.ability && !u.definition && !u.comparison && len(u.positive()) == 0 && !u.followup:
		d.reason = "reports or reacts, and asks nothing"
		return d
	case u.local && !u.aws:
		d.reason = "about a developer's own machine, not AWS"
		return d
	case u.platform && len(u.named) == 0 && !u.equivalent && !u.moving && !u.followup:
		d.reason = "about another service that runs containers itself (SageMaker, AWS Batch), not a choice among Shipmate's"
		return d
	case u.departing && !ix.wantsAWS(u) && !u.followup:
		d.reason = "about leaving AWS for another provider, not a choice on AWS"
		return d
	case u.cloud && !u.aws && !u.equivalent && !u.followup:
		d.reason = "about another cloud's product, not its AWS counterpart"
		return d
	// A pasted error is troubleshooting, not a choice, unless it is on AWS
	// and the question asks for something ("… docker hub 429, what's the
	// AWS-side fix?"), names a container service with a feature the
	// knowledge base has a phrase for ("eks fargate pods stuck in Pending,
	// no matching fargate profile?"), says what stands for a service
	// ("CannotPullContainerError … 429": a registry), or is about a service the user keeps
	// (decided below: only a document covering the problem answers it).
	case u.trouble && (!u.aws || !ix.runs(u) && !u.asks && !ix.staysOn(u) && !ix.meansService(u) && (u.phrase == "" || len(u.wanted()) == 0 && !u.aws)):
		d.reason = "a generic error with no AWS container decision in it"
		return d
	case u.howto && !u.aws && !u.choice && !u.followup && len(u.positive()) > 0 && !ix.requires(u):
		d.reason = "about Kubernetes in general, not a choice on AWS"
		return d
	case u.howto && ix.inContainer(u):
		d.reason = "a how-to about containers in general, asking nothing of an AWS service"
		return d
	// "python container logs not showing up, stdout buffered" is about
	// the app's own process in any container, how-to or not.
	case ix.lex.process.anywhere(u.words) && ix.inContainer(u):
		d.reason = "about the application's own process in any container, asking nothing of an AWS service"
		return d
	}
	share := 0.0
	if d.total > 0 {
		share = d.covered / d.total
	}
	meets := d.met > 0 && d.violated == 0
	// "Lambda images stop at 10 GB: use ECS on Fargate" answers the
	// question when the best document is that way out.
	if v := u.verdict; v != nil && !v.Can && len(v.Instead) > 0 && containsAll(top.services, v.Instead) {
		meets = true
	}
	// A question that stays on the services it names, quoting a symptom
	// ("the task's public IP times out") or naming only Lambda or EC2 and
	// no container word ("the DynamoDB stream triggers our Lambda twice"),
	// asks how to fix or use what it already runs, not which service to
	// run it on: only a document covering enough of what the question says
	// beyond the services and container words answers that. A symptom's
	// fix may be another service (Docker Hub's rate limit on EKS nodes:
	// ECR); Lambda or EC2 in general is answered only by a document about
	// them that covers most of it, since the knowledge base has them as
	// container platforms.
	weak := !u.anchored && ix.weakOnly(u)
	howto := d.anchored && ix.staysOn(u) && (u.trouble || weak)
	switch {
	case d.anchored && ix.generic(u) && u.outside:
		d.reason = "about a container tool and another product (GitHub Actions, nginx), nothing about AWS"
	case howto:
		need := minShareProblem
		if weak {
			need = minShareGeneric
		}
		// A document meeting a need the symptom expresses ("no space left
		// on device": storage), not only what the workload is ("flask": a
		// web service), answers it too.
		// So does one meeting a size, storage or cost need: of a service
		// named by a weak word, only one a number states ("lambda packages
		// over 500 MB"), which is about the service's limits.
		// So does one that names or describes a feature of what the user
		// runs and meets a need of theirs ("lambda on ec2 instances we
		// pick, steady traffic": Lambda Managed Instances).
		d.confident = (d.problem > 0 && d.problemCovered/d.problem >= need || meets && ix.constrains(u) && (!weak || u.quantified) || meets && namesFeature(u, top)) &&
			(!weak || slices.ContainsFunc(top.services, func(s string) bool { return slices.Contains(u.wanted(), s) }))
		if d.confident {
			d.reason = "about what the user already runs, and the best document covers most of it"
		} else {
			d.reason = "about fixing or using what the user already runs, and the best document covers too little of it"
		}
	case d.anchored && ix.generic(u):
		// "helm upgrade says another operation is in progress": container
		// words alone, nothing about AWS, no requirement and no request for
		// a service. Only a document covering most of what it says beyond
		// the container words answers that.
		d.confident = share >= minShareGeneric && (d.problem == 0 || d.problemCovered/d.problem > minProblemGeneric || share >= minShareGenericAll)
		if d.confident {
			d.reason = "only container words, but the best document covers most of the question"
		} else {
			d.reason = "about containers or Kubernetes in general: nothing AWS, no requirement, and the best document covers too little"
		}
	case d.anchored:
		// A long, chatty message covers a small share even when the best
		// document answers it: enough covered meaning, or a document that
		// meets the question's needs, counts as well.
		// So does one naming a feature the question names or describes
		// ("is App Runner in maintenance mode? stay or move?": ECS Express
		// Mode), when the question asks for a way or a move.
		d.confident = share >= minShareAnchored || d.covered >= minCoveredAnchored || meets && share >= minShareMeets ||
			namesFeature(u, top) && (u.choice || u.moving) && !slices.ContainsFunc(top.services, func(s string) bool { return slices.Contains(u.leaving, s) })
		if d.confident {
			d.reason = "in the domain, and the best document meets or covers enough of the question"
		} else {
			d.reason = "in the domain, but the best document covers too little of the question"
		}
	// "… behind SQS, some models idle for weeks - what compute?" asks for
	// compute for what it describes, and "where a celery worker should
	// live on aws" places it on AWS: a document meeting it answers. An
	// AWS word alone does not, when it names a product outside the domain:
	// "the DynamoDB table throttles every hour" or "the CloudFront
	// certificate for our frontend" asks nothing of a container service.
	case meets && (d.met >= minMetUnanchored && (u.asks || u.howto || u.choice && u.aws || d.metFrom >= minMetUnanchored) || ix.runs(u) && (u.aws || !u.howto || u.asks) && (share >= minShareWorkload || (u.asks || u.aws && !u.chatter && !u.outside) && share >= minShareMeets)):
		// "batch simulations needing 64 vCPUs and 512 GB per job" names no
		// container service but describes a workload the answer fits.
		d.confident = true
		d.reason = "nothing names a container service, but the best document meets its needs"
	default:
		// Nothing anchors it: the best documents must cover nearly all of it
		// and the best must meet a need, or "how do I write a Dockerfile for
		// a go app" would find an answer.
		// The need must be the question's own: "EC2 instance stuck in
		// stopping" names EC2, it does not ask for instances.
		d.confident = len(u.units) >= 3 && share >= minShare && d.total > 0 && d.nearCovered/d.total >= minShareNear && d.met > 0 && u.ownNeeds
		if d.confident {
			d.reason = "nothing specific to containers, but the best documents cover almost all of it"
		} else {
			d.reason = "nothing puts the question in the domain"
		}
	}
	if d.confident {
		d.clarify = ix.clarify(u, ranked, question)
	}
	return d
}

// asksFeature reports whether the question names a feature of a
// container service, in more than one word, in a clause that names no
// outside product, and not only as what the user has: "how do we run a
// service on managed instances?" is about ECS whatever tool deploys it,
// while the blue/green cutover of a Route 53 routing policy is Route 53's.
func (ix *Index) asksFeature(u *understanding) bool {
	lx := ix.lex
	outside := map[int]bool{}
	for _, i := range lx.outside.find(u.words) {
		outside[u.clause[i]] = true
	}
	for _, i := range lx.features.find(u.words) {
		f, n := lx.features.longest(u.words[i:])
		if n > 1 && !outside[u.clause[i]] && !slices.Contains(u.situational, f) {
			return true
		}
	}
	return false
}

// namesFeature reports whether the document names a feature the question
// names or describes.
func namesFeature(u *understanding, d *doc) bool {
	return slices.ContainsFunc(u.features, func(f string) bool { return slices.Contains(d.features, f) })
}

// staysOn reports whether the question keeps the services it names: it
// names some, leaves, doubts and weighs none, and nothing it needs is
// beyond them.
func (ix *Index) staysOn(u *understanding) bool {
	return len(u.wanted()) > 0 && len(u.leaving) == 0 && len(u.doubted) == 0 && len(u.choices) == 0 &&
		!(u.comparison && len(u.named) > 1) && (u.verdict == nil || u.verdict.Can) && !u.followup
}

// weakOnly reports whether every service the question wants is named by a
// weak word ("lambda", "ec2").
func (ix *Index) weakOnly(u *understanding) bool {
	for _, s := range u.wanted() {
		if !ix.weak[s] {
			return false
		}
	}
	return true
}

// wantsAWS reports whether the question wants a service by a name only
// AWS uses ("Fargate", "ECS"), not one it leaves or a word every cloud
// uses ("Kubernetes").
func (ix *Index) wantsAWS(u *understanding) bool {
	for _, un := range u.units {
		if un.service == "" || un.negated || un.implied || slices.Contains(u.leaving, un.service) {
			continue
		}
		if ws := words(un.text); ix.lex.awsOnly(ws) {
			return true
		}
	}
	return false
}

// requires reports whether the question expresses a requirement beyond
// where it runs: a need outside the context facets ("GPUs", "no servers"),
// not only "Kubernetes" from the word "pod".
func (ix *Index) requires(u *understanding) bool {
	for _, n := range u.needs {
		if nd := ix.lex.needs[n.id]; !n.against && nd != nil && !ix.lex.facets[nd.Facet].Context {
			return true
		}
	}
	return false
}

// ownAnchored reports whether the question's own words put it in the
// domain, not only the expansion of a phrase that states a need: "a fully
// managed message queue" reads as serverless compute, but names a queue,
// not a container; "taskDefinition.json" is a container word.
func (ix *Index) ownAnchored(u *understanding) bool {
	for _, un := range u.units {
		if un.anchor && (un.service != "" || ix.anchorTerms(un.own) || len(un.needs) == 0 && len(un.against) == 0) {
			return true
		}
	}
	return false
}

// generic reports whether the question says nothing about AWS: no AWS
// word or service, no request for a service or a counterpart, and no
// requirement beyond where it runs.
func (ix *Index) generic(u *understanding) bool {
	return !u.aws && !u.asks && !u.followup && !ix.requires(u) && !ix.meansService(u)
}

// inContainer reports whether the question works inside containers
// themselves (cues.inside, cues.process) and asks nothing of AWS: no AWS word or service, no request
// for a service, a move or a counterpart, and nothing it needs beyond what
// the workload is ("cron jobs inside a docker container", "heap size for
// a containerized spring boot app").
func (ix *Index) inContainer(u *understanding) bool {
	if !ix.lex.inside.anywhere(u.words) && !ix.lex.process.anywhere(u.words) || u.aws || len(u.named) > 0 || u.asks || u.followup || u.moving || u.equivalent || ix.meansService(u) {
		return false
	}
	for _, n := range u.needs {
		if nd := ix.lex.needs[n.id]; !n.against && nd != nil && !ix.lex.facets[nd.Facet].Context && !ix.lex.facets[nd.Facet].Workload {
			return false
		}
	}
	return true
}

// meansService reports whether a phrase of the question stands for a
// service by the lexicon's meaning ("registry", "docker hub": ECR), not by
// naming it: "restrict who can pull from our registry" is about ECR.
func (ix *Index) meansService(u *understanding) bool {
	for _, un := range u.units {
		if un.means == "" || un.negated {
			continue
		}
		if ix.namesService(un.own) {
			continue
		}
		for _, t := range ix.terms(un.means) {
			if s, ok := ix.ids[t]; ok && !ix.weak[s] {
				return true
			}
		}
	}
	return false
}

// constrains reports whether the question has a need beyond where it runs
// and what it runs: storage, privileges, size, cost.
func (ix *Index) constrains(u *understanding) bool {
	for _, n := range u.needs {
		if nd := ix.lex.needs[n.id]; !n.against && nd != nil {
			if f := ix.lex.facets[nd.Facet]; !f.Context && !f.Workload {
				return true
			}
		}
	}
	return false
}

// runs reports whether the question describes something to run: a need
// in a workload facet ("batch jobs", "GPUs"), not only the name of a
// product outside the domain ("eventbridge scheduler cron expression").
func (ix *Index) runs(u *understanding) bool {
	for _, n := range u.needs {
		if nd := ix.lex.needs[n.id]; !n.against && nd != nil && ix.lex.facets[nd.Facet].Workload && !ix.lex.outside.anywhere(words(n.from)) {
			return true
		}
	}
	return false
}

// clarify asks back when the best answer and a close runner-up differ in
// an exclusive facet the question says nothing about: "Do you need the
// Kubernetes API?" settles EKS against ECS. Close means a score nearly as
// high, or meeting the same needs with a score not far behind.
func (ix *Index) clarify(u *understanding, ranked []candidate, question string) *Clarify {
	if len(ranked) < 2 || u.comparison || len(u.choices) > 0 || u.verdict != nil {
		return nil
	}
	top := ranked[0]
	topMet := ix.matchNeeds(u, top.doc).met
	for _, f := range ix.lex.facetList {
		if !f.Exclusive || len(f.Options) < 2 || f.Ask == "" || u.hasNeedIn(ix.lex, f.ID) || ix.settled(u.wanted(), f.ID) {
			continue
		}
		vt := ix.facetValue(top.doc, f.ID)
		if vt == "" {
			continue
		}
		for _, c := range ranked[1:min(len(ranked), clarifyAmong)] {
			v := ix.facetValue(c.doc, f.ID)
			if v == "" || v == vt {
				continue
			}
			close := c.score >= tieRatio*top.score
			if !close && len(topMet) > 0 && c.score >= sameNeedsRatio*top.score {
				close = containsAll(ix.matchNeeds(u, c.doc).met, topMet)
			}
			if !close {
				break
			}
			cl := &Clarify{Question: f.Ask}
			q := strings.TrimRight(strings.TrimSpace(question), "?!. ")
			for _, o := range f.Options {
				cl.Options = append(cl.Options, ClarifyOption{Label: o.Label, Question: q + " " + o.Adds})
			}
			return cl
		}
	}
	return nil
}

func containsAll(xs, ys []string) bool {
	for _, y := range ys {
		if !slices.Contains(xs, y) {
			return false
		}
	}
	return true
}

// Ties worth asking about: a runner-up among the best clarifyAmong whose
// score is within tieRatio of the best, or within sameNeedsRatio when it
// meets every need the best one meets.
const (
	clarifyAmong   = 3
	tieRatio       = 0.85
	sameNeedsRatio = 0.4
)

// settled reports whether a named service decides facet f by itself
// (naming EKS settles the orchestrator).
func (ix *Index) settled(services []string, f string) bool {
	for _, s := range services {
		d := doc{kind: KindScenario, services: []string{s}}
		if ix.facetValue(&d, f) != "" {
			return true
		}
	}
	return false
}

// facetValue returns the one option of facet f a document's services can
// meet, or "" if they can meet several or none.
func (ix *Index) facetValue(d *doc, f string) string {
	fc := ix.lex.facets[f]
	if fc == nil {
		return ""
	}
	value := ""
	for _, o := range fc.Options {
		if _, lim := ix.lex.cannot(d.services, o.Need); lim != nil {
			continue
		}
		if value != "" {
			return ""
		}
		value = o.Need
	}
	return value
}

// covers reports whether the document contains any term of u.
func (d *doc) covers(u unit) bool {
	for _, t := range u.terms {
		if d.terms[t] {
			return true
		}
	}
	return false
}

// nearHits is how many of the best documents together must cover a question
// that names nothing specific to containers.
const nearHits = 2 * MaxAnswers

// Thresholds for confident, set on the labelled questions (see eval).
var (
	minShareAnchored = 0.3
	// minShareGeneric is the share a question with only container words
	// and nothing about AWS needs.
	minShareGeneric = 0.5
	// minProblemGeneric is the share of what such a question says beyond
	// its container words that the best document must cover, unless it
	// covers minShareGenericAll of the whole question.
	minProblemGeneric  = 0.35
	minShareGenericAll = 0.8
	// minShareProblem is the share of a question quoting a symptom of what
	// the user already runs, container words and services left out, that
	// the best document must cover (minShareGeneric for Lambda or EC2 in
	// general).
	minShareProblem = 0.3
	// minCoveredAnchored is the covered weight (a container term counts 2)
	// that makes a long anchored question answerable whatever its share.
	minCoveredAnchored = 6.0
	// minShareMeets is the share enough for a document meeting the needs.
	minShareMeets = 0.15
	// minMetUnanchored is how many needs a document must meet to answer a
	// question that names no container service or term.
	minMetUnanchored = 2
	// minShareWorkload is the share enough for a document meeting a need
	// of a question that describes a workload to run.
	minShareWorkload = 0.4
	minShare         = 0.55
	minShareNear     = 0.8
)
