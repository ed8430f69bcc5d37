package index

import (
	"context"
	"slices"

	"shipmate/content"
)

// Answer is what Shipmate says to a question.
type Answer struct {
	Question string `json:"question"`
	// Confident is false when the question is outside what the knowledge
	// base covers; Answers is then empty.
	Confident bool `json:"confident"`
	// Answers holds the recommendation first, then up to three runners-up.
	Answers []Hit `json:"answers"`
}

// Top returns the recommendation, or nil when there is none.
func (a *Answer) Top() *Hit {
	if !a.Confident || len(a.Answers) == 0 {
		return nil
	}
	return &a.Answers[0]
}

// Hit is one scenario or note that answers a question.
type Hit struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	Services []string `json:"services"`
	Text     string   `json:"text"`
	Score    float64  `json:"score"`

	// Scenario is set for kind "scenario".
	Scenario *content.Scenario `json:"-"`
	// Note is the note itself for kind "note", the related note for a scenario.
	Note *content.Note `json:"-"`
}

// Answer answers a question typed by a user. Any text is accepted: markup,
// query syntax and very long input are made safe, and a question outside the
// knowledge base gets an Answer with Confident false rather than a guess.
// The error is non-nil only if ctx ends or the index is closed.
func (ix *Index) Answer(ctx context.Context, question string) (Answer, error) {
	a := Answer{Question: question, Answers: []Hit{}}
	p := ix.prepare(question)
	if len(p.units) == 0 {
		return a, ctx.Err()
	}
	hits, err := ix.search(ctx, p.text, 2*MaxAnswers)
	if err != nil {
		return a, err
	}
	if len(hits) == 0 || !ix.confident(p, hits[0].doc) {
		return a, nil
	}
	a.Confident = true
	for _, h := range hits {
		if len(a.Answers) == MaxAnswers {
			break
		}
		a.Answers = append(a.Answers, Hit{
			ID: h.doc.cid, Kind: h.doc.kind, Title: h.doc.title,
			Services: slices.Clone(h.doc.services), Text: h.doc.text, Score: h.score,
			Scenario: h.doc.scenario, Note: h.doc.note,
		})
	}
	return a, nil
}

// confident decides whether the best document really answers the question.
// Raw scores drift between queries, so the decision rests on meaning: how
// many parts of the question the document covers, and whether the question
// is about containers at all.
func (ix *Index) confident(p prepared, top *doc) bool {
	covered, anchored := 0, false
	for _, u := range p.units {
		for _, t := range u.terms {
			if ix.anchors[t] {
				anchored = true
			}
		}
		for _, t := range u.terms {
			if top.terms[t] {
				covered++
				break
			}
		}
	}
	share := float64(covered) / float64(len(p.units))
	if anchored {
		return share >= minShareAnchored
	}
	return covered >= 2 && share >= minShare
}

// Thresholds for confident, set on the labelled questions (see eval).
var (
	minShareAnchored = 0.3
	minShare         = 0.6
)
