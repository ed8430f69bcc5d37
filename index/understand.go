package index

import (
	"strings"
)

// unit is one meaningful part of a question: a word, or a phrase that the
// lexicon recognised. Confidence is judged per unit, so a phrase such as
// "without managing servers" counts once, not three times.
type unit struct {
	text    string   // the words as the user wrote them (after correction)
	own     []string // analyzed terms of the words themselves
	terms   []string // analyzed terms it stands for: own plus the expansion
	means   string   // the expansion added to the search, if any
	synonym bool     // recognised through the lexicon's terms
	fixed   bool     // a typo was corrected
	negated bool     // "no servers", "don't want to manage instances"
	anchor  bool     // puts the question in the domain: a service or a container term
}

// weight is how much a unit counts when judging how much of a question a
// document covers: the words that make it a container question count double.
func (u unit) weight() float64 {
	if u.anchor {
		return 2
	}
	return 1
}

// understanding is the second stage's result: what the question asks.
type understanding struct {
	words []string // the question's words after typo correction
	units []unit
	// named are the services the question names itself (not through a
	// lexicon expansion and not negated), in order.
	named []string
	// onlyNames is set when every unit names a service ("fargate?"): the
	// question asks for the service itself.
	onlyNames bool
	// definition is set for "what is …", "explain …": a concept note
	// answers those better than a "which service" scenario.
	definition bool
	// comparison is set for "x vs y", "x or y", "difference between".
	comparison bool
	// outside is set when the question names something Shipmate does not
	// cover (S3, RDS, Route 53…).
	outside bool
	// local is set when the question is about a developer's own machine
	// ("docker desktop on my mac").
	local bool
	// aws is set when the question says AWS: "built locally, where do I
	// push it so AWS can run it?" is about AWS after all.
	aws bool
	// anchored is set when a unit puts the question in the domain.
	anchored bool
	// phrase is set when the question uses one of the knowledge base's
	// keyword phrases ("capacity provider").
	phrase bool
}

