// Package index answers questions from the knowledge base. A question goes
// through five stages, each taking the previous stage's result and returning
// its own:
//
//	normalise   Slack markup, entities and endpoints → plain words
//	understand  words → units of meaning (terms to search for) and the
//	            question's shape, the services it names and its domain signals
//	retrieve    units → candidate documents, by Bleve text relevance
//	rank        candidates → ordered by what the question asks for
//	decide      the domain gate and the confidence decision
//
// Explain prints what each stage returned, so it is the trace of Answer. The
// vocabulary every stage uses is content (lexicon.yaml, capabilities.yaml),
// compiled once when the index is built.
package index

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	keywordmarker "github.com/blevesearch/bleve/v2/analysis/token/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	lru "github.com/hashicorp/golang-lru/v2"

	"shipmate/content"
)

// Kinds of answer.
const (
	KindScenario = "scenario"
	KindNote     = "note"
)

// MaxAnswers is the recommendation plus up to three runners-up.
const MaxAnswers = 4

const analyzerName = "shipmate"

// Index answers questions from a knowledge base. It is safe for concurrent use.
type Index struct {
	base     *content.Base
	bleve    bleve.Index
	analyzer analysis.Analyzer
	docs     map[string]*doc // by Bleve id
	lex      *lexicon
	vocab    *vocabulary
	known    map[string]bool // analyzed terms present in any document
	df       map[string]int  // analyzed term → how many documents contain it
	// heads counts, for each feature, the scenarios whose headline names
	// it: the fewer, the more a question describing it says which one.
	heads   map[string]int
	anchors map[string]bool   // analyzed terms that put a question in the domain
	names   map[string]string // analyzed term → the service id it names
	// multi holds, for the last term of a service id of several words
	// ("app-runner"), all its terms: "runner" names App Runner only after "app".
	multi map[string][]string
	// ids maps the analyzed term of a one-word service id ("ecr") to it.
	ids map[string]string
	// fieldTerms holds the analyzed terms of each indexed field.
	fieldTerms map[string]map[string]bool
	phrases    map[[2]string]bool // adjacent analyzed terms of the knowledge base's keyword phrases
	weak       map[string]bool    // services a weak word names: "lambda", "ec2"
	cache      map[string][]string
	frozen     bool                       // build is over: cache is read-only
	answers    *lru.Cache[string, Answer] // questions without history, see Answer
}

// doc is one answerable document: a scenario or a note.
type doc struct {
	id       string // Bleve id: kind + "/" + content id
	kind     string
	cid      string
	title    string
	services []string
	terms    map[string]bool
	scenario *content.Scenario
	note     *content.Note
	caveats  []string
	// features are the lexicon's features that what the document says
	// names (what Hit.Contains reads).
	features []string
	// about are the features its headline names: a scenario's answer, a
	// note's title. "EKS Hybrid Nodes" is about Hybrid Nodes; a GPU node
	// group scenario that mentions them among its alternatives is not.
	about []string
}

// New builds the index for b in one batch. Close it when done.
func New(b *content.Base) (*Index, error) {
	if b.Lexicon == nil {
		return nil, errors.New("index: the knowledge base has no lexicon")
	}
	useSliceSearcher()
	m, err := newMapping(b.Lexicon)
	if err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}
	bi, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	ix := &Index{
		base:       b,
		bleve:      bi,
		analyzer:   m.AnalyzerNamed(analyzerName),
		docs:       map[string]*doc{},
		known:      map[string]bool{},
		df:         map[string]int{},
		anchors:    map[string]bool{},
		names:      map[string]string{},
		multi:      map[string][]string{},
		ids:        map[string]string{},
		fieldTerms: map[string]map[string]bool{},
		cache:      map[string][]string{},
		phrases:    map[[2]string]bool{},
		weak:       map[string]bool{},
	}
	if ix.analyzer == nil {
		bi.Close()
		return nil, errors.New("index mapping: analyzer missing")
	}
	if ix.answers, err = lru.New[string, Answer](answerCacheSize); err != nil {
		bi.Close()
		return nil, err
	}
	if err := ix.build(); err != nil {
		bi.Close()
		return nil, err
	}
	return ix, nil
}

// Close releases the index.
func (ix *Index) Close() error { return ix.bleve.Close() }

// Base returns the knowledge base the index was built from.
func (ix *Index) Base() *content.Base { return ix.base }

// newMapping indexes only what the search reads: the analysed text of three
// fields, without stored values, term vectors, doc values or an _all field.
func newMapping(lx *content.Lexicon) (*mapping.IndexMappingImpl, error) {
	return newMappingWith(lx, memoAnalyzerType)
}

