package index

import (
	"cmp"
	"slices"
)

// rank is the fourth stage: it orders the candidates by what the question
// asks for, not only by text relevance. Each change to a score is recorded
// as a factor, so Explain shows why a document moved.
func (ix *Index) rank(u *understanding, cands []candidate) []candidate {
	ranked := make([]candidate, len(cands))
	copy(ranked, cands)
	for i := range ranked {
		c := &ranked[i]
		c.factors = nil
		c.score = c.text
		if u.definition && c.doc.kind == KindNote {
			c.apply("definition prefers notes", 1+definitionBoost)
		}
		// Documents about the services the question names come first, so
		// "fargate or the ec2 launch type?" prefers what covers both.
		if len(u.named) > 0 {
			n := 0
			for _, s := range u.named {
				if slices.Contains(c.doc.services, s) {
					n++
				}
			}
			if n > 0 {
				c.apply("covers named services", 1+namedBoost*float64(n)/float64(len(u.named)))
			}
			if u.comparison && len(u.named) > 1 && n == len(u.named) {
				c.apply("comparison covers all named", 1+comparisonBoost)
			}
		}
		// A question that is only a service's name ("fargate?") asks for the
		// service itself: its overview note.
		if len(u.named) == 1 && u.onlyNames && c.doc.kind == KindNote {
			if s := ix.base.Service(u.named[0]); s != nil && c.doc.cid == s.Note {
				c.apply("overview of the named service", 1+overviewBoost)
			}
		}
	}
	slices.SortStableFunc(ranked, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	return ranked
}

func (c *candidate) apply(why string, x float64) {
	c.score *= x
	c.factors = append(c.factors, factor{why, x})
}

// Ranking boosts, set on the labelled questions (see eval).
const (
	// definitionBoost favours concept notes for "what is …" questions.
	definitionBoost = 0.3
	// namedBoost is how much more a document covering every named service scores.
	namedBoost = 0.75
	// comparisonBoost favours, for a comparison, documents covering every
	// service it names.
	comparisonBoost = 0.5
	// overviewBoost lifts a service's overview note when the question only
	// names the service.
	overviewBoost = 2.0
)
