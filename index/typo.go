package index

import (
	"strings"
)

// vocabulary is every word the knowledge base uses, and the domain words
// a typo may be corrected into.
type vocabulary struct {
	freq  map[string]int   // every word, with its frequency
	byLen map[int][]string // correction targets by length
}

// newVocabulary counts the words of lists (texts already split), of texts
// and of targets, and takes the words of targets as the correction
// targets.
func newVocabulary(lists [][]string, texts, targets []string) *vocabulary {
	v := &vocabulary{freq: map[string]int{}, byLen: map[int][]string{}}
	// words are slices of their text: the ones kept are cloned, so the
	// vocabulary does not hold on to every text it was built from.
	count := func(w string) {
		if _, ok := v.freq[w]; !ok {
			w = strings.Clone(w)
		}
		v.freq[w]++
	}
	for _, ws := range lists {
		for _, w := range ws {
			count(w)
		}
	}
	for _, t := range texts {
		for _, w := range words(t) {
			count(w)
		}
	}
	seen := map[string]bool{}
	for _, t := range targets {
		for _, w := range words(t) {
			count(w)
			if !seen[w] {
				w = strings.Clone(w)
				seen[w] = true
				v.byLen[len(w)] = append(v.byLen[len(w)], w)
			}
		}
	}
	return v
}

// correct returns the knowledge-base word w was probably meant to be. Only
// ordinary words are corrected: short words and words with digits (acronyms
// such as "ecs", "ec2", "p4") are never changed, so "ECS" cannot turn into
// "EKS".
func (v *vocabulary) correct(w string) (string, bool) {
	if len(w) < 5 || v.freq[w] > 0 || strings.ContainsAny(w, "0123456789") {
		return w, false
	}
	maxDist := 1
	if len(w) >= 10 { // "spinning" is two edits from "scanning": too close to call
		maxDist = 2
	}
	best, bestDist, bestFreq := "", maxDist+1, 0
	for l := len(w) - maxDist; l <= len(w)+maxDist; l++ {
		for _, c := range v.byLen[l] {
			if c[0] != w[0] {
				continue
			}
			d := distance(w, c, maxDist)
			if d > maxDist {
				continue
			}
			if d < bestDist || (d == bestDist && v.freq[c] > bestFreq) {
				best, bestDist, bestFreq = c, d, v.freq[c]
			}
		}
	}
	if best == "" {
		return w, false
	}
	return best, true
}

// distance is the optimal-string-alignment distance between a and b (an
// adjacent transposition counts as one edit), or max+1 once it exceeds max.
func distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