// newMappingWith is newMapping with an analyzer of type analyzerType: the
// custom analyzer's tokenizer and filters, run by memoAnalyzerType or by
// Bleve's own custom type (the tests compare them).
func newMappingWith(lx *content.Lexicon, analyzerType string) (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	tokens := func(ws []string) []any {
		out := make([]any, len(ws))
		for i, w := range ws {
			out[i] = w
		}
		return out
	}
	steps := []error{
		m.AddCustomTokenMap("shipmate_protected", map[string]any{"type": tokenmap.Name, "tokens": tokens(lx.Protected)}),
		m.AddCustomTokenMap("shipmate_filler", map[string]any{"type": tokenmap.Name, "tokens": tokens(lx.Filler)}),
		m.AddCustomTokenFilter("shipmate_keep", map[string]any{"type": keywordmarker.Name, "keywords_token_map": "shipmate_protected"}),
		m.AddCustomTokenFilter("shipmate_stop", map[string]any{"type": stop.Name, "stop_token_map": "shipmate_filler"}),
		m.AddCustomAnalyzer(analyzerName, map[string]any{
			"type":      analyzerType,
			"tokenizer": unicode.Name,
			"token_filters": []any{
				en.PossessiveName, lowercase.Name, en.StopName, "shipmate_stop", "shipmate_keep", porter.Name,
			},
		}),
	}
	if err := errors.Join(steps...); err != nil {
		return nil, err
	}
	m.DefaultAnalyzer = analyzerName
	m.ScoringModel = scoringModel
	m.IndexDynamic, m.StoreDynamic, m.DocValuesDynamic = false, false, false

	dm := bleve.NewDocumentMapping()
	dm.Dynamic = false
	for _, f := range fields {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = analyzerName
		fm.Store = false
		fm.IncludeTermVectors = false
		fm.IncludeInAll = false
		fm.DocValues = false
		dm.AddFieldMappingsAt(f.name, fm)
	}
	m.DefaultMapping = dm
	return m, nil
}

// scoringModel is Bleve's default (TF-IDF); see the eval in index_test.go
// for the comparison with BM25 on the labelled questions.
var scoringModel = ""

// fields are the indexed text fields and how much a match in each counts.
var fields = []struct {
	name  string
	boost float64
}{
	{"need", 3},
	{"keywords", 1.5},
	{"body", 1},
}