// terms returns the distinct analyzed terms of the question, expansions
// included, in order of first appearance.
func (u *understanding) terms() []string {
	var out []string
	seen := map[string]bool{}
	for _, un := range u.units {
		for _, t := range un.terms {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// searchText is the question's words plus the lexicon's expansions, as the
// search sees them.
func (u *understanding) searchText() string {
	parts := []string{strings.Join(u.words, " ")}
	for _, un := range u.units {
		if un.means != "" {
			parts = append(parts, un.means)
		}
	}
	return strings.Join(parts, " ")
}

// understand corrects typos, recognises the lexicon's phrases and splits
// the question into units of meaning.
func (ix *Index) understand(n normalized) understanding {
	lx := ix.lex
	ws := append([]string(nil), n.words...)
	var u understanding
	// Outside phrases are matched on the words as typed: "systemd" must not
	// be read as a typo for "system" first.
	u.outside = lx.outside.anywhere(ws)
	u.local = lx.local.anywhere(ws)
	for _, w := range ws {
		u.aws = u.aws || lx.aws[w]
	}
	fixed := make([]bool, len(ws))
	for i, w := range ws {
		if ix.knownWord(w) {
			continue // "moved" is "move", no typo
		}
		if c, ok := ix.vocab.correct(w); ok {
			ws[i], fixed[i] = c, true
		}
	}
	negated := lx.negations(ws)
	u.words = ws
	u.definition = lx.isDefinition(ws)
	u.comparison = lx.comparison.anywhere(ws)
	for i := 0; i < len(ws); {
		if negated[i] {
			if m, n := lx.negated.longest(ws[i : i+1]); n > 0 {
				un := unit{text: ws[i], own: ix.wordTerms(ws[i]), means: m.means, synonym: true, fixed: fixed[i], negated: true}
				un.terms = ix.terms(m.means)
				u.add(ix, un)
				i++
				continue
			}
		}
		if m, n := lx.terms.longest(ws[i:]); n > 0 {
			phrase := strings.Join(ws[i:i+n], " ")
			un := unit{text: phrase, own: ix.terms(phrase), means: m.means, synonym: true, fixed: anyTrue(fixed[i : i+n])}
			un.terms = append(append([]string(nil), un.own...), ix.terms(m.means)...)
			// "no k8s" still searches for Kubernetes but does not ask for EKS.
			un.negated = negated[i] && ix.namesService(un.own)
			u.add(ix, un)
			i += n
			continue
		}
		if isNumber(ws[i]) { // "40 microservices", "2 yrs": the number says nothing
			i++
			continue
		}
		if own := ix.wordTerms(ws[i]); len(own) > 0 {
			un := unit{text: ws[i], own: own, terms: own, fixed: fixed[i], negated: negated[i] && ix.namesService(own)}
			u.add(ix, un)
		}
		i++
	}
	u.onlyNames = len(u.units) > 0
	for _, un := range u.units {
		if len(un.own) == 0 || !ix.namesService(un.own) || !allNames(ix, un.own) {
			u.onlyNames = false
		}
	}
	u.phrase = ix.hasPhrase(u.units)
	return u
}

// add appends a unit and records what it says about the question.
func (u *understanding) add(ix *Index, un unit) {
	un.anchor = ix.anchoring(un)
	u.anchored = u.anchored || un.anchor
	if !un.negated {
		for _, t := range un.own {
			if s, ok := ix.names[t]; ok && !contains(u.named, s) {
				u.named = append(u.named, s)
			}
		}
	}
	u.units = append(u.units, un)
}

func allNames(ix *Index, ts []string) bool {
	for _, t := range ts {
		if _, ok := ix.names[t]; !ok {
			return false
		}
	}
	return true
}

// hasPhrase reports whether the units use a keyword phrase of the
// knowledge base, such as "capacity provider".
func (ix *Index) hasPhrase(units []unit) bool {
	var prev string
	for _, un := range units {
		if un.fixed || un.negated {
			prev = ""
			continue
		}
		for _, t := range un.own {
			if prev != "" && ix.phrases[[2]string{prev, t}] {
				return true
			}
			prev = t
		}
	}
	return false
}

// isDefinition reports questions asking what something is or how it works.
func (lx *lexicon) isDefinition(ws []string) bool {
	for _, p := range lx.definition {
		if matchPattern(p, ws) {
			return true
		}
	}
	return false
}

// negations marks the words a negating word covers: the words after it, up
// to the lexicon's reach or a clause break.
func (lx *lexicon) negations(ws []string) []bool {
	out := make([]bool, len(ws))
	reach := 0
	for i, w := range ws {
		switch {
		case lx.negators[w]:
			reach = lx.reach
			continue
		case lx.breaks[w]:
			reach = 0
			continue
		}
		if reach > 0 {
			out[i] = true
			reach--
		}
	}
	return out
}

// knownWord reports whether w, once analyzed, is a term of the knowledge
// base or carries no meaning at all (a stop word).
func (ix *Index) knownWord(w string) bool {
	for _, t := range ix.wordTerms(w) {
		if !ix.known[t] {
			return false
		}
	}
	return true
}

// namesService reports whether analyzed terms name a service ("k8s", "fargate").
func (ix *Index) namesService(ts []string) bool {
	for _, t := range ts {
		if _, ok := ix.names[t]; ok {
			return true
		}
	}
	return false
}

// anchoring reports whether u puts a question in the domain. A corrected
// typo anchors only if it is long: "contaners" surely meant containers,
// "lunch" never meant launch.
func (ix *Index) anchoring(u unit) bool {
	if u.fixed && len(u.text) < minAnchorTypoLen {
		return false
	}
	for _, t := range u.terms {
		if ix.anchors[t] {
			return true
		}
	}
	return false
}

// minAnchorTypoLen is how long a corrected word must be to put a question in
// the domain.
const minAnchorTypoLen = 7

func isNumber(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
