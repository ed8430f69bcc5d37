package index

// decision is the fifth stage's result: whether the best candidate is
// given as an answer, and why.
type decision struct {
	confident bool
	reason    string
	// covered, nearCovered and total are the weights of the question's units
	// that the best candidate, and the best few together, cover.
	covered, nearCovered, total float64
	anchored                    bool
}

// decide is the fifth stage: the domain gate and the confidence decision.
// Raw scores drift between queries, so the decision rests on meaning: how
// much of the question the best documents cover, and whether the question
// is about containers at all.
func (ix *Index) decide(u *understanding, ranked []candidate) decision {
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
		w := un.weight()
		d.total += w
		if top.covers(un) {
			d.covered += w
		}
		for _, c := range near {
			if c.doc.covers(un) {
				d.nearCovered += w
				break
			}
		}
	}
	d.anchored = u.anchored
	switch {
	case u.outside && !u.anchored:
		d.reason = "names a product outside the domain and nothing about containers"
		return d
	case u.local && !u.aws && len(u.named) == 0:
		d.reason = "about a developer's own machine, not AWS"
		return d
	}
	if !d.anchored && u.phrase {
		d.anchored = true
	}
	if d.anchored {
		// A long, chatty message covers a small share even when the best
		// document answers it: enough covered meaning counts as well.
		d.confident = d.covered/d.total >= minShareAnchored || d.covered >= minCoveredAnchored
		if d.confident {
			d.reason = "in the domain, and the best document covers enough of the question"
		} else {
			d.reason = "in the domain, but the best document covers too little of the question"
		}
		return d
	}
	d.confident = len(u.units) >= 3 && d.covered/d.total >= minShare && d.nearCovered/d.total >= minShareNear
	if d.confident {
		d.reason = "nothing specific to containers, but the best documents cover almost all of it"
	} else {
		d.reason = "nothing puts the question in the domain"
	}
	return d
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
	// minCoveredAnchored is the covered weight (a container term counts 2)
	// that makes a long anchored question answerable whatever its share.
	minCoveredAnchored = 6.0
	minShare           = 0.55
	minShareNear       = 0.8
)
