package index

import (
	"context"
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
)

// useSliceSearcher sets Bleve's switch from its slice disjunction searcher
// to its heap one, once, before the first index exists: a question's
// disjunction has a term query per term and field, a few dozen, over a few
// hundred documents, and the slice searcher walks them faster (a sixth
// less time per answer) with the same scores. Bleve leaves this switch to
// the application.
var useSliceSearcher = sync.OnceFunc(func() { searcher.DisjunctionHeapTakeover = 1024 })

// candidate is a document the search found, with its text relevance and,
// once ranked, its final score and why it moved.
type candidate struct {
	doc     *doc
	text    float64  // Bleve's score
	score   float64  // after ranking
	factors []factor // what ranking multiplied the score by, in order
}

// factor is one reason ranking changed a candidate's score.
type factor struct {
	why string
	x   float64
}

// retrieveSize is how many documents the search returns for ranking.
const retrieveSize = 4 * MaxAnswers

// retrieve is the third stage: the documents most relevant to the
// question's terms, by Bleve's text relevance.
func (ix *Index) retrieve(ctx context.Context, u *understanding) ([]candidate, error) {
	q := ix.queryFor(u.terms())
	if q == nil {
		return nil, nil
	}
	req := bleve.NewSearchRequestOptions(q, retrieveSize, 0, false)
	res, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := make([]candidate, 0, len(res.Hits))
	for _, h := range res.Hits {
		if d := ix.docs[h.ID]; d != nil {
			out = append(out, candidate{doc: d, text: h.Score, score: h.Score})
		}
	}
	return out, nil
}

// queryFor builds the Bleve query for the analyzed terms of a question:
// every term in every field that holds it, each field with its boost, or
// nil when no field holds any. A term no field holds would match nothing;
// leaving it out changes no document's rank, only the work. The terms were
// analyzed already, so no character of user text is ever interpreted as
// query syntax.
func (ix *Index) queryFor(terms []string) query.Query {
	qs := make([]query.Query, 0, len(terms)*len(fields))
	for _, f := range fields {
		for _, t := range terms {
			if !ix.fieldTerms[f.name][t] {
				continue
			}
			tq := bleve.NewTermQuery(t)
			tq.SetField(f.name)
			tq.SetBoost(f.boost)
			qs = append(qs, tq)
		}
	}
	if len(qs) == 0 {
		return nil
	}
	return bleve.NewDisjunctionQuery(qs...)
}
