package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"shipmate/content"
)

// Answer is what Shipmate says to a question.
type Answer struct {
	Question string `json:"question"`
	// Confident is false when the question is outside what the knowledge
	// base covers; Answers is then empty.
	Confident bool `json:"confident"`
	// Answers holds the recommendation first, then up to three runners-up.
	Answers []Hit `json:"answers"`
}

// Top returns the recommendation, or nil when there is none.
func (a *Answer) Top() *Hit {
	if !a.Confident || len(a.Answers) == 0 {
		return nil
	}
	return &a.Answers[0]
}

// Hit is one scenario or note that answers a question.
type Hit struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	Services []string `json:"services"`
	Text     string   `json:"text"`
	Score    float64  `json:"score"`

	// Scenario is set for kind "scenario".
	Scenario *content.Scenario `json:"-"`
	// Note is the note itself for kind "note", the related note for a scenario.
	Note *content.Note `json:"-"`
	// Caveats of the recommended services (already part of Text).
	Caveats []string `json:"-"`
}

// Answer answers a question typed by a user. Any text is accepted: markup,
// query syntax and very long input are made safe, and a question outside the
// knowledge base gets an Answer with Confident false rather than a guess.
// The error is non-nil only if ctx ends or the index is closed.
func (ix *Index) Answer(ctx context.Context, question string) (Answer, error) {
	a := Answer{Question: question, Answers: []Hit{}}
	p := ix.prepare(question)
	if len(p.units) == 0 {
		return a, ctx.Err()
	}
	hits, err := ix.search(ctx, p, 2*MaxAnswers)
	if err != nil {
		return a, err
	}
	ix.rerank(p, hits)
	if len(hits) == 0 || !ix.confident(p, hits) {
		return a, nil
	}
	a.Confident = true
	for _, h := range hits {
		if len(a.Answers) == MaxAnswers {
			break
		}
		a.Answers = append(a.Answers, Hit{
			ID: h.doc.cid, Kind: h.doc.kind, Title: h.doc.title,
			Services: slices.Clone(h.doc.services), Text: h.doc.text, Score: h.score,
			Scenario: h.doc.scenario, Note: h.doc.note, Caveats: h.doc.caveats,
		})
	}
	return a, nil
}

