package index

import (
	"slices"
	"strings"

	"shipmate/content"
)

// lexicon is content.Lexicon compiled for lookups: every phrase list becomes
// a set of word sequences found by their first word. It is built once, with
// the index, and only read afterwards.
type lexicon struct {
	terms      phrases[meaning] // what a phrase means when it is not negated
	negated    phrases[meaning] // what a phrase means when it is negated
	negators   map[string]bool
	breaks     map[string]bool
	reach      int
	definition [][]string // patterns; "..." stands for any words
	comparison phrases[struct{}]
	aws        map[string]bool
	outside    phrases[struct{}]
	local      phrases[struct{}]
}

// meaning is what a recognised phrase stands for.
type meaning struct {
	means string
	needs []string
}

func compileLexicon(lx *content.Lexicon) *lexicon {
	c := &lexicon{
		negators: set(lx.Negation.Words),
		breaks:   set(lx.Negation.Breaks),
		reach:    lx.Negation.Reach,
		aws:      set(lx.AWS),
	}
	for _, t := range lx.Terms {
		if t.Means != "" || len(t.Needs) > 0 {
			for _, s := range t.Says {
				c.terms.add(s, meaning{t.Means, t.Needs})
			}
		}
		if t.Negated != nil {
			for _, s := range t.Says {
				c.negated.add(s, meaning{t.Negated.Means, t.Negated.Needs})
			}
		}
	}
	for _, d := range lx.Cues.Definition {
		if ws := patternWords(d); len(ws) > 0 {
			c.definition = append(c.definition, ws)
		}
	}
	c.comparison = phraseSet(lx.Cues.Comparison)
	c.outside = phraseSet(lx.Outside.Services)
	c.local = phraseSet(lx.Outside.Local)
	return c
}

func set(ws []string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		for _, x := range words(w) {
			m[x] = true
		}
	}
	return m
}

// phrases is a set of word sequences, looked up by their first word, each
// with a value.
type phrases[V any] struct {
	byFirst map[string][]phrase[V]
}

type phrase[V any] struct {
	words []string
	value V
}

func (ps *phrases[V]) add(text string, value V) {
	ws := words(text)
	if len(ws) == 0 {
		return
	}
	if ps.byFirst == nil {
		ps.byFirst = map[string][]phrase[V]{}
	}
	ps.byFirst[ws[0]] = append(ps.byFirst[ws[0]], phrase[V]{ws, value})
}

// phraseSet makes a set of phrases without values.
func phraseSet(texts []string) phrases[struct{}] {
	var ps phrases[struct{}]
	for _, t := range texts {
		ps.add(t, struct{}{})
	}
	return ps
}

// longest finds the longest phrase at the start of ws and returns its value
// and its length in words, or 0.
func (ps *phrases[V]) longest(ws []string) (V, int) {
	var value V
	n := 0
	if len(ws) == 0 {
		return value, 0
	}
	for _, p := range ps.byFirst[ws[0]] {
		if len(p.words) > n && len(p.words) <= len(ws) && slices.Equal(p.words, ws[:len(p.words)]) {
			value, n = p.value, len(p.words)
		}
	}
	return value, n
}

// anywhere reports whether a phrase of the set occurs in ws.
func (ps *phrases[V]) anywhere(ws []string) bool {
	for i := range ws {
		if _, n := ps.longest(ws[i:]); n > 0 {
			return true
		}
	}
	return false
}

// patternWords splits a pattern into words, keeping "..." as one.
func patternWords(p string) []string {
	var out []string
	for _, f := range strings.Fields(p) {
		if f == "..." {
			out = append(out, f)
			continue
		}
		out = append(out, words(f)...)
	}
	return out
}

// matchPattern reports whether ws starts with pattern, where "..." in the
// pattern matches any run of words (including none).
func matchPattern(pattern, ws []string) bool {
	if len(pattern) == 0 {
		return true
	}
	if pattern[0] == "..." {
		for i := 0; i <= len(ws); i++ {
			if matchPattern(pattern[1:], ws[i:]) {
				return true
			}
		}
		return false
	}
	return len(ws) > 0 && ws[0] == pattern[0] && matchPattern(pattern[1:], ws[1:])
}
