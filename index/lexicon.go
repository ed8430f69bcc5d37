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
	patterns   []pattern        // "libraries ... huge": needs from words in one clause
	quantities []quantity
	beyond     phrases[struct{}]
	periods    phrases[struct{}]
	negators   map[string]bool
	breaks     map[string]bool
	cancel     map[string]bool
	speakers   map[string]bool
	practices  map[string]bool
	lacks      map[string]bool
	amounts    phrases[struct{}]
	places     map[string]bool
	exists     [][]string
	complaints map[string]bool
	reach      int
	definition [][]string // patterns; "..." stands for any words
	reference  [][]string // patterns; "..." stands for a few words
	comparison phrases[struct{}]
	ability    phrases[struct{}]
	doubt      phrases[struct{}]
	leaving    phrases[struct{}]
	leaveNext  phrases[struct{}]
	failing    phrases[struct{}]
	rejecting  phrases[struct{}]
	// rejectingEarlier are rejecting phrases for a service named in an
	// earlier clause only.
	rejectingEarlier phrases[struct{}]
	target           phrases[struct{}]
	arrival          phrases[struct{}]
	unable           phrases[struct{}]
	symptoms         map[string]bool
	spawns           map[string]bool
	workaround       phrases[struct{}]
	wishes           map[string]bool
	followup         phrases[struct{}]
	equivalent       phrases[struct{}]
	likeness         phrases[struct{}]
	newcomer         phrases[struct{}]
	chatter          phrases[struct{}]
	choice           phrases[struct{}]
	choiceWeak       phrases[struct{}]
	howto            phrases[struct{}]
	requests         phrases[struct{}]
	inside           phrases[struct{}]
	process          phrases[struct{}]
	aws              phrases[struct{}]
	awsShared        phrases[struct{}]
	departure        phrases[struct{}]
	outside          phrases[struct{}]
	local            phrases[struct{}]
	clouds           phrases[struct{}]
	platforms        phrases[struct{}]
	trouble          phrases[struct{}]
	errorEnds        []string
	features         phrases[string] // value: the feature's words, joined
	// described are the features' descriptions without "...", valued by
	// the features they describe; describedBy those with it.
	described   phrases[[]string]
	describedBy []description
	needs       map[string]*content.Need
	facets      map[string]*content.Facet
	facetList   []*content.Facet // in lexicon.yaml order
	services    map[string]*capability
	order       []string // service ids in capabilities.yaml order

	// replaces holds, for a feature's words, the needs it takes away.
	replaces map[string][]string
}

// meaning is what a recognised phrase stands for.
type meaning struct {
	means string
	needs []string
	// against is set for a negated phrase without a negated meaning: its
	// needs count against an answer.
	against bool
	// situation is set for a phrase stating what the user has or knows.
	situation bool
}

// quantity is content.Quantity as sets.
type quantity struct {
	units        map[string]bool
	above, below *float64
	with         map[string]bool
	needs        []string
}

// pattern is a phrase with "..." gaps, matched within one clause.
type pattern struct {
	words []string
	needs []string
}

// description is a feature's description with "..." gaps, matched within
// one clause.
type description struct {
	words    []string
	features []string
}

// capability is content.Capability as sets.
type capability struct {
	role   string
	can    map[string]bool
	cannot map[string]*content.Limit
}

// cannot reports whether any of the services cannot meet need, and the
// first such service's limit.
func (lx *lexicon) cannot(services []string, need string) (string, *content.Limit) {
	for _, s := range services {
		if c := lx.services[s]; c != nil && c.cannot[need] != nil {
			return s, c.cannot[need]
		}
	}
	return "", nil
}

// can reports whether a service says it meets need.
func (lx *lexicon) can(service, need string) bool {
	c := lx.services[service]
	return c != nil && c.can[need]
}

