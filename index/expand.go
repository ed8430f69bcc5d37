package index

import (
	"slices"
	"strings"
)

// phrases is a set of word sequences, looked up by their first word, each
// with a value (for synonyms, what the phrase means).
type phrases struct {
	byFirst map[string][]phrase
}

type phrase struct {
	words []string
	value string
}

func (ps *phrases) add(text, value string) {
	ws := words(text)
	if len(ws) == 0 {
		return
	}
	if ps.byFirst == nil {
		ps.byFirst = map[string][]phrase{}
	}
	ps.byFirst[ws[0]] = append(ps.byFirst[ws[0]], phrase{ws, value})
}

// longest finds the longest phrase at the start of ws and returns its value
// and its length in words, or 0.
func (ps *phrases) longest(ws []string) (string, int) {
	if len(ws) == 0 {
		return "", 0
	}
	value, n := "", 0
	for _, p := range ps.byFirst[ws[0]] {
		if len(p.words) > n && len(p.words) <= len(ws) && slices.Equal(p.words, ws[:len(p.words)]) {
			value, n = p.value, len(p.words)
		}
	}
	return value, n
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

// prepared is a question ready to search.
type prepared struct {
	text  string // original words plus expansions, for the query
	units []unit
	// definition is set for "what is …", "explain …": a concept note
	// answers those better than a "which service" scenario.
	definition bool
	// comparison is set for "x vs y", "x or y", "difference between".
	comparison bool
	// outside is set when the question names something Shipmate does not
	// cover (S3, RDS, Route 53…; content/outside.yaml).
	outside bool
	// local is set when the question is about a developer's own machine
	// ("docker desktop on my mac").
	local bool
	// aws is set when the question says AWS: "built locally, where do I
	// push it so AWS can run it?" is about AWS after all.
	aws bool
}

// prepare corrects typos, expands synonyms and splits the question into
// units of meaning.
func (ix *Index) prepare(question string) prepared {
	ws := words(Normalize(question))
	if len(ws) > maxWords {
		ws = ws[:maxWords]
	}
	var p prepared
	// Outside phrases are matched on the words as typed: "systemd" must not
	// be read as a typo for "system" first.
	for i := range ws {
		if _, n := ix.outside.longest(ws[i:]); n > 0 {
			p.outside = true
		}
		if _, n := ix.local.longest(ws[i:]); n > 0 {
			p.local = true
		}
		if ws[i] == "aws" || ws[i] == "amazon" {
			p.aws = true
		}
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
	negated := negations(ws)
	p.definition = isDefinition(ws)
	p.comparison = isComparison(ws)
	var extra []string
	for i := 0; i < len(ws); {
		if negated[i] && infraWords[ws[i]] {
			u := unit{text: ws[i], terms: ix.terms(noServers), synonym: true, fixed: fixed[i], negated: true}
			u.anchor = ix.anchoring(u)
			p.units = append(p.units, u)
			extra = append(extra, noServers)
			i++
			continue
		}
		if means, n := ix.synonyms.longest(ws[i:]); n > 0 {
			phrase := strings.Join(ws[i:i+n], " ")
			terms := ix.terms(phrase + " " + means)
			// "no k8s" still searches for Kubernetes but does not ask for EKS.
			u := unit{text: phrase, terms: terms, synonym: true, fixed: anyTrue(fixed[i : i+n]), negated: negated[i] && ix.namesService(phrase)}
			u.anchor = ix.anchoring(u)
			p.units = append(p.units, u)
			extra = append(extra, means)
			i += n
			continue
		}
		if isNumber(ws[i]) { // "40 microservices", "2 yrs": the number says nothing
			i++
			continue
		}
		if terms := ix.terms(ws[i]); len(terms) > 0 {
			u := unit{text: ws[i], terms: terms, fixed: fixed[i], negated: negated[i] && ix.namesService(ws[i])}
			u.anchor = ix.anchoring(u)
			p.units = append(p.units, u)
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
	"nobody": true, "noone": true, "hate": true,
	"stop": true, "avoid": true, "zero": true, "nor": true, "less": true, "tired": true,
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

// knownWord reports whether w, once analyzed, is a term of the knowledge
// base or carries no meaning at all (a stop word).
func (ix *Index) knownWord(w string) bool {
	ts := ix.terms(w)
	for _, t := range ts {
		if !ix.known[t] {
			return false
		}
	}
	return true
}

// namesService reports whether text names a service ("k8s", "fargate").
func (ix *Index) namesService(text string) bool {
	for _, t := range ix.terms(text) {
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

func isNumber(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
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
