package quiz

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// history builds quizzes and answers from a compact description: one entry
// per quiz, "D:u1=c,u2=w" meaning a quiz posted on June day D where u1
// answered correctly and u2 wrongly; a trailing "+" on D leaves it open.
func history(t *testing.T, quizzes ...string) ([]QuizRecord, []AnswerRecord) {
	t.Helper()
	var qs []QuizRecord
	var as []AnswerRecord
	for i, s := range quizzes {
		dayPart, answers, _ := strings.Cut(s, ":")
		open := strings.HasSuffix(dayPart, "+")
		var d int
		if _, err := fmt.Sscan(strings.TrimSuffix(dayPart, "+"), &d); err != nil {
			t.Fatalf("bad day in %q", s)
		}
		posted := day(d).Add(time.Duration(i) * time.Minute) // several quizzes a day stay in order
		q := QuizRecord{ID: int64(i + 1), Question: question(fmt.Sprint("q", i), "ecs"), PostedAt: posted, RevealAt: posted.Add(6 * time.Hour)}
		if !open {
			q.ClosedAt, q.RevealedAt = q.RevealAt, q.RevealAt
		} else {
			q.RevealAt = posted.Add(1000 * time.Hour)
		}
		qs = append(qs, q)
		if answers == "" {
			continue
		}
		for j, a := range strings.Split(answers, ",") {
			user, res, _ := strings.Cut(a, "=")
			as = append(as, AnswerRecord{QuizID: q.ID, User: user, Choice: 0, Correct: res == "c", At: posted.Add(time.Duration(j+1) * time.Second)})
		}
	}
	return qs, as
}

func TestStreaks(t *testing.T) {
	t.Parallel()
	// June 2025: 2 Mon, 3 Tue, 4 Wed, 5 Thu, 6 Fri, 7 Sat, 8 Sun, 9 Mon.
	tests := []struct {
		name    string
		quizzes []string
		now     time.Time
		user    string
		current int
		best    int
	}{
		{"every weekday right", []string{"2:u=c", "3:u=c", "4:u=c", "5:u=c", "6:u=c"}, day(6).Add(8 * time.Hour), "u", 5, 5},
		{"weekend without quizzes does not break", []string{"5:u=c", "6:u=c", "9:u=c"}, day(9).Add(8 * time.Hour), "u", 3, 3},
		{"missed or skipped slot (no quiz that day) does not break", []string{"2:u=c", "3:u=c", "5:u=c"}, day(5).Add(8 * time.Hour), "u", 3, 3},
		{"wrong answer breaks", []string{"2:u=c", "3:u=c", "4:u=w", "5:u=c"}, day(5).Add(8 * time.Hour), "u", 1, 2},
		{"not answering a closed quiz day breaks", []string{"2:u=c", "3:u=c", "4:v=c", "5:u=c"}, day(5).Add(8 * time.Hour), "u", 1, 2},
		{"today's open quiz not answered yet does not break", []string{"2:u=c", "3:u=c", "4+:v=c"}, day(4).Add(time.Hour), "u", 2, 2},
		{"today's open quiz answered right counts", []string{"2:u=c", "3:u=c", "4+:u=c"}, day(4).Add(time.Hour), "u", 3, 3},
		{"today's open quiz answered wrong breaks", []string{"2:u=c", "3:u=c", "4+:u=w"}, day(4).Add(time.Hour), "u", 0, 2},
		{"two quizzes a day, one right one unanswered: a hit", []string{"2:u=c", "3:u=c", "3:v=c"}, day(4), "u", 2, 2},
		{"two quizzes a day, one right one wrong: a miss", []string{"2:u=c", "3:u=c", "3:u=w"}, day(4), "u", 0, 1},
		{"quizzes after now are ignored", []string{"2:u=c", "3:u=w"}, day(2).Add(8 * time.Hour), "u", 1, 1},
		{"never right", []string{"2:u=w", "3:u=w"}, day(4), "u", 0, 0},
		{"late starter", []string{"2:v=c", "3:v=c", "4:u=c", "5:u=c"}, day(6), "u", 2, 2},
	}
	for _, tt := range tests {
		qs, as := history(t, tt.quizzes...)
		got := streaks(qs, as, tt.now, time.UTC)[tt.user]
		if got.current != tt.current || got.best != tt.best {
			t.Errorf("%s: streak of %s = current %d best %d, want %d %d", tt.name, tt.user, got.current, got.best, tt.current, tt.best)
		}
	}
}

