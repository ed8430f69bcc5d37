package index

import (
	"slices"
	"strconv"
	"strings"

	"shipmate/content"
)

// unit is one meaningful part of a question: a word, or a phrase that the
// lexicon recognised. Confidence is judged per unit, so a phrase such as
// "without managing servers" counts once, not three times.
type unit struct {
	text    string   // the words as the user wrote them (after correction)
	own     []string // analyzed terms of the words themselves
	terms   []string // analyzed terms it stands for: own plus the expansion
	means   string   // the expansion added to the search, if any
	pos     int      // index of its first word
	clause  int
	needs   []string // needs it expresses
	against []string // needs it says the user does not want ("no k8s experts")
	service string   // the service it names, if any
	synonym bool     // recognised through the lexicon's terms
	fixed   bool     // a typo was corrected
	negated bool     // "no servers", "don't want to manage instances"
	anchor  bool     // puts the question in the domain: a service or a container term
	// cue units are words of a cue phrase ("overkill", "instead of"): they
	// shape the question but are not its content.
	cue bool
	// situation units state what the user has or knows ("our team knows
	// Kubernetes"): what they need counts whatever the question weighs.
	situation bool
	// reference units name a service only as a point of comparison for
	// another one ("the way ECS task definitions can"): they are searched
	// for but neither named nor counted.
	reference bool
	// implied units were not typed by the user: a service from an earlier
	// question of the conversation, or the rival a doubt implies. They are
	// searched for but not counted when judging coverage.
	implied bool
}

// weight is how much a unit counts when judging how much of a question a
// document covers: the words that make it a container question count
// double, words most documents use count half, and words the knowledge base
// never uses ("ConfigMap") count more, since no answer covers them.
func (ix *Index) weight(u unit) float64 {
	switch {
	case u.implied, u.cue, u.reference:
		return 0
	case u.anchor:
		return 2
	case u.synonym || u.fixed || len(u.needs) > 0:
		return 1
	}
	known, common := false, true
	for _, t := range u.own {
		if ix.known[t] {
			known = true
		}
		if ix.df[t]*commonShare < len(ix.docs) {
			common = false
		}
	}
	switch {
	case !known:
		return unknownWeight
	case common:
		return commonWeight
	}
	return 1
}

// Weights of ordinary words: a word in more than one document in
// commonShare is common; a word in none is unknown.
var (
	commonShare   = 4
	commonWeight  = 0.5
	unknownWeight = 1.0
)

// need is a requirement the question expresses.
type need struct {
	id        string
	service   string // the service whose name expressed it ("eks"), if any
	against   bool   // the user does not want it
	inherited bool   // carried over from an earlier question
	from      string // the words that expressed it
}

// understanding is the second stage's result: what the question asks.
type understanding struct {
	words []string // the question's words after typo correction
	// features are the lexicon's features the question names or describes.
	features []string
	// situational are the features it names only where it says what the
	// user has, while it asks about something else: "we set up the task
	// role, now how do we autoscale on queue depth?".
	situational []string
	// askedNeed is set when a clause that asks expresses a need of its
	// own ("how do we add gpu tasks?"): a situational feature's documents
	// then get no preference at all.
	askedNeed bool
	clause    []int
	units     []unit
	// needs are the requirements the question expresses, each once;
	// ownNeeds is set when some come from words other than a service's
	// name ("GPUs", not "EC2 instances").
	needs    []need
	ownNeeds bool
	// quantified is set when a need comes from a number against a bound
	// of the lexicon's quantities ("500 MB" of Lambda packages).
	quantified bool
	// named are the services the question names itself (not through a
	// lexicon expansion and not negated), in order.
	named []string
	// leaving are named services the user is moving away from or cannot
	// use ("won't work on Fargate", "cheaper than", "instead of"); failing
	// are those of them the user reports failing ("fargate refuses them").
	leaving, failing []string
	// rejected are those the user wants replaced ("instead of Lambda",
	// "what instead?").
	rejected []string
	// target are named services the user says they are heading for
	// ("thinking ECS fargate first"); the others named are where they are.
	target []string
	// choices are the services a question picks among ("App Runner,
	// Beanstalk or ECS?"): answers stay within them.
	choices []string
	// ability is set for "can X do Y?"; verdict is the answer when the
	// capabilities settle it, and for a service being left that cannot
	// meet a need.
	ability bool
	subject string // the service an ability question asks about
	verdict *Verdict
	// doubted are named services whose need the question questions
	// ("do we actually need k8s?"): it weighs them against their rival.
	doubted []string
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
	// cloud is set when the question names another cloud's product;
	// equivalent when it asks for a counterpart ("like Cloud Run").
	cloud, equivalent bool
	// weighsOutside is set when a comparison cue's clause names a product
	// outside the domain ("function url vs api gateway").
	weighsOutside bool
	// platform is set when the question names another service that runs
	// containers itself (SageMaker, AWS Batch); moving is set when it
	// says the user is leaving something or looking for what replaces it.
	platform, moving bool
	// departing is set when the question leaves AWS itself ("moving off
	// AWS to Hetzner").
	departing bool
	// chatter is set when the message reports or reacts ("thanks, fargate
	// worked great") rather than asks.
	chatter bool
	// choice is set when the question asks for a service ("which service",
	// "options?", "where should we run"); howto for a how-to or
	// troubleshooting question.
	choice, howto bool
	// asks is set when the question asks for a service in so many words
	// ("which service", "what should we use"), not only with "which" or "or".
	asks bool
	// trouble is set when the question quotes a generic error
	// (CrashLoopBackOff, exit code 137).
	trouble bool
	// anchored is set when a unit puts the question in the domain.
	anchored bool
	// phrase is the first of the knowledge base's keyword phrases the
	// question uses ("capacity provider"), as analyzed terms, or "".
	phrase string
	// followup is set when the question continues an earlier one, and
	// context says what was carried over.
	followup bool
	context  []string
}

