package quiz

import (
	"fmt"
	"sort"
	"time"
)

// Period is the span a leaderboard covers. Periods are computed from the
// answers' quiz dates, so nothing is ever reset.
type Period int

// The leaderboard periods. Week starts on Monday; both Week and Month are
// calendar periods in the schedule's zone that contain the given time.
const (
	All Period = iota
	Week
	Month
)

// String returns "all", "week" or "month".
func (p Period) String() string {
	switch p {
	case All:
		return "all"
	case Week:
		return "week"
	case Month:
		return "month"
	}
	return fmt.Sprintf("Period(%d)", int(p))
}

// bounds returns the period containing now as [from, to); All is unbounded.
func (p Period) bounds(now time.Time, loc *time.Location) (from, to time.Time) {
	day := midnight(now, loc)
	switch p {
	case Week:
		from = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return from, from.AddDate(0, 0, 7)
	case Month:
		from = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 1, 0)
	}
	return time.Time{}, time.Time{}
}

// Score is one user's line on a leaderboard.
//
// Points: one per correct answer to a quiz posted in the period. Answers
// after the reveal and practice answers never score.
//
// Streak: the number of quiz days in a row, up to the given time, on which
// the user answered and every answer they gave that day was correct. A
// quiz day is a local date on which the channel had at least one quiz
// posted; days without a quiz (weekends, missed, skipped or paused slots)
// neither count nor break a streak. A quiz day the user did not answer
// breaks it once that day's quizzes are closed; while they are open it is
// not counted yet. Streak is the current one, whatever the period.
type Score struct {
	User     string
	Points   int
	Answered int
	Correct  int
	Accuracy float64 // Correct / Answered, 0 when nothing was answered
	Streak   int
}

// Stats is one user's record.
type Stats struct {
	User             string
	Week, Month, All Score
	BestStreak       int
	// Rank is the user's 1-based place on the all-time leaderboard, 0 if
	// they never answered.
	Rank int
}

// streak holds one user's current and best streak.
type streak struct{ current, best int }

// scoreboard computes the leaderboard for answers to quizzes posted in
// [from, to) (zero times are unbounded), with streaks as of now, sorted by
// points, then accuracy, then streak, then user id.
func scoreboard(quizzes []QuizRecord, answers []AnswerRecord, from, to, now time.Time, loc *time.Location) []Score {
	byQuiz := make(map[int64]QuizRecord, len(quizzes))
	for _, q := range quizzes {
		byQuiz[q.ID] = q
	}
	streaks := streaks(quizzes, answers, now, loc)
	rows := map[string]*Score{}
	for _, a := range answers {
		q, ok := byQuiz[a.QuizID]
		if !ok || !q.Posted() || q.PostedAt.After(now) {
			continue
		}
		if (!from.IsZero() && q.PostedAt.Before(from)) || (!to.IsZero() && !q.PostedAt.Before(to)) {
			continue
		}
		r := rows[a.User]
		if r == nil {
			r = &Score{User: a.User, Streak: streaks[a.User].current}
			rows[a.User] = r
		}
		r.Answered++
		if a.Correct {
			r.Correct++
			r.Points++
		}
	}
	out := make([]Score, 0, len(rows))
	for _, r := range rows {
		r.Accuracy = float64(r.Correct) / float64(r.Answered)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Points != b.Points:
			return a.Points > b.Points
		case a.Accuracy != b.Accuracy:
			return a.Accuracy > b.Accuracy
		case a.Streak != b.Streak:
			return a.Streak > b.Streak
		}
		return a.User < b.User
	})
	return out
}

// streaks computes every answering user's streaks as of now; see Score.
func streaks(quizzes []QuizRecord, answers []AnswerRecord, now time.Time, loc *time.Location) map[string]streak {
	type day struct {
		open    bool
		quizIDs map[int64]bool
	}
	days := map[time.Time]*day{}
	dayOf := map[int64]time.Time{}
	for _, q := range quizzes {
		if !q.Posted() || q.PostedAt.After(now) {
			continue
		}
		d := midnight(q.PostedAt, loc)
		if days[d] == nil {
			days[d] = &day{quizIDs: map[int64]bool{}}
		}
		days[d].quizIDs[q.ID] = true
		days[d].open = days[d].open || !q.closed(now)
		dayOf[q.ID] = d
	}
	order := make([]time.Time, 0, len(days))
	for d := range days {
		order = append(order, d)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Before(order[j]) })

	type tally struct{ answered, wrong int }
	perUser := map[string]map[time.Time]*tally{}
	for _, a := range answers {
		d, ok := dayOf[a.QuizID]
		if !ok {
			continue
		}
		m := perUser[a.User]
		if m == nil {
			m = map[time.Time]*tally{}
			perUser[a.User] = m
		}
		t := m[d]
		if t == nil {
			t = &tally{}
			m[d] = t
		}
		t.answered++
		if !a.Correct {
			t.wrong++
		}
	}
	out := make(map[string]streak, len(perUser))
	for user, m := range perUser {
		var s streak
		for _, d := range order {
			t := m[d]
			switch {
			case t != nil && t.wrong == 0:
				s.current++
				s.best = max(s.best, s.current)
			case t == nil && days[d].open:
				// Today's quiz is still open: not answered yet is not a miss.
			default:
				s.current = 0
			}
		}
		out[user] = s
	}
	return out
}
