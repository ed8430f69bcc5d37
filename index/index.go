// Package index answers questions from the knowledge base. It builds an
// in-memory Bleve index of the scenarios and concept notes, turns a question
// into a safe query (no query-string syntax ever reaches Bleve), expands
// abbreviations and synonyms, corrects typos in ordinary words, and decides
// whether the best match is good enough to give as an answer.
package index

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	keywordmarker "github.com/blevesearch/bleve/v2/analysis/token/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

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

// protected tokens are never stemmed, so acronyms stay themselves
// (the English stemmer turns "ecs" into "ec" and "aws" into "aw").
var protected = []string{
	"ecs", "eks", "ecr", "ec2", "aws", "alb", "nlb", "elb", "irsa", "cni", "vpc", "iam",
	"kms", "gpu", "gpus", "asg", "os", "api", "apis", "cve", "cves", "k8s", "ml", "https",
	"oidc", "arm", "cpu", "vcpu", "p3", "p4", "g5", "ami", "ci", "cd", "sqs", "sns", "url",
}

// boilerplate words carry no meaning in a question to Shipmate.
var boilerplate = []string{
	"which", "what", "whats", "how", "should", "shall", "could", "would", "use", "using",
	"need", "needs", "want", "wants", "best", "better", "way", "ways", "good", "recommend",
	"recommended", "recommendation", "option", "options", "help", "please", "thanks", "thank",
	"hey", "hi", "hello", "hiya", "folks", "team", "guys", "anyone", "someone", "know",
	"tell", "me", "us", "we", "our", "ours", "i", "my", "you", "your", "can", "do", "does",
	"go", "get", "got", "aws", "amazon", "service", "services", "lets", "let", "like",
	"right", "pick", "choose", "choice", "idea", "ideas", "thing", "things", "stuff",
	"question", "quick", "q", "ok", "okay", "yes", "yeah", "also", "just", "really",
	"something", "anything", "there", "here", "now", "currently", "today", "even",
	"dont", "doesnt", "didnt", "isnt", "arent", "cant", "wont", "shouldnt", "im", "ive",
	"weve", "were", "theyre", "youre", "its", "thats", "theres", "whats", "hows", "pls",
	"plz", "lol", "btw", "fyi", "imo", "tbh", "wondering", "anybody", "everyone", "all",
	"guess", "probably", "maybe", "actually", "basically", "run", "runs", "running", "ran",
	"without", "never",
}

// Index answers questions from a knowledge base. It is safe for concurrent use.
type Index struct {
	base     *content.Base
	bleve    bleve.Index
	analyzer analysis.Analyzer
	docs     map[string]*doc
	vocab    *vocabulary
	known    map[string]bool     // analyzed terms present in any document
	anchors  map[string]bool     // analyzed terms that put a question in the domain
	names    map[string]string   // analyzed term → the service id it names
	phrases  map[[2]string]bool  // adjacent analyzed terms of the knowledge base's keyword phrases
	synonyms phrases             // how people say things → what the knowledge base calls them
	outside  phrases             // what Shipmate does not cover
	local    phrases             // a developer's own machine
	cache    map[string][]string // word → analyzed terms; written only by build
	frozen   bool                // build is over: cache is read-only
}

// doc is one answerable document: a scenario or a note.
type doc struct {
	id       string // bleve id: kind + "/" + content id
	kind     string
	cid      string
	title    string
	services []string
	text     string
	terms    map[string]bool
	scenario *content.Scenario
	note     *content.Note
	caveats  []string
}