// Verdict answers "can X do Y?" from the capabilities: yes or no, why, and
// what to use instead.
type Verdict struct {
	Service string // the service asked about
	Need    string // the need's label ("GPUs")
	// Asked is set when the user asked whether the service can ("can
	// Fargate run GPUs?"), not only named it as the one they are leaving.
	Asked   bool
	Can     bool
	Limit   string   // why not
	Instead []string // services that meet the need
	Way     string   // how
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
		if un.implied {
			parts = append(parts, un.text)
		}
	}
	return strings.Join(parts, " ")
}

// wanted are the named services the user is not moving away from.
func (u *understanding) wanted() []string {
	var out []string
	for _, s := range u.named {
		if !slices.Contains(u.leaving, s) && (len(u.target) == 0 || slices.Contains(u.target, s)) {
			out = append(out, s)
		}
	}
	return out
}

// positive returns the ids of the needs the user has.
func (u *understanding) positive() []string {
	var out []string
	for _, n := range u.needs {
		if !n.against {
			out = append(out, n.id)
		}
	}
	return out
}

// hasNeedIn reports whether the question expresses a need of facet f.
func (u *understanding) hasNeedIn(lx *lexicon, f string) bool {
	for _, n := range u.needs {
		if nd := lx.needs[n.id]; nd != nil && nd.Facet == f {
			return true
		}
	}
	return false
}

// understand corrects typos, recognises the lexicon's phrases and cues,
// and works out what the question asks: its units of meaning, its needs,
// the services it names and how (wanted, left, asked about, chosen
// among), and its domain signals. With history, a follow-up inherits the
// context of the question before it.
func (ix *Index) understand(n normalized, history []Turn) understanding {
	u := ix.read(n)
	if len(history) > 0 && u.isFollowup(ix.lex) {
		ix.inherit(&u, ix.recall(history))
	}
	u.verdict = ix.verdict(&u)
	if v := u.verdict; v != nil && !v.Can {
		// "can App Runner do websockets?" — no: what App Runner's name
		// implies is not a need either.
		u.needs = slices.DeleteFunc(u.needs, func(n need) bool { return n.service == v.Service })
	}
	return u
}

// read is understand without the conversation.
func (ix *Index) read(n normalized) understanding {
	lx := ix.lex
	ws := slices.Clone(n.words)
	u := understanding{clause: n.clause}
	// Outside phrases are matched on the words as typed: "systemd" must not
	// be read as a typo for "system" first.
	u.outside = lx.outside.anywhere(ws)
	u.local = lx.local.anywhere(ws)
	u.cloud = lx.clouds.anywhere(ws)
	u.platform = lx.platforms.anywhere(ws)
	u.aws = lx.aws.anywhere(ws)
	// An error type's name is a pasted error of the user's own code or
	// tool ("ServerlessError"); next to an AWS word it may be the
	// service's ("ClientException: Fargate requires …").
	u.trouble = lx.trouble.anywhere(ws) || !u.aws && lx.errorName(ws)
	if u.cloud {
		// "AKS nodes in the West Europe region": regions, zones and IAM are
		// every cloud's words.
		u.aws = lx.awsOnly(ws)
	}
	u.departing = lx.departs(ws)
	u.chatter = lx.chatter.anywhere(ws)
	fixed := make([]bool, len(ws))
	for i, w := range ws {
		if ix.knownWord(w) {
			continue // "moved" is "move", no typo
		}
		if c, ok := ix.vocab.correct(w); ok {
			ws[i], fixed[i] = c, true
		}
	}
	u.words = ws
	u.features = lx.featuresIn(ws)
	negated := lx.negations(ws, n.clause, func(w string) bool { return len(ix.wordTerms(w)) > 0 }, func(w string) bool { return ix.namesService(ix.wordTerms(w)) })
	// "an IAM role per pod without the OIDC provider" names Pod Identity
	// as well as "pod identity" does.
	described := lx.describedIn(ws, n.clause, negated, u.features)
	u.features = append(u.features, described...)
	complained := lx.complained(ws, n.clause)
	u.definition = lx.isDefinition(ws)
	u.comparison = lx.comparison.anywhere(ws)
	u.equivalent = lx.counterpartAsked(ws, n.clause)
	u.asks = lx.choice.anywhere(ws)
	u.choice = u.asks || lx.choiceWeak.anywhere(ws)
	u.howto = lx.howto.anywhere(ws)
	for i := 0; i < len(ws); {
		end := clauseEnd(n.clause, i)
		if negated[i] || complained[i] {
			// A complaint ("a chore") only gives phrases their negated
			// meaning; it does not turn what they name against the user.
			m, k := lx.negated.longest(ws[i:end])
			if k > 0 && m.against && ix.modifier(ws[i:i+k], ws[i+k:end]) {
				k = 0
			}
			if k > 0 && (negated[i] || !m.against) {
				phrase := strings.Join(ws[i:i+k], " ")
				un := unit{text: phrase, own: ix.terms(phrase), means: m.means, pos: i, clause: n.clause[i], synonym: true, fixed: anyTrue(fixed[i : i+k]), situation: m.situation}
				if m.against {
					// "no GPUs": the search still looks for GPUs, but an answer
					// that needs them counts against.
					un.terms = append(slices.Clone(un.own), ix.terms(m.means)...)
					un.against = m.needs
					un.negated = ix.namesService(un.own)
				} else {
					un.terms = ix.terms(m.means)
					un.needs = m.needs
					un.negated = true
				}
				u.add(ix, un)
				i += k
				continue
			}
		}
		if m, k := lx.terms.longest(ws[i:end]); k > 0 {
			phrase := strings.Join(ws[i:i+k], " ")
			un := unit{text: phrase, own: ix.terms(phrase), means: m.means, pos: i, clause: n.clause[i], synonym: true, fixed: anyTrue(fixed[i : i+k]), needs: m.needs, situation: m.situation}
			un.terms = append(slices.Clone(un.own), ix.terms(m.means)...)
			// "no k8s" still searches for Kubernetes but does not ask for EKS.
			un.negated = negated[i] && ix.namesService(un.own) && !ix.modifier(ws[i:i+k], ws[i+k:end])
			u.add(ix, un)
			i += k
			continue
		}
		if isNumber(ws[i]) { // "40 microservices", "2 yrs": the number says nothing
			i++
			continue
		}
		if own := ix.wordTerms(ws[i]); len(own) > 0 {
			// "no containers" does not put a question about Lambda zips in
			// the domain.
			un := unit{text: ws[i], own: own, terms: own, pos: i, clause: n.clause[i], fixed: fixed[i],
				negated: negated[i] && (ix.namesService(own) || ix.anchorTerms(own)) && !ix.modifier(ws[i:i+1], ws[i+1:end])}
			u.add(ix, un)
		}
		i++
	}
	ref := lx.referenced(ws, n.clause)
	for i, q := range n.quoted {
		ref[i] = ref[i] || q
	}
	u.references(ref)
	if slices.Contains(n.host, true) {
		u.unname(n.host)
	}
	u.onlyNames = len(u.units) > 0
	for _, un := range u.units {
		if len(un.own) == 0 || !allNames(ix, un.own) {
			u.onlyNames = false
		}
	}
	u.phrase = ix.keywordPhrase(u.units)
	u.moving = lx.leaving.anywhere(ws) || lx.leaveNext.anywhere(ws) || lx.failing.anywhere(ws) || lx.target.anywhere(ws)
	cue := lx.cueWords(ws)
	for i := range u.units {
		un := &u.units[i]
		un.cue = un.service == "" && len(un.needs) == 0 && len(un.against) == 0 && cue[un.pos]
	}
	u.cues(ix, negated)
	// "new project, want something like app runner": a service closed to
	// new customers is not one a newcomer can start on.
	if lx.newcomer.anywhere(ws) {
		for _, s := range u.named {
			if sv := ix.base.Service(s); sv != nil && sv.Status.State == content.Closed {
				u.leaving = appendNew(u.leaving, s)
			}
		}
	}
	u.collectNeeds(ix, negated)
	u.situational = ix.situational(&u, n)
	// Where the user runs things today ("karpenter": Kubernetes) is not a
	// need when the service they are heading for is not that.
	if len(u.target) > 0 {
		u.needs = slices.DeleteFunc(u.needs, func(n need) bool {
			nd := lx.needs[n.id]
			if n.against || nd == nil || !lx.facets[nd.Facet].Context {
				return false
			}
			_, lim := lx.cannot(u.target, n.id)
			return lim != nil
		})
	}
	// "moving off our node groups onto Auto Mode": a feature that takes
	// a need away asks about itself, not for what it replaces.
	for _, f := range u.features {
		if gone := lx.replaces[f]; len(gone) > 0 {
			u.needs = slices.DeleteFunc(u.needs, func(n need) bool { return !n.against && slices.Contains(gone, n.id) })
		}
	}
	// "runs containers in its own data center and wants to move them to
	// AWS": the data center is where the workload is now.
	if lx.arrival.anywhere(ws) {
		u.needs = slices.DeleteFunc(u.needs, func(n need) bool {
			nd := lx.needs[n.id]
			return !n.against && nd != nil && nd.Place
		})
	}
	for _, r := range u.rivals(lx) {
		u.named = append(u.named, r)
		u.units = append(u.units, ix.impliedUnit(r))
		u.comparison = true
	}
	// The search looks for the names of the features described, so the
	// documents that name them are among the candidates.
	for _, f := range described {
		t := ix.terms(f)
		u.units = append(u.units, unit{text: f, own: t, terms: t, pos: -1, clause: -1, implied: true})
	}
	return u
}

