package quiz_test

import (
	"fmt"
	"time"

	"shipmate/quiz"
)

func ExampleParseSchedule() {
	s, err := quiz.ParseSchedule("CRON_TZ=Europe/Berlin 0 9 * * MON-FRI")
	if err != nil {
		panic(err)
	}
	fri := time.Date(2025, 6, 6, 12, 0, 0, 0, time.UTC)
	fmt.Println(s.Next(fri).UTC())

	// cron v3.0.1 panics on this one; ParseSchedule says what is wrong.
	_, err = quiz.ParseSchedule("CRON_TZ=UTC")
	fmt.Println(err)
	// Output:
	// 2025-06-09 07:00:00 +0000 UTC
	// schedule "CRON_TZ=UTC" names a time zone but has no fields after it
}

func ExampleParseConfig() {
	env := map[string]string{"QUIZ_CHANNEL": "C0123", "QUIZ_GRACE": "soon"}
	_, err := quiz.ParseConfig(func(k string) string { return env[k] })
	fmt.Println(err)
	// Output:
	// QUIZ_GRACE: "soon" is not a duration such as 2h or 90m
}