func (ix *Index) build() error {
	batch := ix.bleve.NewBatch()
	// Each text is split into words once: a document's fields, its
	// vocabulary, what it says and its headline share them.
	type indexed struct {
		d        *doc
		f        map[string]any
		w        map[string][]string // each field's words
		says     []string            // the words of d.says()
		headline []string            // the words of d.headline()
	}
	var all []indexed
	add := func(e indexed) error {
		ix.docs[e.d.id] = e.d
		all = append(all, e)
		return batch.Index(e.d.id, e.f)
	}
	var vocabWords [][]string
	// Typos are corrected only into the words that name things in the
	// domain (keywords, titles, service names, lexicon phrases), never into
	// ordinary words of the body text: "falls" must not become "fills".
	var vocabText, targetText []string
	for i := range ix.base.Scenarios {
		s := &ix.base.Scenarios[i]
		d := &doc{
			id: KindScenario + "/" + s.ID, kind: KindScenario, cid: s.ID,
			title: s.Answer, services: s.Use, scenario: s, note: ix.base.Note(s.Note),
		}
		d.caveats = ix.Caveats(s.Use)
		var consider []string
		for _, a := range s.Consider {
			consider = append(consider, a.When+" "+ix.serviceNames(a.Use))
		}
		f := map[string]any{
			"need":     s.Need + "\n" + strings.Join(s.Examples, "\n"),
			"keywords": strings.Join(s.Keywords, "\n") + "\n" + ix.serviceNames(s.Use),
			"body":     s.Answer + "\n" + s.Because + "\n" + strings.Join(consider, "\n"),
		}
		need, examples, answer, because := words(s.Need), words(strings.Join(s.Examples, "\n")), words(s.Answer), words(s.Because)
		e := indexed{d: d, f: f, w: map[string][]string{
			"need":     slices.Concat(need, examples),
			"keywords": words(f["keywords"].(string)),
			"body":     slices.Concat(answer, because, words(strings.Join(consider, "\n"))),
		}, says: slices.Concat(answer, because, words(d.saysRest())), headline: answer}
		if err := add(e); err != nil {
			return fmt.Errorf("index scenario %s: %w", s.ID, err)
		}
		vocabWords = append(vocabWords, need, answer, because, examples)
		targetText = append(targetText, strings.Join(s.Keywords, " "))
	}
	for i := range ix.base.Notes {
		n := &ix.base.Notes[i]
		d := &doc{
			id: KindNote + "/" + n.ID, kind: KindNote, cid: n.ID,
			title: n.Title, services: n.Services, note: n,
		}
		// A note about a closed or retiring service says so too.
		d.caveats = ix.Caveats(n.Services)
		f := map[string]any{
			"need":     n.Title,
			"keywords": strings.Join(n.Keywords, "\n") + "\n" + ix.serviceNames(n.Services),
			"body":     n.Body,
		}
		title, body := words(n.Title), words(n.Body)
		e := indexed{d: d, f: f, w: map[string][]string{
			"need":     title,
			"keywords": words(f["keywords"].(string)),
			"body":     body,
		}, says: slices.Concat(title, body, words(d.saysRest())), headline: title}
		if err := add(e); err != nil {
			return fmt.Errorf("index note %s: %w", n.ID, err)
		}
		vocabWords = append(vocabWords, body)
		targetText = append(targetText, n.Title, strings.Join(n.Keywords, " "))
	}
	// Bleve indexes the batch while this goroutine works out what the
	// confidence decision needs: each document's terms and the vocabulary.
	batched := make(chan error, 1)
	go func() { batched <- ix.bleve.Batch(batch) }()
	// Each document's terms, and the terms each field holds: the search
	// asks a field only for terms it has. They are analyzed word by word
	// as the question is, so every term a question can ask for that Bleve
	// indexed in a field is here.
	for _, f := range fields {
		ix.fieldTerms[f.name] = map[string]bool{}
	}
	for _, e := range all {
		e.d.terms = map[string]bool{}
		for name, ws := range e.w {
			set := ix.fieldTerms[name]
			for _, t := range ix.termsOf(ws) {
				set[t] = true
				e.d.terms[t] = true
			}
		}
		for t := range e.d.terms {
			ix.df[t]++
		}
	}
	for _, set := range ix.fieldTerms {
		for t := range set {
			ix.known[t] = true
		}
	}

	lx := ix.base.Lexicon
	ix.lex = compileLexicon(lx, ix.base.Capabilities)
	for _, e := range all {
		e.d.features = ix.lex.featuresIn(e.says)
		e.d.about = ix.lex.featuresIn(e.headline)
	}
	ix.heads = map[string]int{}
	for _, d := range ix.docs {
		if d.kind == KindScenario {
			for _, f := range d.about {
				ix.heads[f]++
			}
		}
	}
	for _, t := range lx.Terms {
		targetText = append(targetText, strings.Join(t.Says, " "), t.Means)
	}
	generic := map[string]bool{}
	for _, t := range ix.terms(strings.Join(lx.Generic, " ")) {
		generic[t] = true
	}
	for _, s := range ix.base.Services {
		// A service is named by its id or a one-word alias ("k8s", "kubernetes").
		for _, a := range append([]string{s.ID}, s.Aliases...) {
			if len(words(a)) > 1 && a != s.ID {
				continue
			}
			ts := ix.terms(a)
			for _, t := range ts {
				if !generic[t] {
					ix.names[t] = s.ID
				}
			}
			if a == s.ID && len(ts) == 1 {
				ix.ids[ts[0]] = s.ID
			}
			if len(ts) > 1 {
				ix.multi[ts[len(ts)-1]] = ts
			}
		}
		targetText = append(targetText, s.Name, strings.Join(s.Aliases, " "))
		// The words of multi-word aliases ("node groups", "worker nodes") are
		// too ordinary to anchor a question on their own, and so are those
		// of a name's description in parentheses ("EC2 launch type and
		// worker nodes"): "lambda triggered by an SQS worker queue" is not
		// about containers. An acronym there ("(ECS)") is the name itself.
		anchorText := []string{s.ID, ix.ServiceName(s.ID)}
		for _, a := range s.Aliases {
			if len(words(a)) == 1 {
				anchorText = append(anchorText, a)
			}
		}
		for _, t := range ix.terms(strings.Join(anchorText, " ")) {
			if !generic[t] {
				ix.anchors[t] = true
			}
		}
	}
	for _, t := range ix.terms(strings.Join(lx.Anchors, " ")) {
		ix.anchors[t] = true
	}
	weak := ix.weak
	weakTerms := map[string]bool{}
	for _, t := range ix.terms(strings.Join(lx.Weak, " ")) {
		delete(ix.anchors, t)
		weakTerms[t] = true
		if s, ok := ix.names[t]; ok {
			weak[s] = true
		}
	}
	// The keyword phrases of documents about a weak service ("cold start"
	// for Lambda) are as often about that service in general.
	// So are phrases with a weak word in them ("lambda timeout").
	for _, n := range ix.base.Notes {
		if len(n.Services) > 0 && !weak[n.Services[0]] {
			ix.addPhrases(n.Keywords, weakTerms)
		}
	}
	for _, sc := range ix.base.Scenarios {
		if !slices.ContainsFunc(sc.Use, func(s string) bool { return weak[s] }) {
			ix.addPhrases(sc.Keywords, weakTerms)
		}
	}
	// The words of the lexicon's cues and of what it places outside the
	// domain are words it knows, not typos: "outgrown" is a reason to leave,
	// not a misspelt "outgrow".
	c, o := lx.Cues, lx.Outside
	for _, ps := range [][]string{c.Definition, c.Comparison, c.Ability, c.Doubt, c.Leaving, c.LeavingNext,
		c.Target, c.Unable, c.Symptoms, c.Failing, c.Rejecting, c.Followup, c.Equivalence, c.Newcomer,
		c.Chatter, c.Choice, c.ChoiceWeak, c.Howto, c.Departure, c.Reference,
		o.Services, o.Local, o.Clouds, o.Platforms, o.Troubleshooting, lx.Beyond} {
		vocabText = append(vocabText, strings.Join(ps, " "))
	}
	ix.vocab = newVocabulary(vocabWords, vocabText, targetText)
	ix.frozen = true
	if err := <-batched; err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	return nil
}