// situational returns the features the question names only outside the
// clauses that ask, when some clause asks: those ending in a question mark
// or with a how-to, choice or request cue or opening with an ability cue. A feature whose words an asking
// clause says in another form ("can deletes replicate too?") is asked
// about.
func (ix *Index) situational(u *understanding, n normalized) []string {
	lx := ix.lex
	if len(u.features) == 0 {
		return nil
	}
	asking := map[int]bool{}
	for _, c := range n.asked {
		asking[c] = true
	}
	for _, ps := range []*phrases[struct{}]{&lx.howto, &lx.ability, &lx.choice, &lx.requests} {
		for _, i := range ps.find(u.words) {
			// An ability cue asks where it opens its clause ("can they run
			// GPUs"), not inside a statement ("service connect is set up").
			if ps == &lx.ability && i > 0 && u.clause[i-1] == u.clause[i] {
				continue
			}
			asking[u.clause[i]] = true
		}
	}
	if len(asking) == 0 {
		return nil
	}
	for _, un := range u.units {
		if asking[un.clause] && len(un.needs) > 0 && un.service == "" && !un.negated && !un.situation {
			u.askedNeed = true
		}
	}
	asked := map[string]bool{} // terms of the asking clauses
	for i, w := range u.words {
		if asking[u.clause[i]] {
			for _, t := range ix.wordTerms(w) {
				asked[t] = true
			}
		}
	}
	at := map[string][]int{}
	for _, i := range lx.features.find(u.words) {
		f, _ := lx.features.longest(u.words[i:])
		at[f] = append(at[f], u.clause[i])
	}
	var out []string
	for _, f := range u.features {
		cs, named := at[f]
		if named && !slices.ContainsFunc(cs, func(c int) bool { return asking[c] }) && !allIn(ix.terms(f), asked) {
			out = append(out, f)
		}
	}
	return out
}

// allIn reports whether every term of ts is in set.
func allIn(ts []string, set map[string]bool) bool {
	for _, t := range ts {
		if !set[t] {
			return false
		}
	}
	return len(ts) > 0
}

// references turns the services named in reference phrases into points of
// comparison when the question names another service outside them: "why
// can't Lambda read secrets the way ECS task definitions can?" is about
// Lambda, and ECS and its tasks neither name a service nor anchor it.
func (u *understanding) references(ref []bool) {
	inside, outside := false, false
	for _, un := range u.units {
		if un.service == "" || un.negated {
			continue
		}
		if ref[un.pos] {
			inside = true
		} else {
			outside = true
		}
	}
	if !inside || !outside {
		return
	}
	u.unname(ref)
}

// unname makes the units at the positions ref marks points of reference:
// they neither name a service nor anchor the question.
func (u *understanding) unname(ref []bool) {
	u.named, u.anchored = nil, false
	for i := range u.units {
		un := &u.units[i]
		if ref[un.pos] {
			un.reference, un.anchor = true, false
		}
		u.anchored = u.anchored || un.anchor
		if un.service != "" && !un.negated && !un.reference && !slices.Contains(u.named, un.service) {
			u.named = append(u.named, un.service)
		}
	}
}

