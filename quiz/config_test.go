package quiz

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) // a Monday
	tests := []struct {
		spec string
		want time.Time // next fire after from
	}{
		{DefaultSchedule, time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)},
		{"0 9 * * MON-FRI", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)}, // no zone: UTC, not time.Local
		{"30 0 9 * * *", time.Date(2025, 6, 2, 9, 0, 30, 0, time.UTC)},   // optional seconds field
		{"@daily", time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)},
		{"@every 1h", from.Add(time.Hour)},
		{"CRON_TZ=America/New_York 0 9 * * *", time.Date(2025, 6, 2, 9, 0, 0, 0, ny)},
		{"TZ=America/New_York 0 9 * * *", time.Date(2025, 6, 2, 9, 0, 0, 0, ny)},
		{"CRON_TZ=America/New_York @daily", time.Date(2025, 6, 3, 0, 0, 0, 0, ny)},
		{"  CRON_TZ=UTC 0 9 * * MON-FRI  ", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec)
		if err != nil {
			t.Errorf("ParseSchedule(%q) error: %v", tt.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(tt.want) {
			t.Errorf("ParseSchedule(%q).Next(%v) = %v, want %v", tt.spec, from, got, tt.want)
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, want string // want: a substring of the error
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"CRON_TZ=UTC", "no fields"}, // panics inside cron v3.0.1
		{"CRON_TZ=UTC ", "no fields"},
		{"CRON_TZ=", "no fields"},
		{"TZ=", "no fields"},
		{"TZ=Europe/Berlin", "no fields"},
		{"CRON_TZ= 0 9 * * *", "empty time zone"},
		{"CRON_TZ=Nowhere/Atlantis 0 9 * * *", "Nowhere/Atlantis"},
		{"0 9 * *", "expected 5 to 6 fields"},
		{"0 9 * * * * *", "expected 5 to 6 fields"},
		{"61 9 * * *", "above maximum"},
		{"0 9 * * FUNDAY", "FUNDAY"},
		{"0 0 30 2 *", "never fires"},
		{"@sometimes", "unrecognized descriptor"},
		{"@every", "unrecognized descriptor"},
		{"@every soon", "not a duration"},
		{"@every -1h", "at least 1s"},
		{"@every 0s", "at least 1s"},
		{"CRON_TZ=UTC @every -5m", "at least 1s"},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec)
		if err == nil {
			t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", tt.spec, s, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSchedule(%q) error = %q, want it to contain %q", tt.spec, err, tt.want)
		}
	}
}

// FuzzParseSchedule checks that no input makes ParseSchedule panic; go test
// runs the seeds, go test -fuzz explores.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"CRON_TZ=UTC", "TZ=", "CRON_TZ=UTC 0 9 * * *", "@every 1h", "0 9 * * MON-FRI", "CRON_TZ=\x00 ", "*/0 * * * *", "0-99 * * * *", "@every 9999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec)
		if err == nil && s == nil {
			t.Fatalf("ParseSchedule(%q) = nil, nil", spec)
		}
	})
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := ParseConfig(env(nil))
	if err != nil {
		t.Fatalf("ParseConfig(empty) error: %v", err)
	}
	if cfg.Channel != "" || cfg.Grace != 2*time.Hour || cfg.RevealAfter != 6*time.Hour || len(cfg.Admins) != 0 {
		t.Errorf("ParseConfig(empty) = %+v, want defaults", cfg)
	}
	if got := cfg.Location(); got != time.UTC {
		t.Errorf("default Location() = %v, want UTC", got)
	}
	fri := time.Date(2025, 6, 6, 10, 0, 0, 0, time.UTC)
	if got, want := cfg.Schedule.Next(fri), time.Date(2025, 6, 9, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("default schedule Next(%v) = %v, want %v", fri, got, want)
	}

	cfg, err = ParseConfig(env(map[string]string{
		"QUIZ_CHANNEL":      " C0123 ",
		"QUIZ_SCHEDULE":     "CRON_TZ=Europe/Berlin 0 10 * * MON-FRI",
		"QUIZ_GRACE":        "30m",
		"QUIZ_REVEAL_AFTER": "4h",
		"QUIZ_ADMINS":       "U01ABC, W02DEF ,,",
	}))
	if err != nil {
		t.Fatalf("ParseConfig(full) error: %v", err)
	}
	if cfg.Channel != "C0123" || cfg.Grace != 30*time.Minute || cfg.RevealAfter != 4*time.Hour ||
		strings.Join(cfg.Admins, ",") != "U01ABC,W02DEF" || cfg.Location().String() != berlin.String() {
		t.Errorf("ParseConfig(full) = %+v", cfg)
	}
	if cfg, err := ParseConfig(env(map[string]string{"QUIZ_GRACE": "0"})); err != nil || cfg.Grace != 0 {
		t.Errorf("ParseConfig(QUIZ_GRACE=0) = %v, %v; want grace 0", cfg.Grace, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want []string // substrings of the error
	}{
		{map[string]string{"QUIZ_SCHEDULE": "CRON_TZ=UTC"}, []string{"QUIZ_SCHEDULE", "no fields"}},
		{map[string]string{"QUIZ_SCHEDULE": "every day"}, []string{"QUIZ_SCHEDULE"}},
		{map[string]string{"QUIZ_GRACE": "two hours"}, []string{"QUIZ_GRACE", "not a duration"}},
		{map[string]string{"QUIZ_GRACE": "-1h"}, []string{"QUIZ_GRACE", "negative"}},
		{map[string]string{"QUIZ_REVEAL_AFTER": "0s"}, []string{"QUIZ_REVEAL_AFTER", "positive"}},
		{map[string]string{"QUIZ_REVEAL_AFTER": "6"}, []string{"QUIZ_REVEAL_AFTER"}},
		{map[string]string{"QUIZ_ADMINS": "U01ABC,@alice"}, []string{"QUIZ_ADMINS", `"@alice"`}},
		{ // every problem at once
			map[string]string{"QUIZ_SCHEDULE": "x", "QUIZ_GRACE": "x", "QUIZ_REVEAL_AFTER": "x", "QUIZ_ADMINS": "x"},
			[]string{"QUIZ_SCHEDULE", "QUIZ_GRACE", "QUIZ_REVEAL_AFTER", "QUIZ_ADMINS"},
		},
	}
	for _, tt := range tests {
		_, err := ParseConfig(func(k string) string { return tt.env[k] })
		if err == nil {
			t.Errorf("ParseConfig(%v) = nil error, want one", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseConfig(%v) error = %q, want it to contain %q", tt.env, err, w)
			}
		}
	}
}
