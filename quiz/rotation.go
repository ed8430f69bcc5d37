package quiz

import (
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"shipmate/content"
)

// Review ladder: a question the team got mostly wrong comes back after
// reviewAfter[0] days, then reviewAfter[1] days after that, then
// reviewAfter[2]; getting it mostly wrong again starts the ladder over.
var reviewAfter = [...]int{3, 7, 21}

// A quiz is "mostly wrong" with at least minReviewAnswers answers and fewer
// than half of them correct.
const minReviewAnswers = 3

func mostlyWrong(r QuizRecord) bool {
	return r.Answered >= minReviewAnswers && r.Correct*2 < r.Answered
}

// pick is the next question to ask.
type pick struct {
	Question content.Question
	Cycle    int
	Review   bool
}

// choose picks the next question from bank given the posted quizzes of the
// channel (history, any order) at now; dates are read in now's location.
// It is a pure function of its arguments:
//
//  1. A due review comes first: the question with the earliest due date
//     (then the smallest id) that is still in the bank, at most one review
//     a day.
//  2. Otherwise the current cycle goes on: questions in the bank not yet
//     asked (other than as a review) in this cycle, from the topic asked
//     least in this cycle. When the bank is used up a new cycle starts,
//     with any question but the one asked last (unless it is the only one).
//     Ties between topics and the question within the topic are drawn
//     with a PRNG seeded by seed and the length of history.
//
// Questions removed from the bank are never picked; new ones join the
// current cycle.
func choose(bank []content.Question, history []QuizRecord, now time.Time, seed uint64) (pick, bool) {
	if len(bank) == 0 {
		return pick{}, false
	}
	loc := now.Location()
	byID := make(map[string]content.Question, len(bank))
	for _, q := range bank {
		byID[q.ID] = q
	}
	history = slices.Clone(history)
	sort.SliceStable(history, func(i, j int) bool {
		if !history[i].PostedAt.Equal(history[j].PostedAt) {
			return history[i].PostedAt.Before(history[j].PostedAt)
		}
		return history[i].ID < history[j].ID
	})

	cycle := 1
	for _, h := range history {
		if !h.Review && h.Cycle > cycle {
			cycle = h.Cycle
		}
	}

	if q, ok := dueReview(byID, history, now, loc); ok {
		return pick{Question: q, Cycle: cycle, Review: true}, true
	}

	asked := map[string]bool{}
	topicCount := map[string]int{}
	for _, h := range history {
		if h.Review || h.Cycle != cycle {
			continue
		}
		if _, inBank := byID[h.Question.ID]; !inBank {
			continue
		}
		asked[h.Question.ID] = true
		topicCount[h.Question.Topic]++
	}
	var remaining []content.Question
	for _, q := range bank {
		if !asked[q.ID] {
			remaining = append(remaining, q)
		}
	}
	if len(remaining) == 0 {
		cycle++
		clear(topicCount)
		remaining = bank
		// Not the same question two quizzes running: the new cycle does
		// not start with the one asked last.
		if len(bank) > 1 && len(history) > 0 {
			last := history[len(history)-1].Question.ID
			remaining = slices.DeleteFunc(slices.Clone(bank), func(q content.Question) bool { return q.ID == last })
		}
	}

	byTopic := map[string][]content.Question{}
	for _, q := range remaining {
		byTopic[q.Topic] = append(byTopic[q.Topic], q)
	}
	var topics []string
	least := -1
	for t := range byTopic {
		switch c := topicCount[t]; {
		case least < 0 || c < least:
			least, topics = c, []string{t}
		case c == least:
			topics = append(topics, t)
		}
	}
	sort.Strings(topics)
	rng := rand.New(rand.NewPCG(seed, uint64(len(history))))
	candidates := byTopic[topics[rng.IntN(len(topics))]]
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].ID < candidates[j].ID })
	return pick{Question: candidates[rng.IntN(len(candidates))], Cycle: cycle}, true
}

// ladder is the review state of one question.
type ladder struct {
	stage int       // 0: not under review; n: waiting for review n
	due   time.Time // local midnight of the day the review is due
}

// dueReview returns the review due at now, if any. history is sorted oldest first.
func dueReview(byID map[string]content.Question, history []QuizRecord, now time.Time, loc *time.Location) (content.Question, bool) {
	today := midnight(now, loc)
	state := map[string]ladder{}
	for _, h := range history {
		if h.Review && midnight(h.PostedAt, loc).Equal(today) {
			return content.Question{}, false // one review a day
		}
		id := h.Question.ID
		l := state[id]
		switch {
		case mostlyWrong(h):
			l = ladder{stage: 1, due: midnight(h.PostedAt, loc).AddDate(0, 0, reviewAfter[0])}
		case l.stage == len(reviewAfter):
			l = ladder{}
		case l.stage > 0:
			l = ladder{stage: l.stage + 1, due: midnight(h.PostedAt, loc).AddDate(0, 0, reviewAfter[l.stage])}
		}
		state[id] = l
	}
	var best string
	var bestDue time.Time
	for id, l := range state {
		if l.stage == 0 || l.due.After(today) {
			continue
		}
		if _, ok := byID[id]; !ok {
			continue
		}
		if best == "" || l.due.Before(bestDue) || (l.due.Equal(bestDue) && id < best) {
			best, bestDue = id, l.due
		}
	}
	if best == "" {
		return content.Question{}, false
	}
	return byID[best], true
}

// midnight returns the start of t's day in loc.
func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// maxChoices is the most choices a question may have: the answer buttons
// are labelled A to E (the content loader enforces the same).
const maxChoices = 5

// validBank keeps the questions that can be asked, sorted by id, first of
// each id; it returns the ids it dropped.
func validBank(qs []content.Question) (bank []content.Question, dropped []string) {
	seen := map[string]bool{}
	for _, q := range qs {
		if q.ID == "" || seen[q.ID] || len(q.Choices) < 2 || len(q.Choices) > maxChoices || q.Correct() < 0 {
			dropped = append(dropped, q.ID)
			continue
		}
		seen[q.ID] = true
		bank = append(bank, q)
	}
	sort.Slice(bank, func(i, j int) bool { return bank[i].ID < bank[j].ID })
	return bank, dropped
}