// rerank favours documents about the services the question names, so
// "fargate or the ec2 launch type?" prefers what covers both.
func (ix *Index) rerank(p prepared, hits []scored) {
	if p.definition {
		for i := range hits {
			if hits[i].doc.kind == KindNote {
				hits[i].score *= 1 + definitionBoost
			}
		}
	}
	named := ix.named(p)
	for i := range hits {
		if len(named) == 0 {
			break
		}
		n := 0
		for _, s := range named {
			if slices.Contains(hits[i].doc.services, s) {
				n++
			}
		}
		hits[i].score *= 1 + namedBoost*float64(n)/float64(len(named))
		// "fargate or ec2?" wants what covers both, not a pick of one.
		if p.comparison && len(named) > 1 && n == len(named) {
			hits[i].score *= 1 + comparisonBoost
		}
	}
	// A question that is only a service's name ("fargate?") asks for the
	// service itself: its overview note.
	if len(named) == 1 && ix.onlyNames(p) {
		if s := ix.base.Service(named[0]); s != nil {
			for i := range hits {
				if hits[i].doc.kind == KindNote && hits[i].doc.cid == s.Note {
					hits[i].score *= 1 + overviewBoost
				}
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
}

// overviewBoost lifts a service's overview note when the question only
// names the service.
const overviewBoost = 2.0

// onlyNames reports whether every unit of the question names a service.
func (ix *Index) onlyNames(p prepared) bool {
	for _, u := range p.units {
		ts := ix.terms(u.text)
		if len(ts) == 0 {
			return false
		}
		for _, t := range ts {
			if _, ok := ix.names[t]; !ok {
				return false
			}
		}
	}
	return true
}

// definitionBoost favours concept notes for "what is …" questions.
const definitionBoost = 0.3

// comparisonBoost favours, for a comparison, documents covering every
// service it names.
const comparisonBoost = 0.5

// namedBoost is how much more a document covering every named service scores.
const namedBoost = 0.75

// named returns the services the question names itself (not through a
// synonym's expansion), in order.
func (ix *Index) named(p prepared) []string {
	var out []string
	for _, u := range p.units {
		if u.negated {
			continue
		}
		for _, t := range ix.terms(u.text) {
			if s, ok := ix.names[t]; ok && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// confident decides whether the best document really answers the question.
// Raw scores drift between queries, so the decision rests on meaning: how
// many parts of the question the document covers, and whether the question
// is about containers at all.
func (ix *Index) confident(p prepared, hits []scored) bool {
	top := hits[0].doc
	near := hits[:min(len(hits), nearHits)]
	var total, covered, nearCovered float64
	anchored := false
	for _, u := range p.units {
		w := u.weight()
		total += w
		anchored = anchored || u.anchor
		if top.covers(u) {
			covered += w
		}
		for _, h := range near {
			if h.doc.covers(u) {
				nearCovered += w
				break
			}
		}
	}
	if p.outside && !anchored {
		return false // about S3, RDS, Route 53… and nothing about containers
	}
	if p.local && !p.aws && len(ix.named(p)) == 0 {
		return false // Docker on a laptop, not on AWS
	}
	if !anchored && ix.hasPhrase(p) {
		anchored = true
	}
	if anchored {
		// A long, chatty message covers a small share even when the best
		// document answers it: enough covered meaning counts as well.
		return covered/total >= minShareAnchored || covered >= minCoveredAnchored
	}
	return len(p.units) >= 3 && covered/total >= minShare && nearCovered/total >= minShareNear
}

// hasPhrase reports whether the question uses a keyword phrase of the
// knowledge base, such as "capacity provider".
func (ix *Index) hasPhrase(p prepared) bool {
	var prev string
	for _, u := range p.units {
		if u.fixed || u.negated {
			prev = ""
			continue
		}
		ts := ix.terms(u.text)
		for _, t := range ts {
			if prev != "" && ix.phrases[[2]string{prev, t}] {
				return true
			}
			prev = t
		}
	}
	return false
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

// minAnchorTypoLen is how long a corrected word must be to put a question in
// the domain: "contaners" surely meant containers, "lunch" never meant launch.
const minAnchorTypoLen = 7

// nearHits is how many of the best documents together must cover a question
// that names nothing specific to containers.
const nearHits = 2 * MaxAnswers

// Thresholds for confident, set on the labelled questions (see eval).
var (
	minShareAnchored = 0.3
	// minCoveredAnchored is the covered weight (a container term counts 2)
	// that makes a long anchored question answerable whatever its share.
	minCoveredAnchored = 6.0
	minShare           = 0.55
	minShareNear       = 0.8
)

// Explain describes how a question is understood and scored: the units of
// meaning, which the best documents cover, and the confidence decision. It
// is for content editors working out why a question gets the answer it does.
func (ix *Index) Explain(ctx context.Context, question string) (string, error) {
	var b strings.Builder
	p := ix.prepare(question)
	fmt.Fprintf(&b, "normalized: %q\nsearch text: %q\nunits:\n", Normalize(question), p.text)
	for _, u := range p.units {
		var flags []string
		if u.synonym {
			flags = append(flags, "synonym")
		}
		if u.fixed {
			flags = append(flags, "typo-corrected")
		}
		if u.anchor {
			flags = append(flags, "anchor")
		}
		if u.negated {
			flags = append(flags, "negated")
		}
		fmt.Fprintf(&b, "  %-28q terms=%v %s\n", u.text, u.terms, strings.Join(flags, " "))
	}
	if len(p.units) == 0 {
		b.WriteString("nothing to search for\n")
		return b.String(), nil
	}
	hits, err := ix.search(ctx, p, 2*MaxAnswers)
	if err != nil {
		return "", err
	}
	ix.rerank(p, hits)
	fmt.Fprintf(&b, "names: %v outside: %v local: %v definition: %v comparison: %v\n", ix.named(p), p.outside, p.local, p.definition, p.comparison)
	for i, h := range hits {
		var cov []string
		for _, u := range p.units {
			for _, t := range u.terms {
				if h.doc.terms[t] {
					cov = append(cov, u.text)
					break
				}
			}
		}
		fmt.Fprintf(&b, "%d. %s %.3f %v covers %d/%d %v\n", i+1, h.doc.id, h.score, h.doc.services, len(cov), len(p.units), cov)
	}
	if len(hits) > 0 {
		fmt.Fprintf(&b, "confident: %v\n", ix.confident(p, hits))
	}
	return b.String(), nil
}