// impliedUnit stands for a service the user did not type: it is searched
// for under its id and name.
func (ix *Index) impliedUnit(s string) unit {
	name := ix.ServiceName(s)
	return unit{text: name, own: ix.terms(name), terms: ix.terms(s + " " + name), pos: -1, clause: -1, service: s, implied: true, anchor: true}
}

// rivals turns "do we actually need k8s?" into the comparison it is: the
// doubted service against the service of the same role that meets the
// other option of its exclusive facet (EKS against ECS).
func (u *understanding) rivals(lx *lexicon) []string {
	var out []string
	for _, s := range u.doubted {
		for _, f := range lx.facetList {
			if !f.Exclusive {
				continue
			}
			for _, o := range f.Options {
				if !lx.can(s, o.Need) {
					continue
				}
				for _, other := range f.Options {
					if other.Need == o.Need {
						continue
					}
					for _, r := range lx.order {
						if r != s && lx.role(r) == lx.role(s) && lx.can(r, other.Need) && !slices.Contains(u.named, r) {
							out = appendNew(out, r)
						}
					}
				}
			}
		}
	}
	return out
}

// clauseEnd returns the index after the last word of i's clause.
func clauseEnd(clause []int, i int) int {
	j := i
	for j < len(clause) && clause[j] == clause[i] {
		j++
	}
	return j
}

// add appends a unit and records what it says about the question.
func (u *understanding) add(ix *Index, un unit) {
	un.anchor = ix.anchoring(un)
	for _, t := range un.own {
		if s, ok := ix.names[t]; ok {
			if seq := ix.multi[t]; seq != nil {
				if !u.wholeName(ix, un, seq) {
					continue // a gitlab "runner" is not App Runner
				}
				un.anchor = true
			}
			un.service = s
			if !un.negated && !slices.Contains(u.named, s) {
				u.named = append(u.named, s)
			}
			break
		}
	}
	u.anchored = u.anchored || un.anchor
	u.units = append(u.units, un)
}

// wholeName reports whether a service name of several terms is all there:
// in the unit itself ("app runner"), or in the words that end with it.
func (u *understanding) wholeName(ix *Index, un unit, seq []string) bool {
	if containsRun(un.own, seq) {
		return true
	}
	if un.pos < 0 || un.pos+1 < len(seq) || un.pos >= len(u.words) {
		return false
	}
	return slices.Equal(ix.terms(strings.Join(u.words[un.pos+1-len(seq):un.pos+1], " ")), seq)
}

