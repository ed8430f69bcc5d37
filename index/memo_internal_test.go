package index

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"

	"shipmate/content"
)

// TestMemoAnalyzer: the remembering analyzer gives what Bleve's custom
// analyzer with the same tokenizer and filters gives, token for token, for
// every text the index analyses and for texts that exercise each filter,
// also when the same words come again and from goroutines at once.
func TestMemoAnalyzer(t *testing.T) {
	b := content.MustLoadEmbedded()
	memoMapping, err := newMappingWith(b.Lexicon, memoAnalyzerType)
	if err != nil {
		t.Fatal(err)
	}
	refMapping, err := newMappingWith(b.Lexicon, custom.Name)
	if err != nil {
		t.Fatal(err)
	}
	memo, ref := memoMapping.AnalyzerNamed(analyzerName), refMapping.AnalyzerNamed(analyzerName)
	if _, ok := memo.(*memoAnalyzer); !ok {
		t.Fatalf("analyzer is a %T, want a *memoAnalyzer", memo)
	}
	texts := []string{
		"", "ECS's tasks and EKS’s pods", "Don't run the RUNNING runners", "the a an of 'S s’s", "ÉCS ümlaut 漢字 kanji",
		"12.5 GB, 250mb; v2.0 — x/y", strings.Repeat("containers ", 50),
	}
	texts = append(texts, b.Lexicon.Protected...)
	texts = append(texts, b.Lexicon.Filler...)
	for _, s := range b.Scenarios {
		texts = append(texts, s.Need, s.Answer, s.Because, strings.Join(s.Examples, "\n"), strings.Join(s.Keywords, "\n"))
	}
	for _, n := range b.Notes {
		texts = append(texts, n.Title, n.Body, strings.Join(n.Keywords, "\n"))
	}
	check := func(t *testing.T, s string) {
		got, want := memo.Analyze([]byte(s)), ref.Analyze([]byte(s))
		if !slices.EqualFunc(got, want, func(a, b *analysis.Token) bool {
			return a.Start == b.Start && a.End == b.End && string(a.Term) == string(b.Term) && a.Position == b.Position && a.Type == b.Type && a.KeyWord == b.KeyWord
		}) {
			t.Errorf("Analyze(%.60q) = %v, want %v", s, got, want)
		}
	}
	for range 2 { // the second time from what was remembered
		for _, s := range texts {
			check(t, s)
		}
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := i; j < len(texts); j += 4 {
				check(t, texts[j]+" "+texts[len(texts)-1-j])
			}
		})
	}
	wg.Wait()
}