// New builds the index for b in one batch. Close it when done.
func New(b *content.Base) (*Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}
	bi, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	ix := &Index{
		base:     b,
		bleve:    bi,
		analyzer: m.AnalyzerNamed(analyzerName),
		docs:     map[string]*doc{},
		known:    map[string]bool{},
		anchors:  map[string]bool{},
		names:    map[string]string{},
		cache:    map[string][]string{},
		phrases:  map[[2]string]bool{},
	}
	if ix.analyzer == nil {
		bi.Close()
		return nil, errors.New("index mapping: analyzer missing")
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

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	tokens := func(ws []string) []any {
		out := make([]any, len(ws))
		for i, w := range ws {
			out[i] = w
		}
		return out
	}
	steps := []error{
		m.AddCustomTokenMap("shipmate_protected", map[string]any{"type": tokenmap.Name, "tokens": tokens(protected)}),
		m.AddCustomTokenMap("shipmate_boilerplate", map[string]any{"type": tokenmap.Name, "tokens": tokens(boilerplate)}),
		m.AddCustomTokenFilter("shipmate_keep", map[string]any{"type": keywordmarker.Name, "keywords_token_map": "shipmate_protected"}),
		m.AddCustomTokenFilter("shipmate_stop", map[string]any{"type": stop.Name, "stop_token_map": "shipmate_boilerplate"}),
		m.AddCustomAnalyzer(analyzerName, map[string]any{
			"type":      custom.Name,
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

	dm := bleve.NewDocumentMapping()
	for _, f := range fields {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = analyzerName
		fm.Store = false
		fm.IncludeTermVectors = true
		dm.AddFieldMappingsAt(f.name, fm)
	}
	kind := bleve.NewKeywordFieldMapping()
	kind.Analyzer = keyword.Name
	kind.Store = false
	dm.AddFieldMappingsAt("kind", kind)
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
	texts := map[*doc][]string{}
	add := func(d *doc, f map[string]any) error {
		ix.docs[d.id] = d
		for _, v := range f {
			texts[d] = append(texts[d], v.(string))
		}
		f["kind"] = d.kind
		return batch.Index(d.id, f)
	}
	// Typos are corrected only into the words that name things in the
	// domain (keywords, titles, service names, synonyms), never into
	// ordinary words of the body text: "falls" must not become "fills".
	var vocabText, targetText []string
	for i := range ix.base.Scenarios {
		s := &ix.base.Scenarios[i]
		d := &doc{
			id: KindScenario + "/" + s.ID, kind: KindScenario, cid: s.ID,
			title: s.Answer, services: s.Use, scenario: s, note: ix.base.Note(s.Note),
		}
		d.caveats = ix.Caveats(s.Use)
		d.text = ix.scenarioText(s, d.note)
		var consider []string
		for _, a := range s.Consider {
			consider = append(consider, a.When+" "+ix.serviceNames(a.Use))
		}
		f := map[string]any{
			"need":     s.Need + "\n" + strings.Join(s.Examples, "\n"),
			"keywords": strings.Join(s.Keywords, "\n") + "\n" + ix.serviceNames(s.Use),
			"body":     s.Answer + "\n" + s.Because + "\n" + strings.Join(consider, "\n"),
		}
		if err := add(d, f); err != nil {
			return fmt.Errorf("index scenario %s: %w", s.ID, err)
		}
		vocabText = append(vocabText, s.Need, s.Answer, s.Because, strings.Join(s.Examples, " "))
		targetText = append(targetText, strings.Join(s.Keywords, " "))
	}
	for i := range ix.base.Notes {
		n := &ix.base.Notes[i]
		d := &doc{
			id: KindNote + "/" + n.ID, kind: KindNote, cid: n.ID,
			title: n.Title, services: n.Services, note: n,
		}
		d.text = n.Title + "\n" + n.Body
		f := map[string]any{
			"need":     n.Title,
			"keywords": strings.Join(n.Keywords, "\n") + "\n" + ix.serviceNames(n.Services),
			"body":     n.Body,
		}
		if err := add(d, f); err != nil {
			return fmt.Errorf("index note %s: %w", n.ID, err)
		}
		vocabText = append(vocabText, n.Body)
		targetText = append(targetText, n.Title, strings.Join(n.Keywords, " "))
	}
	// Bleve indexes the batch while this goroutine works out what the
	// confidence decision needs: each document's terms and the vocabulary.
	indexed := make(chan error, 1)
	go func() { indexed <- ix.bleve.Batch(batch) }()
	for d, ts := range texts {
		d.terms = map[string]bool{}
		for _, text := range ts {
			for _, t := range ix.terms(text) {
				d.terms[t] = true
				ix.known[t] = true
			}
		}
	}

	for _, s := range ix.base.Synonyms {
		for _, say := range s.Says {
			ix.synonyms.add(say, s.Means)
		}
		targetText = append(targetText, strings.Join(s.Says, " "), s.Means)
	}
	for _, s := range ix.base.Services {
		// A service is named by its id or a one-word alias ("k8s", "kubernetes").
		for _, a := range append([]string{s.ID}, s.Aliases...) {
			if len(words(a)) > 1 && a != s.ID {
				continue
			}
			for _, t := range ix.terms(a) {
				if !genericTerm(t) {
					ix.names[t] = s.ID
				}
			}
		}
		targetText = append(targetText, s.Name, strings.Join(s.Aliases, " "))
		// The words of multi-word aliases ("node groups", "worker nodes") are
		// too ordinary to anchor a question on their own.
		anchorText := []string{s.ID, s.Name}
		for _, a := range s.Aliases {
			if len(words(a)) == 1 {
				anchorText = append(anchorText, a)
			}
		}
		for _, t := range ix.terms(strings.Join(anchorText, " ")) {
			if !genericTerm(t) {
				ix.anchors[t] = true
			}
		}
	}
	for _, t := range ix.terms(strings.Join(domainTerms, " ")) {
		ix.anchors[t] = true
	}
	// "EC2" alone is as often about instances in general as about the EC2
	// launch type: it takes a container word to anchor a question.
	delete(ix.anchors, "ec2")
	// "docker" alone is as often about a laptop as about AWS.
	delete(ix.anchors, "docker")
	for _, o := range ix.base.Outside.Services {
		ix.outside.add(o, o)
	}
	for _, o := range ix.base.Outside.Local {
		ix.local.add(o, o)
	}
	for _, n := range ix.base.Notes {
		ix.addPhrases(n.Keywords)
	}
	for _, sc := range ix.base.Scenarios {
		ix.addPhrases(sc.Keywords)
	}
	ix.vocab = newVocabulary(append(vocabText, targetText...), targetText)
	ix.frozen = true
	if err := <-indexed; err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	return nil
}

// addPhrases records the adjacent term pairs of multi-word keywords
// ("capacity provider", "load balancer controller"): a question using one
// is in the domain even if it names no service.
func (ix *Index) addPhrases(keywords []string) {
	for _, k := range keywords {
		ts := ix.terms(k)
		for i := 0; i+1 < len(ts); i++ {
			if ts[i] != ts[i+1] {
				ix.phrases[[2]string{ts[i], ts[i+1]}] = true
			}
		}
	}
}

// domainTerms put a question squarely in Shipmate's domain even when it
// names no service.
var domainTerms = []string{
	"container", "containers", "containerized", "containerised", "docker", "dockerfile",
	"image", "images", "kubernetes", "k8s", "pod", "pods", "registry", "orchestrator",
	"orchestration", "serverless", "cluster", "task", "tasks", "node", "nodes", "microservice",
	"microservices", "helm", "kubectl", "irsa", "cni", "spot", "gpu",
}

// genericTerm reports analyzed terms too common in service names to mark
// a question as being about containers ("amazon", "elastic", "service").
func genericTerm(t string) bool {
	switch t {
	case "elast", "elastic", "amazon", "servic", "service", "aws", "type", "app", "web", "run", "function", "instanc":
		return true
	}
	return false
}

// terms analyzes text the way the index does, word by word. Each word's
// terms are remembered while the index is built, so the knowledge base's
// own words cost a map lookup afterwards; New does this before the index is
// shared, and afterwards the cache is only read.
func (ix *Index) terms(text string) []string {
	var out []string
	for _, w := range words(text) {
		ts, ok := ix.cache[w]
		if !ok {
			for _, t := range ix.analyzer.Analyze([]byte(w)) {
				ts = append(ts, string(t.Term))
			}
			if !ix.frozen {
				ix.cache[w] = ts
			}
		}
		out = append(out, ts...)
	}
	return out
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
	name = strings.TrimPrefix(strings.TrimPrefix(name, "Amazon "), "AWS ")
	return strings.TrimSpace(name)
}

func (ix *Index) serviceList(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = ix.ServiceName(id)
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " + " + names[len(names)-1]
}

func (ix *Index) scenarioText(s *content.Scenario, n *content.Note) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Recommendation: %s\n%s\n", strings.TrimSuffix(s.Answer, "."), strings.TrimSpace(s.Because))
	for _, c := range ix.Caveats(s.Use) {
		fmt.Fprintf(&b, "Heads-up: %s\n", c)
	}
	if len(s.Consider) > 0 {
		b.WriteString("Consider instead:\n")
		for _, a := range s.Consider {
			fmt.Fprintf(&b, "- %s when %s\n", ix.serviceList(a.Use), strings.TrimSpace(a.When))
		}
	}
	if n != nil {
		fmt.Fprintf(&b, "Read more: %s", n.Title)
	}
	return strings.TrimSpace(b.String())
}

// queryFor builds the Bleve query for the analyzed terms of a question:
// every term in every field, each field with its boost. The terms were
// analyzed already, so no character of user text is ever interpreted as
// query syntax.
func queryFor(terms []string) query.Query {
	qs := make([]query.Query, 0, len(terms)*len(fields))
	for _, f := range fields {
		for _, t := range terms {
			tq := bleve.NewTermQuery(t)
			tq.SetField(f.name)
			tq.SetBoost(f.boost)
			qs = append(qs, tq)
		}
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// search runs a prepared question against the index.
func (ix *Index) search(ctx context.Context, p prepared, size int) ([]scored, error) {
	req := bleve.NewSearchRequestOptions(queryFor(p.terms()), size, 0, false)
	res, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := make([]scored, 0, len(res.Hits))
	for _, h := range res.Hits {
		if d := ix.docs[h.ID]; d != nil {
			out = append(out, scored{doc: d, score: h.Score})
		}
	}
	return out, nil
}

type scored struct {
	doc   *doc
	score float64
}
