package index

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"shipmate/content"
)

// match is how a candidate meets the question's needs.
type match struct {
	met      []string // needs its scenario says it satisfies
	violated []string // needs one of its services cannot meet ("need:service")
	against  []string // needs the user does not want that it is built on
}

// rank is the fourth stage: it orders the candidates by what the question
// asks for, not only by text relevance. Each change to a score is recorded
// as a factor, so Explain shows why a document moved.
func (ix *Index) rank(u *understanding, cands []candidate) []candidate {
	wanted := u.wanted()
	if u.verdict != nil && !u.verdict.Can {
		// "can App Runner do websockets?" — no: App Runner is where the
		// user cannot go.
		wanted = slices.DeleteFunc(slices.Clone(wanted), func(s string) bool { return s == u.verdict.Service })
	}
	positive := u.positive()
	// Weighing "kubernetes or ECS on Fargate?" is weighing the
	// orchestrators; Fargate comes with either.
	alts := wanted
	var top []string
	for _, s := range wanted {
		if runsWorkload(ix.lex.role(s)) {
			top = append(top, s)
		}
	}
	if len(top) > 1 && u.subject == "" {
		alts = top
	}
	// "EKS or ECS? we have no Kubernetes experience" is settled by what
	// the user says of themselves: a recommendation answers it, not the
	// comparison.
	decided := ix.decides(u, alts)
	// "our ECS tasks on Fargate can't reach the internet, what do I
	// need?" troubleshoots the platform the user runs: another platform is
	// no answer to it, unless it cannot meet what the user needs ("helm
	// install fails against our ECS cluster"). So does asking for the
	// options on it ("what are the options for fargate pod logs"), but
	// not asking whether it is one ("is app runner still an option?").
	var runs []string
	if (u.howto || u.trouble || u.asks && !u.ability) && !u.comparison && ix.staysOn(u) && !slices.ContainsFunc(positive, func(n string) bool {
		_, lim := ix.lex.cannot(wanted, n)
		return lim != nil
	}) {
		runs = slices.DeleteFunc(slices.Clone(wanted), func(s string) bool { return !runsOn(ix.lex.role(s)) })
	}
	// "we run ECS Anywhere boxes, can they run GPU workloads?": when some
	// document meets what the asking clause needs, one naming a feature the
	// user only has, meeting none of it, gives way to it.
	aside := func(d *doc) bool { return false }
	if u.askedNeed && len(u.situational) > 0 && len(positive) > 0 {
		names := func(d *doc) bool {
			return slices.ContainsFunc(u.situational, func(f string) bool { return slices.Contains(d.features, f) })
		}
		if slices.ContainsFunc(cands, func(c candidate) bool {
			m := ix.matchNeeds(u, c.doc)
			return len(m.met) > 0 && len(m.violated) == 0
		}) {
			aside = func(d *doc) bool { return names(d) && len(ix.matchNeeds(u, d).met) == 0 }
		}
	}
	ranked := make([]candidate, len(cands))
	copy(ranked, cands)
	for i := range ranked {
		c := &ranked[i]
		c.factors = nil
		c.score = c.text
		d := c.doc
		if u.definition && d.kind == KindNote {
			c.apply("definition prefers notes", 1+definitionBoost)
		}
		// Documents about the services the question names come first, so
		// "fargate or the ec2 launch type?" prefers what covers both.
		if len(wanted) > 0 {
			n := 0
			for _, s := range wanted {
				if slices.Contains(d.services, s) {
					n++
				}
			}
			if n > 0 {
				c.apply("covers named services", 1+namedBoost*float64(n)/float64(len(wanted)))
			}
			// A comparison is answered by a document about the services
			// compared, not one about something they share.
			// "can I use Fargate with EKS or only ECS?" is about Fargate.
			about := alts
			if u.subject != "" {
				about = []string{u.subject}
			}
			if u.comparison && !decided && len(alts) > 1 && containsAll(d.services, alts) && len(d.services) > 0 && slices.Contains(about, d.services[0]) {
				c.apply("comparison covers all named", 1+comparisonBoost)
			}
		}
		// A question that is only a service's name ("fargate?") asks for the
		// service itself: its overview note.
		if len(u.named) == 1 && u.onlyNames && d.kind == KindNote {
			if s := ix.base.Service(u.named[0]); s != nil && d.cid == s.Note {
				c.apply("overview of the named service", 1+overviewBoost)
			}
		}
		// "is Pod Identity supported on Fargate?" is answered by what says
		// Pod Identity, not by another EKS-on-Fargate document.
		// A document about the feature the question describes ("EKS
		// Hybrid Nodes" for "can our own servers join the EKS cluster?")
		// answers it more exactly than a broader one of the same service
		// that meets a generic need or shares more words: the feature says
		// which way, the need only what. A feature many scenarios are
		// about ("managed node groups") chooses none of them, and one the
		// user only says they have, while asking about something else,
		// is not what they ask about.
		// Nor, when the question asks for a need or another feature of its
		// own, does naming it count at all.
		if len(u.features) > 0 {
			n, about := 0, 0
			asksOther := u.askedNeed || len(u.situational) < len(u.features)
			for _, f := range u.features {
				if slices.Contains(d.features, f) && !(asksOther && slices.Contains(u.situational, f)) {
					n++
				}
				if slices.Contains(d.about, f) && ix.heads[f] <= specificHeads && !slices.Contains(u.situational, f) {
					about++
				}
			}
			if about > 0 {
				c.apply("names "+strings.Join(u.features, ", ")+", what it is about", 1+featureAboutBoost*float64(about)/float64(len(u.features)))
			} else if n > 0 {
				c.apply("names "+strings.Join(u.features, ", "), 1+featureBoost*float64(n)/float64(len(u.features)))
			}
		}
		if aside(d) {
			c.apply("names what the user only has, not what they ask for", asideFactor)
		}
		if len(runs) > 0 && ix.otherPlatform(runs, d.primary()) {
			c.apply("recommends another platform than "+strings.Join(runs, ", ")+", which the user runs", otherPlatformFactor)
		}
		m := ix.matchNeeds(u, d)
		// "what is Fargate Spot?" names its topic, not a requirement.
		// What a service the user wants replaced meets is beside the point.
		replaced := slices.ContainsFunc(d.primary(), func(s string) bool {
			return slices.Contains(u.rejected, s) && !ix.keeps(s, m.met)
		})
		if len(m.met) > 0 && len(positive) > 0 && !u.definition && !replaced {
			c.apply("meets "+strings.Join(m.met, ", "), needFactor(len(m.met), len(positive)))
		}
		if len(m.violated) > 0 {
			c.apply("cannot meet "+strings.Join(m.violated, ", "), violationFactor)
		}
		if len(m.against) > 0 {
			c.apply("built on what the user does not want: "+strings.Join(m.against, ", "), againstFactor)
		}
		// "thinking ECS fargate first and EKS later": what the user is
		// heading for comes before where they are.
		if len(u.target) > 0 && !slices.ContainsFunc(d.primary(), func(s string) bool { return slices.Contains(u.target, s) }) {
			c.apply("recommends none of "+strings.Join(u.target, ", ")+", which the user is heading for", notTargetFactor)
		}
		for _, s := range u.leaving {
			if !slices.Contains(d.primary(), s) {
				continue
			}
			// "fargate can't do it": what the user reports failing them is
			// ruled out as a hard constraint is, unless they ask whether it
			// can after all ("won't start on EKS fargate … can EKS fargate
			// pods get 150GB?").
			if slices.Contains(u.failing, s) && !u.ability {
				c.apply("recommends "+s+", which the user says fails them", violationFactor)
				break
			}
			// "can EKS fargate pods get 150GB?" asks about the service it
			// says fails; an answer about it is what the user asked for.
			if slices.Contains(u.rejected, s) && !ix.keeps(s, m.met) {
				c.apply("recommends "+s+", which the user wants replaced", violationFactor)
				break
			}
			if !ix.keeps(s, m.met) && !(u.ability && u.subject == s && slices.Contains(u.failing, s)) {
				c.apply("recommends "+s+", which the user is leaving", leavingFactor)
				break
			}
		}
		// "No: Lambda images stop at 10 GB; use ECS on Fargate": what to use
		// instead comes first.
		if v := u.verdict; v != nil && !v.Can && len(v.Instead) > 0 {
			switch {
			case containsAll(d.services, v.Instead):
				c.apply("recommends what to use instead of "+v.Service, 1+insteadBoost)
			case !slices.ContainsFunc(d.primary(), func(s string) bool { return slices.Contains(v.Instead, s) }):
				c.apply("does not recommend the way out of "+v.Service+"'s limit", noWayOutFactor)
			}
		}
		if len(u.choices) > 0 {
			if out := ix.outsideChoices(u.choices, d); out != "" {
				c.apply("recommends "+out+", which is not among the choices", choiceFactor)
			}
		}
	}
	slices.SortStableFunc(ranked, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	return ranked
}

// otherPlatform reports whether a document recommends somewhere else to
// run than the services the user runs: none of them, or another service in
// the role of one of them (EC2 nodes for pods on EKS Fargate).
func (ix *Index) otherPlatform(runs, primary []string) bool {
	if !slices.ContainsFunc(primary, func(s string) bool { return runsOn(ix.lex.role(s)) }) {
		return false
	}
	if !slices.ContainsFunc(primary, func(s string) bool { return slices.Contains(runs, s) }) {
		return true
	}
	return slices.ContainsFunc(primary, func(s string) bool {
		return runsOn(ix.lex.role(s)) && !slices.Contains(runs, s) &&
			slices.ContainsFunc(runs, func(r string) bool { return ix.lex.role(r) == ix.lex.role(s) })
	})
}

// decides reports whether the question's needs choose among services: it
// has a need of an exclusive facet (Kubernetes or not) on which they
// differ.
func (ix *Index) decides(u *understanding, services []string) bool {
	for _, f := range ix.lex.facetList {
		if !f.Exclusive || !u.hasNeedIn(ix.lex, f.ID) {
			continue
		}
		values := map[string]bool{}
		for _, s := range services {
			values[ix.facetValue(&doc{kind: KindScenario, services: []string{s}}, f.ID)] = true
		}
		if len(values) > 1 {
			return true
		}
	}
	return false
}

// runsOn reports whether a service of the role is where a workload runs:
// it runs it itself or is the compute under it (Fargate, EC2).
func runsOn(role string) bool {
	return runsWorkload(role) || role == content.RoleCompute
}

// runsWorkload reports whether a service of the role runs the workload
// itself (an orchestrator or a platform), rather than being compute that
// comes with either or a registry.
func runsWorkload(role string) bool {
	return role == content.RoleOrchestrator || role == content.RolePlatform
}

// keeps reports whether a document recommending a service the user is
// leaving still meets a need of theirs that the service can meet: "cheaper
// than Fargate" is answered by Fargate Spot.
func (ix *Index) keeps(service string, met []string) bool {
	for _, n := range met {
		if nd := ix.lex.needs[n]; nd != nil && ix.lex.facets[nd.Facet].Variant && ix.lex.can(service, n) {
			return true
		}
	}
	return false
}

// primary returns the services a document recommends: a scenario's, or a
// note's first (notes list every service they mention).
func (d *doc) primary() []string {
	if d.kind == KindScenario || len(d.services) == 0 {
		return d.services
	}
	return d.services[:1]
}

// matchNeeds compares a document with the question's needs: the ones its
// scenario says it satisfies, the ones a service it recommends cannot meet
// (a hard constraint), and the ones the user does not want that it is built
// on.
func (ix *Index) matchNeeds(u *understanding, d *doc) match {
	var m match
	var satisfies []string
	if d.scenario != nil {
		satisfies = d.scenario.Satisfies
	}
	for _, n := range u.needs {
		switch {
		case n.against:
			if slices.Contains(satisfies, n.id) || ix.builtOn(d, n.id) {
				m.against = append(m.against, n.id)
			}
		case slices.Contains(satisfies, n.id) && n.service != "" && !slices.Contains(d.services, n.service):
			// "fargate spot" asks for Spot on Fargate, not EC2 Spot.
		case slices.Contains(satisfies, n.id):
			// A context need ("Kubernetes", from "EKS nodes") says where
			// the user runs things; it rules answers out but does not
			// make one a better answer.
			if !ix.lex.facets[ix.lex.needs[n.id].Facet].Context {
				m.met = append(m.met, n.id)
			}
		default:
			if s, lim := ix.lex.cannot(d.primary(), n.id); lim != nil {
				m.violated = append(m.violated, fmt.Sprintf("%s (%s)", n.id, s))
			}
		}
	}
	return m
}

// builtOn reports whether a document recommends a service that is one
// alternative of an exclusive facet's need: "no Kubernetes experts" counts
// against an EKS answer.
func (ix *Index) builtOn(d *doc, need string) bool {
	nd := ix.lex.needs[need]
	if nd == nil || ix.lex.facets[nd.Facet] == nil || !ix.lex.facets[nd.Facet].Exclusive {
		return false
	}
	for _, s := range d.primary() {
		if runsWorkload(ix.lex.role(s)) && ix.lex.can(s, need) {
			return true
		}
	}
	return false
}

// outsideChoices returns a service the document recommends in the role of
// one of the choices that is not among them ("EKS" when the user picks
// among App Runner and ECS), or "" when it stays within them.
func (ix *Index) outsideChoices(choices []string, d *doc) string {
	roles := map[string]bool{}
	for _, s := range choices {
		roles[ix.lex.role(s)] = true
	}
	in := false
	for _, s := range d.primary() {
		if slices.Contains(choices, s) {
			in = true
			continue
		}
		if runsWorkload(ix.lex.role(s)) {
			return s
		}
	}
	if !in && len(d.primary()) > 0 {
		return d.primary()[0]
	}
	return ""
}

// needFactor is how much a scenario meeting met of the question's total
// needs gains: in proportion to the share met, and more for each need
// beyond the first, so meeting two needs outweighs matching more words.
func needFactor(met, total int) float64 {
	return (1 + needBoost*float64(met)/float64(total)) * math.Pow(extraNeedBoost, float64(met-1))
}

func (c *candidate) apply(why string, x float64) {
	c.score *= x
	c.factors = append(c.factors, factor{why, x})
}

// Ranking factors, set on the labelled questions (see eval).
const (
	// definitionBoost favours concept notes for "what is …" questions.
	definitionBoost = 0.3
	// namedBoost is how much more a document covering every named service scores.
	namedBoost = 0.75
	// featureBoost favours documents naming the features the question
	// names.
	featureBoost = 0.5
	// featureAboutBoost favours documents whose headline names the
	// features the question names or describes: as much as meeting the
	// one need of a question, more than one need of several, since the
	// feature says which way and a need only what.
	featureAboutBoost = 2.0
	// specificHeads is how many scenarios at most may be about a feature
	// for a question describing it to prefer them.
	specificHeads = 2
	// comparisonBoost favours, for a comparison, documents covering every
	// service it names.
	comparisonBoost = 0.5
	// overviewBoost lifts a service's overview note when the question only
	// names the service.
	overviewBoost = 2.0
	// needBoost is how much more a scenario meeting every need scores, and
	// extraNeedBoost the factor for each need met beyond the first.
	needBoost      = 2.0
	extraNeedBoost = 1.5
	// insteadBoost favours documents recommending what a verdict says to
	// use instead.
	insteadBoost = 1.0
	// violationFactor all but excludes a document recommending a service
	// that cannot meet a need: a hard constraint.
	violationFactor = 0.1
	// againstFactor demotes a document built on what the user does not want.
	againstFactor = 0.4
	// leavingFactor demotes a document recommending the service the user is
	// moving away from, unless it meets one of the needs.
	leavingFactor = 0.35
	// notTargetFactor demotes a document recommending none of the services
	// the user says they are heading for.
	notTargetFactor = 0.5
	// noWayOutFactor demotes a document that recommends none of the
	// services a verdict says to use instead.
	noWayOutFactor = 0.5
	// otherPlatformFactor demotes another platform than the one a how-to
	// or troubleshooting question runs.
	otherPlatformFactor = 0.5
	// asideFactor demotes a document about a feature the user only says
	// they have, when another meets what they ask for.
	asideFactor = 0.5
	// choiceFactor demotes a document outside the services a question
	// chooses among.
	choiceFactor = 0.2
)