// containsRun reports whether seq occurs in ts as consecutive items.
func containsRun(ts, seq []string) bool {
	for i := 0; i+len(seq) <= len(ts); i++ {
		if slices.Equal(ts[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

// cues works out how the question treats the services it names: which it
// is leaving, which it asks about, which it chooses among, which it doubts.
func (u *understanding) cues(ix *Index, negated []bool) {
	lx := ix.lex
	// services named in each clause, by position
	type mention struct {
		service     string
		pos, clause int
	}
	var mentions []mention
	for _, un := range u.units {
		if un.service != "" && !un.negated && !un.reference {
			mentions = append(mentions, mention{un.service, un.pos, un.clause})
		}
	}
	inClause := func(c int) []string {
		var out []string
		for _, m := range mentions {
			if m.clause == c && !slices.Contains(out, m.service) {
				out = append(out, m.service)
			}
		}
		return out
	}
	// A leaving cue belongs to the nearest service named before it in its
	// clause, or else earlier in the question ("… - anything simpler?");
	// "instead of X" to the service named right after it.
	next := lx.leaveNext.find(u.words)
	type cue struct {
		at, k              int
		failing, rejecting bool
		earlier            bool // only for a service named in an earlier clause
	}
	var cues []cue
	for _, ps := range []*phrases[struct{}]{&lx.leaving, &lx.failing, &lx.rejecting, &lx.rejectingEarlier} {
		for _, at := range ps.find(u.words) {
			_, k := ps.longest(u.words[at:])
			cues = append(cues, cue{at, k, ps == &lx.failing, ps == &lx.rejecting || ps == &lx.rejectingEarlier, ps == &lx.rejectingEarlier})
		}
	}
	for _, cu := range cues {
		at, k := cu.at, cu.k
		if slices.Contains(next, at) {
			continue // "instead of X" is about X
		}
		// "it survives task replacement" replaces a task, not the service
		// named before it: a container word right before the cue is what
		// it is about.
		// So does a failing one: "our ECS task won't start" is a symptom
		// of the user's setup, which the question troubleshoots, not ECS
		// failing them ("Fargate won't start tasks over 200 GB").
		if cu.failing && at > 0 && u.clause[at-1] == u.clause[at] {
			if own := ix.wordTerms(u.words[at-1]); ix.anchorTerms(own) && !ix.namesService(own) {
				u.howto = true
				continue
			}
		}
		if cu.rejecting && at > 0 && u.clause[at-1] == u.clause[at] {
			if own := ix.wordTerms(u.words[at-1]); ix.anchorTerms(own) && !ix.namesService(own) {
				continue
			}
			// "ECS starts a replacement": the service replaces a task.
			// "so I download the model at startup instead": what the
			// user already does.
			if lx.spawned(u.words, u.clause, at) || lx.workedAround(u.words, u.clause, at) {
				continue
			}
		}
		c := u.clause[at]
		best, dist, bestPos := "", len(u.words)+1, -1
		if cu.earlier && slices.ContainsFunc(mentions, func(m mention) bool { return m.clause == c }) {
			continue // "is fargate a better option than ec2?" weighs them
		}
		for _, m := range mentions {
			if m.clause == c && m.pos < at+k+leaveNextReach+1 {
				if d := abs(m.pos - at); d < dist {
					best, dist, bestPos = m.service, d, m.pos
				}
			}
		}
		// "someone says kubernetes … what if we go with ECS instead?":
		// the service the user heads for is the replacement; the one
		// named before it is what it replaces.
		if cu.rejecting && bestPos >= 0 && bestPos < at && u.headsFor(lx, bestPos) {
			for _, m := range mentions {
				if m.pos < bestPos && m.service != best {
					u.leaving = appendNew(u.leaving, m.service)
					u.rejected = appendNew(u.rejected, m.service)
					break
				}
			}
			continue
		}
		// A short clause ("anything simpler?", "what instead?") is about
		// the latest service named before it; a longer one names its own
		// subject ("drop the NLB and use Service Connect instead").
		// "we use App Mesh between our ECS services. what do we lose
		// when we move to the replacement?": an earlier clause and this
		// one together describe a thing that is not a service ("app mesh
		// ... replacement"); the cue is about that thing.
		thing := slices.ContainsFunc(lx.describedAcross(u.words, u.clause, at), func(span [2]int) bool {
			return !slices.ContainsFunc(mentions, func(m mention) bool { return m.pos >= span[0] && m.pos < span[1] })
		})
		if best == "" && u.contentWords(c) <= shortClause && !u.namesThing(ix, c) && !thing {
			for _, m := range mentions {
				if m.clause < c {
					best = m.service
				}
			}
		}
		if best != "" {
			u.leaving = appendNew(u.leaving, best)
			if cu.failing {
				u.failing = appendNew(u.failing, best)
			}
			if cu.rejecting {
				u.rejected = appendNew(u.rejected, best)
			}
		}
	}
	// "fargate can't handle it": the service named right before the cue;
	// "fargate tasks can't reach the internet" is a symptom of the setup:
	// the question troubleshoots it.
	for _, at := range lx.unable.find(u.words) {
		if _, k := lx.unable.longest(u.words[at:]); at+k < len(u.words) && lx.symptoms[u.words[at+k]] {
			u.howto = true
			continue
		}
		for _, m := range mentions {
			if m.pos == at-1 && m.clause == u.clause[at] {
				u.leaving = appendNew(u.leaving, m.service)
				u.failing = appendNew(u.failing, m.service)
			}
		}
	}
	for _, at := range next {
		_, k := lx.leaveNext.longest(u.words[at:])
		for _, m := range mentions {
			// "leaving heroku for ECS" leaves Heroku: a thing the lexicon
			// knows named first is what the cue is about.
			if m.pos >= at+k && m.pos <= at+k+leaveNextReach && m.clause == u.clause[at] && !u.namesBetween(at+k, m.pos) {
				u.leaving = appendNew(u.leaving, m.service)
				u.rejected = appendNew(u.rejected, m.service)
				break
			}
		}
	}
	// After what the user leaves: "thinking of leaving EKS" heads away from it.
	for _, at := range lx.target.find(u.words) {
		// "is moving to EKS the only fix?" asks; it does not head there.
		start := at
		for start > 0 && u.clause[start-1] == u.clause[at] {
			start--
		}
		if _, q := lx.ability.longest(u.words[start:at]); q > 0 {
			continue
		}
		_, k := lx.target.longest(u.words[at:])
		for _, m := range mentions {
			if m.pos >= at+k && m.pos <= at+k+leaveNextReach && m.clause == u.clause[at] && !slices.Contains(u.leaving, m.service) {
				u.target = appendNew(u.target, m.service)
			}
		}
	}
	// "can X do Y?" opens a clause.
	for i := range u.words {
		if i == 0 || u.clause[i] != u.clause[i-1] {
			if _, k := lx.ability.longest(u.words[i:clauseEnd(u.clause, i)]); k > 0 && len(mentions) > 0 {
				u.ability = true
				for _, m := range mentions {
					if m.pos >= i && u.subject == "" {
						u.subject = m.service
					}
				}
			}
		}
	}
	// A doubt is about the service named right after it ("do I have to
	// run EC2 instances …"), or else the nearest one before it.
	for _, at := range lx.doubt.find(u.words) {
		// "what do I need?" asks for something; it doubts nothing.
		if at > 0 {
			if _, k := lx.choice.longest(u.words[at-1:]); k > 1 {
				continue
			}
		}
		// "do i need a load balancer for an ECS service" doubts the load
		// balancer, not ECS: the service must come right after the cue.
		_, k := lx.doubt.longest(u.words[at:])
		best := ""
		for _, m := range mentions {
			if m.clause == u.clause[at] && m.pos > at {
				if m.pos <= at+k+leaveNextReach {
					best = m.service
				}
				break
			}
		}
		// "k8s, do we really need it?" doubts what came before; "do I need
		// to update it myself" doubts the updating.
		if best == "" && !u.saysAfter(at+k) {
			for _, m := range mentions {
				if m.pos < at {
					best = m.service
				}
			}
		}
		if best != "" {
			u.doubted = appendNew(u.doubted, best)
		}
	}
	u.doubted = slices.DeleteFunc(u.doubted, func(s string) bool { return slices.Contains(u.leaving, s) })
	// "App Runner, Beanstalk or ECS?": a comparison cue in a clause naming
	// two or more services (or one and another product) is a choice.
	// The other product must be in the clauses the choice spans: "do we
	// need k8s or something simpler" is no choice because a sentence
	// before it mentions postgres.
	clauseWords := func(lo, hi int) []string {
		var ws []string
		for i, w := range u.words {
			if u.clause[i] >= lo && u.clause[i] <= hi {
				ws = append(ws, w)
			}
		}
		return ws
	}
	for _, at := range lx.comparison.find(u.words) {
		c := u.clause[at]
		named := inClause(c)
		lo := c
		// an "or" list runs over commas: look at the clauses it joins
		for c2 := c - 1; c2 >= 0 && len(named) > 0; c2-- {
			more := inClause(c2)
			if len(more) == 0 {
				break
			}
			lo = c2
			for _, s := range more {
				named = appendNew(named, s)
			}
		}
		others := 0
		if lx.outside.anywhere(clauseWords(lo, c)) {
			others = 1
			u.weighsOutside = true
		}
		if len(named) >= 2 || len(named) == 1 && others > 0 {
			for _, s := range named {
				if !slices.Contains(u.leaving, s) {
					u.choices = appendNew(u.choices, s)
				}
			}
		}
	}
	if len(u.choices) == 1 && !lx.outside.anywhere(u.words) {
		u.choices = nil
	}
}

// collectNeeds gathers the needs of the units and of the lexicon's
// patterns, once each. Needs expressed only by naming a service the user
// is leaving or doubting do not count, and two alternatives of an
// exclusive facet named together are being weighed, not both needed.
func (u *understanding) collectNeeds(ix *Index, negated []bool) {
	lx := ix.lex
	// clauses holds the clause of each need's first positive mention.
	clauses := map[string]int{}
	direct := false // the need being added is negated right before its words ("don't want kubernetes")
	var overruled []string
	add := func(id string, against bool, from, service string, clause int) {
		for i := range u.needs {
			if u.needs[i].id == id {
				switch {
				case u.needs[i].against && !against:
					u.needs[i].against = false
					clauses[id] = clause
				// "every hybrid platform is kubernetes. we don't want
				// kubernetes at all": what the user says they want, in a
				// later sentence, outweighs an earlier mention.
				case !u.needs[i].against && against && direct && clause > clauses[id] && !u.needs[i].inherited:
					u.needs[i].against = true
					overruled = append(overruled, id)
					if service != "" && slices.Contains(u.named, service) {
						u.leaving = appendNew(u.leaving, service)
					}
				}
				if service == "" {
					u.needs[i].service = ""
				}
				return
			}
		}
		if !against {
			clauses[id] = clause
		}
		u.needs = append(u.needs, need{id: id, service: service, against: against, from: from})
	}
	independent := func(un unit) {
		if un.service == "" && (len(un.needs) > 0 || len(un.against) > 0) {
			u.ownNeeds = true
		}
	}
	for _, un := range u.units {
		if un.reference {
			continue
		}
		// A service's name expresses a need ("EKS": the Kubernetes API) only
		// when it is the one service the question names and wants: "fargate
		// or the ec2 launch type?" weighs what it names, and "ECS + Fargate
		// needs too much setup, anything simpler?" leaves it. A negated
		// name ("no k8s people") is a requirement whatever else is named.
		// "EKS or ECS? the team knows Kubernetes" states a need of the
		// user's own, whatever it names.
		if un.service != "" && !un.negated && !un.situation && (slices.Contains(u.leaving, un.service) || slices.Contains(u.doubted, un.service) ||
			len(u.named) > 1 && (u.comparison || allNames(ix, un.own))) {
			continue
		}
		independent(un)
		// "an agent on every ecs host, like a daemonset" borrows what a
		// DaemonSet does, not the Kubernetes it runs on.
		analogy := un.pos > 0 && un.service == "" && ix.likeBefore(u.words, un.pos)
		for _, id := range un.needs {
			if analogy && lx.facets[lx.needs[id].Facet].Context {
				continue
			}
			add(id, false, un.text, un.service, un.clause)
		}
		direct = ix.negatedRightBefore(u.words, un.pos)
		for _, id := range un.against {
			add(id, true, un.text, un.service, un.clause)
		}
		direct = false
	}
	for _, p := range lx.patterns {
		for i, w := range u.words {
			if w == p.words[0] && matchPattern(p.words, u.words[i:clauseEnd(u.clause, i)]) {
				for _, id := range p.needs {
					add(id, negated[i], strings.Join(p.words, " "), "", u.clause[i])
				}
				u.ownNeeds = true
				break
			}
		}
	}
	// "takes 40 minutes", "512 GB of RAM": numbers against the bounds of
	// the lexicon's quantities.
	for i, w := range u.words {
		n, err := strconv.ParseFloat(w, 64)
		if err != nil || i+1 >= len(u.words) || u.clause[i+1] != u.clause[i] {
			continue
		}
		unit := u.words[i+1]
		if lx.periods.endsWith(u.words, i) {
			continue // "every 30 minutes" is how often, not how long
		}
		if lx.beyond.endsWith(u.words, i) {
			n += 0.5 // "exceeds 10 GiB" is more than 10
		}
		for _, q := range lx.quantities {
			if !q.units[unit] || q.above != nil && n <= *q.above || q.below != nil && n >= *q.below {
				continue
			}
			if len(q.with) > 0 && !inClause(u.words, u.clause, i, q.with) {
				continue
			}
			for _, id := range q.needs {
				add(id, negated[i], w+" "+unit, "", u.clause[i])
			}
			u.ownNeeds = true
			u.quantified = u.quantified || !negated[i]
		}
	}
	// Once the user says they do not want what they mentioned before
	// ("… is kubernetes. we don't want kubernetes"), a need that only
	// services built on it meet ("multicloud": portability) described
	// what they do not want, not what they need.
	for _, id := range overruled {
		u.needs = slices.DeleteFunc(u.needs, func(n need) bool {
			return !n.against && n.id != id && lx.onlyWith(n.id, id)
		})
	}
	// "ECS or EKS?" weighs the orchestrators; it needs neither.
	for _, f := range lx.facetList {
		if !f.Exclusive {
			continue
		}
		var in []int
		for i, n := range u.needs {
			if nd := lx.needs[n.id]; nd != nil && nd.Facet == f.ID && !n.against && isOption(f, n.id) {
				in = append(in, i)
			}
		}
		if len(in) > 1 {
			u.comparison = true
			for k := len(in) - 1; k >= 0; k-- {
				u.needs = slices.Delete(u.needs, in[k], in[k]+1)
			}
		}
	}
}

// likeBefore reports whether an equivalence cue ("like", "similar to")
// comes right before word i, with only words of no meaning between.
func (ix *Index) likeBefore(ws []string, i int) bool {
	for j := i; j > 0; j-- {
		if ix.lex.equivalent.endsWith(ws, j) {
			return true
		}
		if len(ix.wordTerms(ws[j-1])) > 0 {
			return false
		}
	}
	return false
}

// negatedRightBefore reports whether a negating word comes right before
// word i, with only words of no meaning between ("don't want kubernetes",
// not "don't have to bake keys into the image on EKS").
func (ix *Index) negatedRightBefore(ws []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		if ix.lex.negators[ws[j]] {
			return true
		}
		if len(ix.wordTerms(ws[j])) > 0 {
			return false
		}
	}
	return false
}

// inClause reports whether one of the words occurs in the clause of word i.
func inClause(ws []string, clause []int, i int, words map[string]bool) bool {
	for j, w := range ws {
		if clause[j] == clause[i] && words[w] {
			return true
		}
	}
	return false
}

func isOption(f *content.Facet, need string) bool {
	for _, o := range f.Options {
		if o.Need == need {
			return true
		}
	}
	return false
}

// isFollowup reports whether the question continues the one before it: it
// opens with a follow-up cue ("what about", "and if"), or it is short and
// names no service and nothing that puts it in the domain by itself.
func (u *understanding) isFollowup(lx *lexicon) bool {
	first := clauseEnd(u.clause, 0)
	if len(u.words) > 0 && len(lx.followup.find(u.words[:first])) > 0 {
		return true
	}
	content := 0
	for _, un := range u.units {
		if !un.implied {
			content++
		}
	}
	return len(u.named) == 0 && !u.anchored && content > 0 && content <= 4
}

// recall works out what the conversation so far is about: the last
// question, read in the context of those before it when it was itself a
// follow-up, with the services of the answer it got.
func (ix *Index) recall(history []Turn) *conversation {
	var ctx *conversation
	for _, t := range history {
		u := ix.read(normalise(t.Question, ix.lex.whole))
		if ctx != nil && u.isFollowup(ix.lex) {
			ix.inherit(&u, ctx)
		}
		c := &conversation{services: u.wanted(), needs: u.needs}
		if len(c.services) == 0 && len(u.positive()) == 0 {
			c.services = t.Services
		}
		ctx = c
	}
	return ctx
}

// conversation is what the questions so far were about.
type conversation struct {
	services []string
	needs    []need
}

// inherit carries the conversation's context into a follow-up: the
// services it was about and its needs in the facets the follow-up says
// nothing about, so "what about cost?" after a Kubernetes question is about
// EKS.
func (ix *Index) inherit(u *understanding, ctx *conversation) {
	if ctx == nil {
		return
	}
	u.followup = true
	for _, s := range ctx.services {
		if slices.Contains(u.named, s) || slices.Contains(u.leaving, s) {
			continue
		}
		u.named = append(u.named, s)
		u.units = append(u.units, ix.impliedUnit(s))
		u.context = append(u.context, "service "+s)
	}
	for _, n := range ctx.needs {
		nd := ix.lex.needs[n.id]
		if nd == nil || u.hasNeedIn(ix.lex, nd.Facet) && ix.lex.facets[nd.Facet].Exclusive {
			continue
		}
		if slices.ContainsFunc(u.needs, func(m need) bool { return m.id == n.id }) {
			continue
		}
		n.inherited = true
		u.needs = append(u.needs, n)
		u.context = append(u.context, "need "+n.id)
	}
	u.anchored = u.anchored || len(u.context) > 0
}

// verdict answers "can X do Y?" when the capabilities settle it, and says
// why a service being left cannot meet a need.
func (ix *Index) verdict(u *understanding) *Verdict {
	lx := ix.lex
	// Any service the question names may be one that cannot meet a need
	// ("docker-in-docker on our Fargate tasks"), whether or not the user
	// says they are leaving it.
	subjects := append(slices.Clone(u.leaving), u.named...)
	if u.ability && len(u.named) == 1 {
		subjects = u.named
	}
	var needs []string
	for _, n := range u.needs {
		if !n.against && !slices.Contains(subjects, n.service) {
			needs = append(needs, n.id)
		}
	}
	asked := u.ability && len(u.named) == 1
	for _, s := range subjects {
		for _, id := range needs {
			// Where the user runs things ("karpenter": Kubernetes) does not
			// rule out another service they merely name beside it.
			if !asked && !slices.Contains(u.leaving, s) && lx.facets[lx.needs[id].Facet].Context {
				continue
			}
			if lim := lx.services[s].limitFor(id); lim != nil {
				return &Verdict{Service: s, Need: lx.needs[id].Label, Asked: u.ability && len(u.named) == 1, Limit: lim.Limit, Instead: lim.Instead, Way: lim.Way}
			}
		}
	}
	if !u.ability || len(subjects) != 1 || len(needs) == 0 {
		return nil
	}
	for _, id := range needs {
		if lx.can(subjects[0], id) {
			return &Verdict{Service: subjects[0], Need: lx.needs[id].Label, Asked: true, Can: true}
		}
	}
	return nil
}

func (c *capability) limitFor(need string) *content.Limit {
	if c == nil {
		return nil
	}
	return c.cannot[need]
}

func allNames(ix *Index, ts []string) bool {
	for _, t := range ts {
		if _, ok := ix.names[t]; !ok {
			return false
		}
	}
	return true
}

// keywordPhrase returns the first keyword phrase of the knowledge base,
// such as "capacity provider", that the units use, or "".
func (ix *Index) keywordPhrase(units []unit) string {
	var prev string
	for _, un := range units {
		if un.fixed || un.negated {
			prev = ""
			continue
		}
		for _, t := range un.own {
			if prev != "" && ix.phrases[[2]string{prev, t}] {
				return prev + " " + t
			}
			prev = t
		}
	}
	return ""
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
// to the lexicon's reach or the end of its clause. Only words with meaning
// count towards the reach: in "don't have the time to babysit swarm or
// kubernetes", "the" and "to" do not. A service that "has no" something
// (service reports a word naming one) lacks it: that negates nothing.
func (lx *lexicon) negations(ws []string, clause []int, meaningful, service func(string) bool) []bool {
	out := make([]bool, len(ws))
	// "drop to zero when idle": the zero is a number, negating nothing.
	amount := make([]bool, len(ws))
	for _, at := range lx.amounts.find(ws) {
		_, k := lx.amounts.longest(ws[at:])
		for j := at; j < at+k; j++ {
			amount[j] = true
		}
	}
	reach, covered, exists := 0, 0, false
	for i, w := range ws {
		if i > 0 && clause[i] != clause[i-1] {
			reach = 0
		}
		// "there's no KEDA on ECS": once the negation has covered a word
		// with meaning, a place word ends it.
		if reach > 0 && exists && covered > 0 && lx.places[w] {
			reach = 0
		}
		// "start/stop the instances" and "start and stop them" name two
		// actions; neither negates.
		prev := i - 1
		if prev > 0 && (ws[prev] == "and" || ws[prev] == "or") {
			prev--
		}
		switch {
		case lx.negators[w] && !amount[i] && (prev < 0 || !lx.cancel[ws[prev]]):
			reach, covered = lx.reach, 0
			exists = slices.ContainsFunc(lx.exists, func(p []string) bool {
				return len(p) > 0 && i >= len(p) && slices.Equal(ws[i-len(p):i], p)
			})
			// "doesn't let us …" states a limitation; "we don't run
			// kubernetes" what the user does, but "we don't run anything
			// on ECS yet" says nothing against ECS.
			own := i > 0 && lx.speakers[ws[i-1]] && i+2 < len(ws) && lx.practices[ws[i+1]] && meaningful(ws[i+2])
			if i+1 < len(ws) && lx.cancel[ws[i+1]] && !own {
				reach = 0
			}
			// "fargate has no GPUs" states Fargate's limit.
			if i >= 2 && lx.lacks[ws[i-1]] && service(ws[i-2]) {
				reach = 0
			}
			continue
		case lx.breaks[w]:
			reach = 0
			continue
		}
		if reach > 0 {
			out[i] = true
			if meaningful(w) {
				reach--
				covered++
			}
		}
	}
	return out
}

// complained marks the words of each clause with a complaint word in it.
// A short clause of its own ("it's fragile af") complains about the clause
// before it.
func (lx *lexicon) complained(ws []string, clause []int) []bool {
	out := make([]bool, len(ws))
	for i, w := range ws {
		if !lx.complaints[w] {
			continue
		}
		c, n := clause[i], 0
		for j := range ws {
			if clause[j] == c {
				n++
			}
		}
		for j := range ws {
			if j != i && (clause[j] == c || n <= shortComplaint && clause[j] == c-1) {
				out[j] = true
			}
		}
	}
	return out
}

// shortComplaint is how many words a clause with a complaint may have and
// still be about the clause before it.
const shortComplaint = 4

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

// modifier reports whether words naming a service come right before a
// phrase whose negation has a meaning of its own: in "don't want to run the
// kubernetes api servers" the service only says whose servers are not
// wanted, and is not itself unwanted.
func (ix *Index) modifier(words, rest []string) bool {
	if !ix.namesService(ix.terms(strings.Join(words, " "))) {
		return false
	}
	for j := 0; j < len(rest) && j < 3; j++ {
		if m, k := ix.lex.negated.longest(rest[j:]); k > 0 && !m.against {
			return true
		}
	}
	return false
}

// anchorTerms reports whether analyzed terms include a word that puts a
// question in the domain ("containers").
func (ix *Index) anchorTerms(ts []string) bool {
	for _, t := range ts {
		if ix.anchors[t] {
			return true
		}
	}
	return false
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
	// "no k8s" is still about containers; "no containers" is not.
	if u.negated && !u.synonym && !ix.namesService(u.own) {
		return false
	}
	// A phrase of the lexicon that only stands for words of the knowledge
	// base anchors by what it means: "resize images" is about pictures,
	// not container images. One that expresses a need ("worker nodes")
	// anchors by its own words too.
	ts := u.terms
	if u.synonym && u.means != "" && len(u.needs) == 0 && len(u.against) == 0 {
		ts = ix.terms(u.means)
		for _, t := range u.own {
			if _, ok := ix.names[t]; ok {
				ts = append(ts, t)
			}
		}
	}
	for _, t := range ts {
		if ix.anchors[t] && ix.multi[t] == nil {
			return true
		}
	}
	return false
}

// shortClause is how many content words a clause may have and still refer
// back to an earlier one.
const shortClause = 2

// contentWords counts the units of clause c that are neither cue words nor
// implied.
func (u *understanding) contentWords(c int) int {
	n := 0
	for _, un := range u.units {
		if un.clause == c && !un.cue && !un.implied {
			n++
		}
	}
	return n
}

// saysAfter reports whether the clause of word i says something from word
// i on: a unit that is not a cue.
func (u *understanding) saysAfter(i int) bool {
	if i >= len(u.words) {
		return false
	}
	for _, un := range u.units {
		if un.pos >= i && un.clause == u.clause[i] && !un.cue && !un.implied {
			return true
		}
	}
	return false
}

// namesBetween reports whether a phrase of the lexicon that names no
// service ("heroku") comes in the words from i up to j.
func (u *understanding) namesBetween(i, j int) bool {
	for _, un := range u.units {
		if un.pos >= i && un.pos < j && un.synonym && un.service == "" {
			return true
		}
	}
	return false
}

// namesThing reports whether clause c names a thing of its own: a lexicon
// phrase that stands for something rather than a need ("NLB instead?" is
// about the load balancer, not the service named before it), or a keyword
// phrase of the knowledge base ("task role doesn't work" is about the task
// role).
func (u *understanding) namesThing(ix *Index, c int) bool {
	prev := ""
	for _, un := range u.units {
		if un.clause != c || un.cue || un.service != "" {
			prev = ""
			continue
		}
		if un.synonym && len(un.needs) == 0 && len(un.against) == 0 {
			return true
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

// headsFor reports whether a target phrase ("go with", "switch to") comes
// shortly before word i in its clause.
func (u *understanding) headsFor(lx *lexicon, i int) bool {
	for _, at := range lx.target.find(u.words) {
		_, k := lx.target.longest(u.words[at:])
		if at+k <= i && i <= at+k+leaveNextReach && u.clause[at] == u.clause[i] {
			return true
		}
	}
	return false
}

// leaveNextReach is how many words after "instead of" the service it
// refers to may come ("instead of our current EKS").
const leaveNextReach = 3

// minAnchorTypoLen is how long a corrected word must be to put a question in
// the domain.
const minAnchorTypoLen = 7

// isNumber reports whether w is a number ("40", "2.5"), a version or an
// address made of numbers ("1.29", "10.0.0.1").
func isNumber(w string) bool {
	for _, r := range w {
		if (r < '0' || r > '9') && r != '.' {
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

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