// onlyWith reports whether every service that meets need also meets
// other, and some does: only Kubernetes gives portability across clouds.
func (lx *lexicon) onlyWith(need, other string) bool {
	some := false
	for _, s := range lx.order {
		if lx.can(s, need) {
			if !lx.can(s, other) {
				return false
			}
			some = true
		}
	}
	return some
}

// role returns a service's role.
func (lx *lexicon) role(service string) string {
	if c := lx.services[service]; c != nil {
		return c.role
	}
	return ""
}

func compileLexicon(lx *content.Lexicon, caps []content.Capability) *lexicon {
	c := &lexicon{
		negators:   set(lx.Negation.Words),
		breaks:     set(lx.Negation.Breaks),
		cancel:     set(lx.Negation.Cancel),
		speakers:   set(lx.Negation.Speakers),
		lacks:      set(lx.Negation.Lacks),
		practices:  set(lx.Negation.Practices),
		amounts:    phraseSet(lx.Negation.Amounts),
		places:     set(lx.Negation.Places),
		exists:     phraseWords(lx.Negation.Existential),
		complaints: set(lx.Negation.Complaints),
		reach:      lx.Negation.Reach,
		needs:      map[string]*content.Need{},
		facets:     map[string]*content.Facet{},
		services:   map[string]*capability{},
	}
	for _, t := range lx.Terms {
		for _, s := range t.Says {
			if ws := patternWords(s); slices.Contains(ws, "...") {
				c.patterns = append(c.patterns, pattern{ws, t.Needs})
				continue
			}
			if t.Means != "" || len(t.Needs) > 0 {
				c.terms.add(s, meaning{means: t.Means, needs: t.Needs, situation: t.Situation})
			}
			if t.Negated != nil {
				c.negated.add(s, meaning{means: t.Negated.Means, needs: t.Negated.Needs, situation: t.Situation})
			} else if len(t.Needs) > 0 {
				c.negated.add(s, meaning{means: t.Means, needs: t.Needs, against: true, situation: t.Situation})
			}
		}
	}
	for i := range lx.Needs {
		c.needs[lx.Needs[i].ID] = &lx.Needs[i]
	}
	for _, q := range lx.Quantities {
		c.quantities = append(c.quantities, quantity{units: set(q.Units), above: q.Above, below: q.Below, with: set(q.With), needs: q.Needs})
	}
	for i := range lx.Facets {
		c.facets[lx.Facets[i].ID] = &lx.Facets[i]
		c.facetList = append(c.facetList, &lx.Facets[i])
	}
	for _, cp := range caps {
		k := &capability{role: cp.Role, can: map[string]bool{}, cannot: map[string]*content.Limit{}}
		for _, n := range cp.Can {
			k.can[n] = true
		}
		for i := range cp.Cannot {
			k.cannot[cp.Cannot[i].Need] = &cp.Cannot[i]
		}
		c.services[cp.Service] = k
		c.order = append(c.order, cp.Service)
	}
	for _, d := range lx.Cues.Definition {
		if ws := patternWords(d); len(ws) > 0 {
			c.definition = append(c.definition, ws)
		}
	}
	for _, r := range lx.Cues.Reference {
		if ws := patternWords(r); len(ws) > 0 {
			c.reference = append(c.reference, ws)
		}
	}
	c.aws = phraseSet(lx.AWS)
	c.awsShared = phraseSet(lx.AWSShared)
	c.departure = phraseSet(lx.Cues.Departure)
	c.comparison = phraseSet(lx.Cues.Comparison)
	c.ability = phraseSet(lx.Cues.Ability)
	c.doubt = phraseSet(lx.Cues.Doubt)
	c.leaving = phraseSet(lx.Cues.Leaving)
	c.leaveNext = phraseSet(lx.Cues.LeavingNext)
	c.failing = phraseSet(lx.Cues.Failing)
	c.rejecting = phraseSet(lx.Cues.Rejecting)
	c.rejectingEarlier = phraseSet(lx.Cues.RejectingEarlier)
	c.target = phraseSet(lx.Cues.Target)
	c.arrival = phraseSet(lx.Cues.Arrival)
	c.unable = phraseSet(lx.Cues.Unable)
	c.symptoms = set(lx.Cues.Symptoms)
	c.spawns = set(lx.Cues.Spawns)
	c.workaround = phraseSet(lx.Cues.Workaround)
	c.wishes = set(lx.Cues.Wishes)
	c.followup = phraseSet(lx.Cues.Followup)
	c.equivalent = phraseSet(lx.Cues.Equivalence)
	c.likeness = phraseSet(lx.Cues.Likeness)
	c.newcomer = phraseSet(lx.Cues.Newcomer)
	c.chatter = phraseSet(lx.Cues.Chatter)
	c.choice = phraseSet(lx.Cues.Choice)
	c.choiceWeak = phraseSet(lx.Cues.ChoiceWeak)
	c.howto = phraseSet(lx.Cues.Howto)
	c.requests = phraseSet(lx.Cues.Requests)
	c.inside = phraseSet(lx.Cues.Inside)
	c.process = phraseSet(lx.Cues.Process)
	c.beyond = phraseSet(lx.Beyond)
	c.periods = phraseSet(lx.Periods)
	c.outside = phraseSet(lx.Outside.Services)
	c.local = phraseSet(lx.Outside.Local)
	c.clouds = phraseSet(lx.Outside.Clouds)
	c.platforms = phraseSet(lx.Outside.Platforms)
	c.trouble = phraseSet(lx.Outside.Troubleshooting)
	for _, e := range lx.Outside.ErrorSuffixes {
		c.errorEnds = append(c.errorEnds, strings.ToLower(strings.TrimSpace(e)))
	}
	for _, f := range lx.Features {
		c.features.add(f, strings.Join(words(f), " "))
	}
	c.replaces = map[string][]string{}
	for _, r := range lx.Replaces {
		f := strings.Join(words(r.Feature), " ")
		c.replaces[f] = append(c.replaces[f], r.Needs...)
	}
	for _, d := range lx.Descriptions {
		fs := make([]string, len(d.Features))
		for i, f := range d.Features {
			fs[i] = strings.Join(words(f), " ")
		}
		for _, s := range d.Says {
			if ws := patternWords(s); slices.Contains(ws, "...") {
				c.describedBy = append(c.describedBy, description{ws, fs})
			} else {
				c.described.add(s, fs)
			}
		}
	}
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

// cueWords marks the words that belong to a cue phrase: leaving, doubt,
// ability, follow-up or equivalence.
func (lx *lexicon) cueWords(ws []string) []bool {
	out := make([]bool, len(ws))
	for _, ps := range []*phrases[struct{}]{&lx.leaving, &lx.leaveNext, &lx.failing, &lx.rejecting, &lx.target, &lx.doubt, &lx.ability, &lx.followup, &lx.equivalent} {
		for _, at := range ps.find(ws) {
			_, k := ps.longest(ws[at:])
			for j := at; j < at+k; j++ {
				out[j] = true
			}
		}
	}
	return out
}

// awsOnly reports whether ws use an AWS phrase that other clouds do not
// use too: "ECS" or "S3", not "region" or "IAM".
func (lx *lexicon) awsOnly(ws []string) bool {
	for _, at := range lx.aws.find(ws) {
		_, k := lx.aws.longest(ws[at:])
		if _, n := lx.awsShared.longest(ws[at:]); n != k {
			return true
		}
	}
	return false
}

// departs reports whether ws say the user is leaving AWS itself: a
// departure phrase not followed by the name of something on AWS ("off AWS
// to Hetzner", not "off AWS Beanstalk").
func (lx *lexicon) departs(ws []string) bool {
	for _, at := range lx.departure.find(ws) {
		_, k := lx.departure.longest(ws[at:])
		rest := ws[at+k:]
		if _, n := lx.aws.longest(rest); n > 0 {
			continue
		}
		if _, n := lx.outside.longest(rest); n > 0 {
			continue
		}
		return true
	}
	return false
}

// referenced marks the words of each reference phrase ("the way ECS
// task definitions can"), from its first word to its last, within one
// clause and with at most referenceGap words for each "...".
func (lx *lexicon) referenced(ws []string, clause []int) []bool {
	out := make([]bool, len(ws))
	for i := range ws {
		end := i
		for j := i; j < len(ws) && clause[j] == clause[i]; j++ {
			end = j + 1
		}
		for _, p := range lx.reference {
			if n := matchShort(p, ws[i:end]); n > 0 {
				for j := i; j < i+n; j++ {
					out[j] = true
				}
			}
		}
	}
	return out
}

// referenceGap is how many words a "..." of a reference phrase stands for
// at most.
const referenceGap = 4

// matchShort returns the length of the shortest match of pattern at the
// start of ws, "..." matching one to referenceGap words, or 0.
func matchShort(pattern, ws []string) int {
	if len(pattern) == 0 {
		return 0
	}
	var match func(p int, w int) int
	match = func(p, w int) int {
		if p == len(pattern) {
			return w
		}
		if pattern[p] == "..." {
			for k := 1; k <= referenceGap && w+k <= len(ws); k++ {
				if n := match(p+1, w+k); n > 0 {
					return n
				}
			}
			return 0
		}
		if w < len(ws) && ws[w] == pattern[p] {
			return match(p+1, w+1)
		}
		return 0
	}
	return match(0, 0)
}

// endsWith reports whether a phrase of the set ends right before word i.
func (ps *phrases[V]) endsWith(ws []string, i int) bool {
	for j := max(0, i-4); j < i; j++ {
		if _, k := ps.longest(ws[j:i]); k == i-j {
			return true
		}
	}
	return false
}

// featuresIn returns the features named in ws, each once, in order.
func (lx *lexicon) featuresIn(ws []string) []string {
	var out []string
	for _, i := range lx.features.find(ws) {
		if f, _ := lx.features.longest(ws[i:]); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// describedIn returns the features that ws describe without naming them
// (clause gives each word's clause), each once, in order, leaving out those
// in named. A description that starts with a negated word describes what
// the user does not want ("we don't want kubernetes on our own servers").
func (lx *lexicon) describedIn(ws []string, clause []int, negated []bool, named []string) []string {
	var out []string
	add := func(fs []string) {
		for _, f := range fs {
			if !slices.Contains(out, f) && !slices.Contains(named, f) {
				out = append(out, f)
			}
		}
	}
	for _, i := range lx.described.find(ws) {
		if fs, _ := lx.described.longest(ws[i:]); !negated[i] {
			add(fs)
		}
	}
	for _, p := range lx.describedBy {
		for i, w := range ws {
			if w == p.words[0] && !negated[i] && matchPattern(p.words, ws[i:clauseEnd(clause, i)]) {
				add(p.features)
				break
			}
		}
	}
	return out
}

// phraseWords splits each phrase into its words.
func phraseWords(texts []string) [][]string {
	out := make([][]string, 0, len(texts))
	for _, t := range texts {
		out = append(out, words(t))
	}
	return out
}

// describedAcross returns the words that open descriptions with "..."
// begun in a clause before word at's that need the words of at's clause to
// match ("app mesh" of "app mesh ... replacement" over "we use App Mesh.
// what replaces it?"), as [start, end) pairs.
func (lx *lexicon) describedAcross(ws []string, clause []int, at int) [][2]int {
	start := at
	for start > 0 && clause[start-1] == clause[at] {
		start--
	}
	end := clauseEnd(clause, at)
	var out [][2]int
	for _, p := range lx.describedBy {
		lead := slices.Index(p.words, "...")
		for i := 0; i+lead <= start; i++ {
			if ws[i] == p.words[0] && matchPattern(p.words, ws[i:end]) && !matchPattern(p.words, ws[i:start]) {
				out = append(out, [2]int{i, i + lead})
			}
		}
	}
	return out
}

// counterpartAsked reports whether ws ask for the AWS counterpart of
// something: an equivalence phrase, where a likeness one ("like") counts
// only with another cloud's or platform's product right before it or a
// few words after it in its clause ("a Cloud Run like service", "something like Cloud
// Run").
func (lx *lexicon) counterpartAsked(ws []string, clause []int) bool {
	type product struct{ start, end int }
	var products []product
	for _, ps := range []*phrases[struct{}]{&lx.clouds, &lx.platforms} {
		for _, s := range ps.find(ws) {
			_, n := ps.longest(ws[s:])
			products = append(products, product{s, s + n})
		}
	}
	for _, at := range lx.equivalent.find(ws) {
		_, k := lx.equivalent.longest(ws[at:])
		if _, lk := lx.likeness.longest(ws[at:]); lk != k {
			return true
		}
		for _, p := range products {
			if clause[p.start] == clause[at] && (p.end == at || p.start >= at+k && p.start <= at+k+likenessReach) {
				return true
			}
		}
	}
	return false
}

// likenessReach is how many words may come between a likeness phrase and
// the product it compares with ("like the elastic beanstalk worker tier");
// "like we did for app engine" is how the user works, not a comparison.
const likenessReach = 2

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
	return len(ps.find(ws)) > 0
}

// find returns where the set's phrases occur in ws: each match's first
// word index, left to right, matches not overlapping.
func (ps *phrases[V]) find(ws []string) []int {
	var at []int
	for i := 0; i < len(ws); {
		if _, n := ps.longest(ws[i:]); n > 0 {
			at = append(at, i)
			i += n
			continue
		}
		i++
	}
	return at
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

// minErrorStem is the shortest word before an error suffix that makes an
// error type's name ("keyerror"), so that "terror" is not one.
const minErrorStem = 3

// errorName reports whether a word is the name of an error type
// ("serverlesserror"): another word followed by an error suffix, and not
// an AWS word, which names the service it is about.
func (lx *lexicon) errorName(ws []string) bool {
	for _, w := range ws {
		for _, e := range lx.errorEnds {
			if len(w) >= len(e)+minErrorStem && strings.HasSuffix(w, e) && !lx.aws.anywhere([]string{w}) {
				return true
			}
		}
	}
	return false
}

// whole reports whether an identifier is read as one word: an error
// type's name ("CannotPullContainerError") or a name the lexicon has
// ("TaskFailedToStart").
func (lx *lexicon) whole(w string) bool {
	ws := []string{w}
	return lx.errorName(ws) || lx.aws.anywhere(ws) || lx.trouble.anywhere(ws) || lx.outside.anywhere(ws)
}

// spawned reports whether the cue at ws[at] is the object of a verb of
// cues.spawns in its clause, an article or "up" between them allowed:
// "starts a replacement", "spins up a replacement".
func (lx *lexicon) spawned(ws []string, clause []int, at int) bool {
	i := at - 1
	for skip := 0; skip < 2 && i > 0 && clause[i-1] == clause[at]; skip++ {
		if w := ws[i]; w != "a" && w != "an" && w != "the" && w != "up" {
			break
		}
		i--
	}
	return i >= 0 && clause[i] == clause[at] && lx.spawns[ws[i]]
}

// workedAround reports whether a workaround phrase ("so I") comes before
// ws[at] in its clause, with no wish between them: the cue there reports
// what the user does instead ("so I download it at startup instead"), not
// what they want ("so we need something else instead").
func (lx *lexicon) workedAround(ws []string, clause []int, at int) bool {
	for _, i := range lx.workaround.find(ws) {
		if i < at && clause[i] == clause[at] && !slices.ContainsFunc(ws[i:at], func(w string) bool { return lx.wishes[w] }) {
			return true
		}
	}
	return false
}
