package index

import (
	"slices"
	"strings"

	"shipmate/content"
)

// synonym is a compiled content.Synonym: each phrase as a word sequence.
type synonym struct {
	says  [][]string
	means string
}

func newSynonym(s content.Synonym) synonym {
	out := synonym{means: s.Means}
	for _, p := range s.Says {
		if ws := words(p); len(ws) > 0 {
			out.says = append(out.says, ws)
		}
	}
	// Longest phrase first so "no servers to manage" wins over "servers".
	for i := 1; i < len(out.says); i++ {
		for j := i; j > 0 && len(out.says[j]) > len(out.says[j-1]); j-- {
			out.says[j], out.says[j-1] = out.says[j-1], out.says[j]
		}
	}
	if len(out.says) == 0 {
		out.says = [][]string{{}}
	}
	return out
}

// unit is one meaningful part of a question: a word, or a phrase that a
// synonym recognised. Confidence is judged per unit, so a phrase such as
// "without managing servers" counts once, not three times.
type unit struct {
	text    string   // the words as the user wrote them (after correction)
	terms   []string // analyzed terms it stands for, expansion included
	synonym bool     // recognised through synonyms.yaml
	fixed   bool     // a typo was corrected
	negated bool     // "no servers", "don't want to manage instances"
}

// prepared is a question ready to search.
type prepared struct {
	text  string // original words plus expansions, for the query
	units []unit
	// definition is set for "what is …", "explain …": a concept note
	// answers those better than a "which service" scenario.
	definition bool
	// comparison is set for "x vs y", "x or y", "difference between".
	comparison bool
}

// prepare corrects typos, expands synonyms and splits the question into
// units of meaning.
func (ix *Index) prepare(question string) prepared {
	ws := words(Normalize(question))
	if len(ws) > maxWords {
		ws = ws[:maxWords]
	}
	fixed := make([]bool, len(ws))
	for i, w := range ws {
		if c, ok := ix.vocab.correct(w); ok {
			ws[i], fixed[i] = c, true
		}
	}
	negated := negations(ws)
	var p prepared
	p.definition = isDefinition(ws)
	p.comparison = isComparison(ws)
	var extra []string
	for i := 0; i < len(ws); {
		if negated[i] && infraWords[ws[i]] {
			p.units = append(p.units, unit{text: ws[i], terms: ix.terms(noServers), synonym: true, fixed: fixed[i], negated: true})
			extra = append(extra, noServers)
			i++
			continue
		}
		if s, n := ix.matchSynonym(ws[i:]); n > 0 {
			phrase := strings.Join(ws[i:i+n], " ")
			terms := ix.terms(phrase + " " + s.means)
			p.units = append(p.units, unit{text: phrase, terms: terms, synonym: true, fixed: anyTrue(fixed[i : i+n])})
			extra = append(extra, s.means)
			i += n
			continue
		}
		if terms := ix.terms(ws[i]); len(terms) > 0 {
			// "no k8s" still searches for Kubernetes but does not ask for EKS.
			_, service := ix.names[terms[0]]
			p.units = append(p.units, unit{text: ws[i], terms: terms, fixed: fixed[i], negated: negated[i] && service})
		}
		i++
	}
	p.text = strings.Join(ws, " ")
	if len(extra) > 0 {
		p.text += " " + strings.Join(extra, " ")
	}
	return p
}

// terms returns the distinct analyzed terms of the question, expansions
// included, in order of first appearance.
func (p prepared) terms() []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range p.units {
		for _, t := range u.terms {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// isDefinition reports questions asking what something is or how it works.
func isDefinition(ws []string) bool {
	if len(ws) == 0 {
		return false
	}
	switch ws[0] {
	case "explain", "define", "whats", "describe":
		return true
	case "what", "how":
		if len(ws) > 1 && (ws[1] == "is" || ws[1] == "are" || ws[1] == "does" || ws[1] == "do") {
			return ws[0] == "what" || slices.Contains(ws, "work") || slices.Contains(ws, "works")
		}
	}
	return false
}

// isComparison reports questions weighing services against each other.
func isComparison(ws []string) bool {
	for _, w := range ws {
		switch w {
		case "vs", "versus", "or", "difference", "differences", "compare", "comparison", "than", "between":
			return true
		}
	}
	return false
}

// noServers is what "we don't want to manage instances" and its kin mean.
const noServers = "fargate serverless no servers"

// negators start a negation; it reaches negationReach words further.
var negators = map[string]bool{
	"no": true, "not": true, "without": true, "dont": true, "doesnt": true, "never": true,
	"stop": true, "avoid": true, "zero": true, "nor": true, "hate": true, "less": true,
}

const negationReach = 6

// infraWords, when negated, ask for serverless compute.
var infraWords = map[string]bool{
	"server": true, "servers": true, "instance": true, "instances": true, "ec2": true,
	"vm": true, "vms": true, "node": true, "nodes": true, "host": true, "hosts": true,
	"machine": true, "machines": true, "infra": true, "infrastructure": true, "fleet": true,
	"boxes": true, "box": true, "hardware": true,
}

// negations marks the words that follow a negator closely.
func negations(ws []string) []bool {
	out := make([]bool, len(ws))
	reach := 0
	for i, w := range ws {
		if negators[w] {
			reach = negationReach
			continue
		}
		if reach > 0 {
			out[i] = true
			reach--
		}
	}
	return out
}

// maxWords bounds the work done for one question.
const maxWords = 60

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// matchSynonym finds the longest synonym phrase at the start of ws.
func (ix *Index) matchSynonym(ws []string) (synonym, int) {
	best, bestN := synonym{}, 0
	for _, s := range ix.synonyms {
		for _, p := range s.says {
			if len(p) <= bestN || len(p) > len(ws) {
				continue
			}
			match := true
			for k := range p {
				if ws[k] != p[k] {
					match = false
					break
				}
			}
			if match {
				best, bestN = s, len(p)
			}
		}
	}
	return best, bestN
}
