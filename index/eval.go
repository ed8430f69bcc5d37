package index

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Labelled is one labelled question, in the JSON Lines format of the eval
// files: {"q": "...", "expect": [["ecs","fargate"],["eks"]], "mention": ["spot"]}
// or {"q": "...", "expect": "none"} for a question Shipmate must decline.
type Labelled struct {
	Question string
	// Expect lists alternatives; each is a set of service ids that must all
	// be among the top answer's services. Empty means "decline".
	Expect [][]string
	// Mention lists words the top answer's text must contain.
	Mention []string
	Line    int
}

// ReadLabelled reads labelled questions, one JSON object per line.
func ReadLabelled(r io.Reader) ([]Labelled, error) {
	var out []Labelled
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "//") {
			continue
		}
		var raw struct {
			Q       string          `json:"q"`
			Expect  json.RawMessage `json:"expect"`
			Mention []string        `json:"mention"`
		}
		if err := json.Unmarshal([]byte(text), &raw); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		l := Labelled{Question: raw.Q, Mention: raw.Mention, Line: line}
		var none string
		if err := json.Unmarshal(raw.Expect, &none); err == nil {
			if none != "none" {
				return nil, fmt.Errorf("line %d: expect must be \"none\" or a list of lists of service ids", line)
			}
		} else if err := json.Unmarshal(raw.Expect, &l.Expect); err != nil || len(l.Expect) == 0 {
			return nil, fmt.Errorf("line %d: expect must be \"none\" or a list of lists of service ids", line)
		}
		if l.Question == "" {
			return nil, fmt.Errorf("line %d: missing \"q\"", line)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// Report is the result of answering a labelled set.
type Report struct {
	Answerable, Correct   int // precision@1 = Correct / Answerable
	OutOfDomain, Declined int
	ReciprocalRank        float64 // summed over answerable questions
	Misses                []Miss
}

// Miss is a labelled question answered wrongly.
type Miss struct {
	Labelled
	Got Answer
}

// Precision is precision@1 on answerable questions.
func (r Report) Precision() float64 { return ratio(r.Correct, r.Answerable) }

// Abstention is the share of out-of-domain questions declined.
func (r Report) Abstention() float64 { return ratio(r.Declined, r.OutOfDomain) }

// MRR is the mean reciprocal rank of the first right answer.
func (r Report) MRR() float64 {
	if r.Answerable == 0 {
		return 0
	}
	return r.ReciprocalRank / float64(r.Answerable)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Evaluate answers every labelled question and scores the answers.
func (ix *Index) Evaluate(ctx context.Context, set []Labelled) (Report, error) {
	var r Report
	for _, l := range set {
		a, err := ix.Answer(ctx, Query{Text: l.Question})
		if err != nil {
			return r, err
		}
		if len(l.Expect) == 0 {
			r.OutOfDomain++
			if !a.Confident {
				r.Declined++
			} else {
				r.Misses = append(r.Misses, Miss{l, a})
			}
			continue
		}
		r.Answerable++
		for i, h := range a.Answers {
			if l.Matches(h) {
				if i == 0 {
					r.Correct++
				}
				r.ReciprocalRank += 1 / float64(i+1)
				break
			}
		}
		if top := a.Top(); top == nil || !l.Matches(*top) {
			r.Misses = append(r.Misses, Miss{l, a})
		}
	}
	return r, nil
}

// Matches reports whether h is a right answer to l.
func (l Labelled) Matches(h Hit) bool {
	for _, m := range l.Mention {
		if !h.Contains(m) {
			return false
		}
	}
	for _, alt := range l.Expect {
		ok := true
		for _, s := range alt {
			if !slices.Contains(h.Services, s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Write prints the report: the figures, then each miss with what was returned.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "precision@1  %5.1f%%  (%d/%d answerable)\n", 100*r.Precision(), r.Correct, r.Answerable)
	fmt.Fprintf(w, "declined     %5.1f%%  (%d/%d out of domain)\n", 100*r.Abstention(), r.Declined, r.OutOfDomain)
	fmt.Fprintf(w, "MRR          %6.3f\n", r.MRR())
	if len(r.Misses) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d misses:\n", len(r.Misses))
	for _, m := range r.Misses {
		want := "decline"
		if len(m.Expect) > 0 {
			alts := make([]string, len(m.Expect))
			for i, a := range m.Expect {
				alts[i] = strings.Join(a, "+")
			}
			want = strings.Join(alts, " or ")
			if len(m.Mention) > 0 {
				want += fmt.Sprintf(" mentioning %q", m.Mention)
			}
		}
		fmt.Fprintf(w, "- line %d: %q\n    want %s\n", m.Line, m.Question, want)
		if !m.Got.Confident {
			fmt.Fprintf(w, "    got  no confident answer\n")
			continue
		}
		for i, h := range m.Got.Answers {
			fmt.Fprintf(w, "    got%d %s %s [%s] %.3f\n", i+1, h.Kind, h.ID, strings.Join(h.Services, "+"), h.Score)
		}
	}
}