// addPhrases records the adjacent term pairs of multi-word keywords
// ("capacity provider", "load balancer controller"): a question using one
// is in the domain even if it names no service.
func (ix *Index) addPhrases(keywords []string, weak map[string]bool) {
	for _, k := range keywords {
		ts := ix.terms(k)
		for i := 0; i+1 < len(ts); i++ {
			if ts[i] != ts[i+1] && !weak[ts[i]] && !weak[ts[i+1]] {
				ix.phrases[[2]string{ts[i], ts[i+1]}] = true
			}
		}
	}
}

// terms analyzes text the way the index does, word by word. Each word's
// terms are remembered while the index is built, so the knowledge base's
// own words cost a map lookup afterwards; New does this before the index is
// shared, and afterwards the cache is only read.
func (ix *Index) terms(text string) []string {
	return ix.termsOf(words(text))
}

// termsOf is terms for text already split into words.
func (ix *Index) termsOf(ws []string) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, ix.wordTerms(w)...)
	}
	return out
}

// wordTerms analyzes one word.
func (ix *Index) wordTerms(w string) []string {
	ts, ok := ix.cache[w]
	if !ok {
		for _, t := range ix.analyzer.Analyze([]byte(w)) {
			ts = append(ts, string(t.Term))
		}
		if !ix.frozen {
			ix.cache[strings.Clone(w)] = ts
		}
	}
	return ts
}

func (ix *Index) serviceNames(ids []string) string {
	names := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		names = append(names, id)
		if s := ix.base.Service(id); s != nil {
			names = append(names, s.Name)
		}
	}
	return strings.Join(names, " ")
}

// Caveats returns the caveats of the given services, in order.
func (ix *Index) Caveats(ids []string) []string {
	var out []string
	for _, id := range ids {
		if s := ix.base.Service(id); s != nil && s.Caveat != "" {
			out = append(out, s.Caveat)
		}
	}
	return out
}

// ServiceName returns the short display name of a service id: "ECS",
// "Fargate", "App Runner".
func (ix *Index) ServiceName(id string) string {
	s := ix.base.Service(id)
	if s == nil {
		return id
	}
	name, paren, _ := strings.Cut(s.Name, " (")
	if acronym := strings.TrimSuffix(paren, ")"); acronym != "" && acronym == strings.ToUpper(acronym) && !strings.Contains(acronym, " ") {
		return acronym
	}
	// "AWS Fargate" is Fargate: the lexicon's generic words ("amazon",
	// "aws") do not name a service.
	if first, rest, ok := strings.Cut(strings.TrimSpace(name), " "); ok && slices.Contains(ix.base.Lexicon.Generic, strings.ToLower(first)) {
		name = rest
	}
	return strings.TrimSpace(name)
}

// says is what the document tells the user, the text Hit.Contains reads: a
// scenario's recommendation, reasons, alternatives, caveats and its note's
// title, or a note's title, body and caveats.
// headline is what the document is about in a few words: a scenario's
// answer, a note's title.
func (d *doc) headline() string {
	if d.scenario != nil {
		return d.scenario.Answer
	}
	if d.note != nil {
		return d.note.Title
	}
	return ""
}

func (d *doc) says() string {
	var lead string
	if s := d.scenario; s != nil {
		lead = s.Answer + " " + s.Because
	} else if d.note != nil {
		lead = d.note.Title + " " + d.note.Body
	}
	return lead + d.saysRest()
}

// saysRest is what says adds to a scenario's recommendation and reasons,
// or to a note's title and body: each part after a space.
func (d *doc) saysRest() string {
	var b strings.Builder
	if s := d.scenario; s != nil {
		for _, a := range s.Consider {
			b.WriteString(" " + a.When + " " + strings.Join(a.Use, " "))
		}
		if d.note != nil {
			b.WriteString(" " + d.note.Title)
		}
	}
	for _, c := range d.caveats {
		b.WriteString(" " + c)
	}
	return b.String()
}