func TestScoreboard(t *testing.T) {
	t.Parallel()
	// Fri 30 May (day -1), then the weeks of Mon 2 and Mon 9 June.
	//      30May 2Jun 3Jun 6Jun 8Jun(Sun) 9Jun
	//   a:   c     c    w    c     -       c
	//   b:   w     c    c    c     -       -
	//   c:   -     w    c    -     c       c
	//   d:   -     -    -    -     -       w
	qs, as := history(t,
		"-1:a=c,b=w",
		"2:a=c,b=c,c=w",
		"3:a=w,b=c,c=c",
		"6:a=c,b=c",
		"8:c=c",
		"9:a=c,c=c,d=w",
	)
	now := day(9).Add(8 * time.Hour)
	tests := []struct {
		period Period
		now    time.Time
		want   []string // "user points answered correct accuracy streak"
	}{
		{All, now, []string{
			"a 4 5 4 0.80 1",
			"c 3 4 3 0.75 2", // ties with b on points and accuracy; the longer streak first
			"b 3 4 3 0.75 0",
			"d 0 1 0 0.00 0",
		}},
		{Week, day(4), []string{ // week of 2 June as of Wednesday 09:00: Fri and Sun not posted yet
			"b 2 2 2 1.00 2",
			"c 1 2 1 0.50 1",
			"a 1 2 1 0.50 0",
		}},
		{Week, now, []string{ // week of 9 June
			"c 1 1 1 1.00 2",
			"a 1 1 1 1.00 1",
			"d 0 1 0 0.00 0",
		}},
		{Month, now, []string{ // June only: the 30 May quiz is out
			"b 3 3 3 1.00 0",
			"c 3 4 3 0.75 2",
			"a 3 4 3 0.75 1",
			"d 0 1 0 0.00 0",
		}},
		{Month, time.Date(2025, 5, 31, 0, 0, 0, 0, time.UTC), []string{
			"a 1 1 1 1.00 1",
			"b 0 1 0 0.00 0",
		}},
	}
	for _, tt := range tests {
		from, to := tt.period.bounds(tt.now, time.UTC)
		var got []string
		for _, s := range scoreboard(qs, as, from, to, tt.now, time.UTC) {
			got = append(got, fmt.Sprintf("%s %d %d %d %.2f %d", s.User, s.Points, s.Answered, s.Correct, s.Accuracy, s.Streak))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("scoreboard(%v at %v) =\n%s\nwant\n%s", tt.period, tt.now, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestPeriodBounds(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		period   Period
		now      time.Time
		from, to time.Time
	}{
		{Week, time.Date(2025, 6, 4, 15, 0, 0, 0, time.UTC), time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)},
		{Week, time.Date(2025, 6, 8, 23, 59, 0, 0, time.UTC), time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)},
		{Week, time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)},
		{Month, time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		// Monday 02:00 UTC is still Sunday in New York.
		{Week, time.Date(2025, 6, 9, 2, 0, 0, 0, time.UTC), time.Date(2025, 6, 2, 0, 0, 0, 0, ny), time.Date(2025, 6, 9, 0, 0, 0, 0, ny)},
		{All, time.Date(2025, 6, 9, 2, 0, 0, 0, time.UTC), time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		loc := time.UTC
		if tt.from.Location() == ny {
			loc = ny
		}
		from, to := tt.period.bounds(tt.now, loc)
		if !from.Equal(tt.from) || !to.Equal(tt.to) {
			t.Errorf("%v.bounds(%v) = %v, %v; want %v, %v", tt.period, tt.now, from, to, tt.from, tt.to)
		}
	}
	if got := fmt.Sprint(All, Week, Month, Period(9)); got != "all week month Period(9)" {
		t.Errorf("Period strings = %q", got)
	}
}
