package index

import (
	"context"
	"slices"
	"strings"

	"shipmate/content"
)

// Query is a question and the conversation it belongs to.
type Query struct {
	// Text is the question as the user typed it.
	Text string
	// History holds the earlier turns of the same conversation, oldest
	// first, so a follow-up ("what about cost?") is read in their context.
	History []Turn
}

// Turn is an earlier question in a conversation and what was answered.
type Turn struct {
	Question string `json:"question"`
	// Services are those of the answer given, if any.
	Services []string `json:"services,omitempty"`
}

// Answer is what Shipmate says to a question.
type Answer struct {
	Question string `json:"question"`
	// Confident is false when the question is outside what the knowledge
	// base covers; Answers is then empty.
	Confident bool `json:"confident"`
	// Answers holds the recommendation first, then up to three runners-up.
	Answers []Hit `json:"answers"`
	// Clarify, when set, asks back: two answers are close and one
	// requirement would settle it. Answers still holds the best guess.
	Clarify *Clarify `json:"clarify,omitempty"`
	// Verdict answers "can X do Y?" (or says why the service the user is
	// leaving cannot meet a need) from the capabilities, when they settle it.
	Verdict *Verdict `json:"-"`
}

// Clarify is a question back to the user with the answers to choose from.
type Clarify struct {
	Question string          `json:"question"`
	Options  []ClarifyOption `json:"options"`
}

// ClarifyOption is one choice: its label and the question to ask with it.
type ClarifyOption struct {
	Label    string `json:"label"`
	Question string `json:"question"`
}

// Top returns the recommendation, or nil when there is none.
func (a *Answer) Top() *Hit {
	if !a.Confident || len(a.Answers) == 0 {
		return nil
	}
	return &a.Answers[0]
}

// Hit is one scenario or note that answers a question. The renderers turn
// it into text.
type Hit struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	Services []string `json:"services"`
	Score    float64  `json:"score"`

	// Scenario is set for kind "scenario".
	Scenario *content.Scenario `json:"-"`
	// Note is the note itself for kind "note", the related note for a scenario.
	Note *content.Note `json:"-"`
	// Caveats of the recommended services, or of the services a note is about.
	Caveats []string `json:"-"`
}

// Contains reports whether word occurs, ignoring case, in what the hit
// says: a scenario's recommendation, reasons, alternatives and caveats, or
// a note's title, caveats and body.
func (h *Hit) Contains(word string) bool {
	word = strings.ToLower(word)
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), word) }
	if s := h.Scenario; s != nil {
		if has(s.Answer) || has(s.Because) || slices.ContainsFunc(h.Caveats, has) {
			return true
		}
		for _, a := range s.Consider {
			if has(a.When) || slices.ContainsFunc(a.Use, has) {
				return true
			}
		}
		return h.Note != nil && has(h.Note.Title)
	}
	return h.Note != nil && (has(h.Note.Title) || has(h.Note.Body) || slices.ContainsFunc(h.Caveats, has))
}

// trace is every stage's result for one question: Answer is built from it
// and Explain prints it.
type trace struct {
	query     Query
	norm      normalized
	und       understanding
	retrieved []candidate
	ranked    []candidate
	dec       decision
}

// run takes a question through the five stages.
func (ix *Index) run(ctx context.Context, q Query) (*trace, error) {
	t := &trace{query: q}
	t.norm = normalise(q.Text, ix.lex.whole)
	t.und = ix.understand(t.norm, q.History)
	if len(t.und.units) > 0 {
		var err error
		if t.retrieved, err = ix.retrieve(ctx, &t.und); err != nil {
			return t, err
		}
		t.ranked = ix.rank(&t.und, t.retrieved)
	}
	t.dec = ix.decide(&t.und, t.ranked, q.Text)
	return t, ctx.Err()
}

// Answer answers a question typed by a user. Any text is accepted: markup,
// query syntax and very long input are made safe, and a question outside the
// knowledge base gets an Answer with Confident false rather than a guess.
// The error is non-nil only if ctx ends or the index is closed.
//
// A question asked without history is answered from a cache when it was
// asked before: the content does not change while the process runs.
func (ix *Index) Answer(ctx context.Context, q Query) (Answer, error) {
	cacheable := len(q.History) == 0 && len(q.Text) <= maxCachedQuestion
	if cacheable {
		if a, ok := ix.answers.Get(q.Text); ok {
			return a.clone(), nil
		}
	}
	a, err := ix.answer(ctx, q)
	if err == nil && cacheable {
		ix.answers.Add(q.Text, a.clone())
	}
	return a, err
}

// Bounds of the answer cache: how many questions, and how long one may be
// (longer ones are rare, and not asked twice).
const (
	answerCacheSize   = 2048
	maxCachedQuestion = 512
)

// clone copies what a caller could change in place: the answers and their
// services.
func (a Answer) clone() Answer {
	a.Answers = slices.Clone(a.Answers)
	for i := range a.Answers {
		a.Answers[i].Services = slices.Clone(a.Answers[i].Services)
	}
	return a
}

func (ix *Index) answer(ctx context.Context, q Query) (Answer, error) {
	a := Answer{Question: q.Text, Answers: []Hit{}}
	t, err := ix.run(ctx, q)
	if err != nil || !t.dec.confident {
		return a, err
	}
	a.Confident = true
	a.Clarify = t.dec.clarify
	a.Verdict = t.und.verdict
	for _, c := range t.ranked {
		if len(a.Answers) == MaxAnswers {
			break
		}
		d := c.doc
		a.Answers = append(a.Answers, Hit{
			ID: d.cid, Kind: d.kind, Title: d.title,
			Services: slices.Clone(d.services), Score: c.score,
			Scenario: d.scenario, Note: d.note, Caveats: d.caveats,
		})
	}
	return a, nil
}
