package index

import (
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// memoAnalyzerType is a Bleve analyzer type: the custom analyzer, with
// its token filters' result for each distinct token remembered. Every
// filter of the index's analyzer (possessive, lowercase, stop words,
// keyword marker, Porter) reads and rewrites one token at a time, from its
// text alone, so a token's result is the same wherever it occurs; a
// knowledge base says the same few thousand words again and again, and
// building the index ran the whole chain on each occurrence.
const memoAnalyzerType = "shipmate_memo"

// maxMemoTerms bounds what a memoAnalyzer remembers: the knowledge base's
// words and more, but not every word of every question asked.
const maxMemoTerms = 1 << 17

func init() {
	// Bleve's analyzers register themselves the same way.
	if err := registry.RegisterAnalyzer(memoAnalyzerType, newMemoAnalyzer); err != nil {
		panic(err)
	}
}

func newMemoAnalyzer(config map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	a, err := custom.AnalyzerConstructor(config, cache)
	if err != nil {
		return nil, err
	}
	da, ok := a.(*analysis.DefaultAnalyzer)
	if !ok || da.CharFilters != nil {
		return a, nil // character filters read the whole text: nothing to remember
	}
	_, ascii := da.Tokenizer.(*unicode.UnicodeTokenizer)
	return &memoAnalyzer{tokenizer: da.Tokenizer, ascii: ascii, filters: da.TokenFilters, memo: map[string]memoTerm{}}, nil
}

type memoAnalyzer struct {
	tokenizer analysis.Tokenizer
	ascii     bool // the tokenizer is Bleve's unicode one: tokenizeASCII does its work on ASCII text
	filters   []analysis.TokenFilter

	mu   sync.RWMutex
	memo map[string]memoTerm // a token's text → what the filters made of it
}

// memoTerm is what the filters made of one token: its new text and
// keyword mark, or nothing (a stop word). The text is shared by every
// token it is given to, and read only.
type memoTerm struct {
	term    []byte
	keyword bool
	drop    bool
}

// Analyze returns what the custom analyzer with the same tokenizer and
// filters returns for input.
func (a *memoAnalyzer) Analyze(input []byte) analysis.TokenStream {
	var tokens analysis.TokenStream
	if a.ascii && isASCII(input) {
		tokens = tokenizeASCII(input)
	} else {
		tokens = a.tokenizer.Tokenize(input)
	}
	out := tokens[:0]
	for _, t := range tokens {
		a.mu.RLock()
		m, ok := a.memo[string(t.Term)]
		a.mu.RUnlock()
		if !ok {
			var more analysis.TokenStream
			if m, more, ok = a.filter(t); !ok {
				out = append(out, more...) // not one token in, one or none out
				continue
			}
		}
		if m.drop {
			continue
		}
		t.Term, t.KeyWord = m.term, m.keyword
		out = append(out, t)
	}
	return out
}

// filter runs the filters on t alone and remembers the result. A result
// of more than one token is returned as it is, not remembered (ok false).
func (a *memoAnalyzer) filter(t *analysis.Token) (m memoTerm, more analysis.TokenStream, ok bool) {
	key := string(t.Term)
	one := analysis.TokenStream{&analysis.Token{
		Start: t.Start, End: t.End, Term: slices.Clone(t.Term), Position: t.Position, Type: t.Type, KeyWord: t.KeyWord,
	}}
	for _, f := range a.filters {
		one = f.Filter(one)
	}
	switch len(one) {
	case 0:
		m.drop = true
	case 1:
		m.term, m.keyword = one[0].Term, one[0].KeyWord
	default:
		return memoTerm{}, one, false
	}
	a.mu.Lock()
	if len(a.memo) < maxMemoTerms {
		a.memo[key] = m
	}
	a.mu.Unlock()
	return m, nil, true
}
