package quiz

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultSchedule is used when QUIZ_SCHEDULE is unset: 09:00 UTC, Monday to Friday.
const DefaultSchedule = "CRON_TZ=UTC 0 9 * * MON-FRI"

// Defaults for the durations in Config.
const (
	DefaultGrace       = 2 * time.Hour
	DefaultRevealAfter = 6 * time.Hour
)

// Config is the quiz's configuration, read from the environment by ParseConfig.
type Config struct {
	// Channel is the Slack channel id the scheduled quiz is posted to.
	// Empty means no scheduled quiz (and nowhere for PostNow to post).
	Channel string
	// Schedule says when quizzes are due; see ParseSchedule.
	Schedule cron.Schedule
	// Grace is how long after its time a slot may still be posted (marked late)
	// when the bot was down at that time. Zero means never post late: a slot
	// is still posted within a minute of its time (a timer fires a little
	// after it), never later.
	Grace time.Duration
	// RevealAfter is how long a quiz stays open before the answer is revealed.
	// A quiz is also revealed when the next one is posted.
	RevealAfter time.Duration
	// Admins are the Slack user ids allowed to run admin commands.
	// Empty means nobody is.
	Admins []string
}

// Location is the time zone the schedule's wall clock is read in: the
// CRON_TZ of the spec, or UTC. Days for streaks, reviews and leaderboard
// periods are counted in it too.
func (c Config) Location() *time.Location {
	return scheduleLocation(c.Schedule)
}

func scheduleLocation(s cron.Schedule) *time.Location {
	if spec, ok := s.(*cron.SpecSchedule); ok && spec.Location != nil && spec.Location != time.Local {
		return spec.Location
	}
	return time.UTC
}

var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// ParseConfig reads QUIZ_CHANNEL, QUIZ_SCHEDULE, QUIZ_GRACE, QUIZ_REVEAL_AFTER
// and QUIZ_ADMINS through getenv, applying the defaults above. Every problem
// is reported, each naming its variable.
func ParseConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		Channel:     strings.TrimSpace(getenv("QUIZ_CHANNEL")),
		Grace:       DefaultGrace,
		RevealAfter: DefaultRevealAfter,
	}
	var errs []error

	spec := strings.TrimSpace(getenv("QUIZ_SCHEDULE"))
	if spec == "" {
		spec = DefaultSchedule
	}
	s, err := ParseSchedule(spec)
	if err != nil {
		errs = append(errs, fmt.Errorf("QUIZ_SCHEDULE: %w (example: %q)", err, DefaultSchedule))
	}
	cfg.Schedule = s

	if v := strings.TrimSpace(getenv("QUIZ_GRACE")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("QUIZ_GRACE: %q is not a duration such as 2h or 90m", v))
		case d < 0:
			errs = append(errs, fmt.Errorf("QUIZ_GRACE: %q is negative", v))
		default:
			cfg.Grace = d
		}
	}
	if v := strings.TrimSpace(getenv("QUIZ_REVEAL_AFTER")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("QUIZ_REVEAL_AFTER: %q is not a duration such as 6h or 90m", v))
		case d <= 0:
			errs = append(errs, fmt.Errorf("QUIZ_REVEAL_AFTER: %q must be positive", v))
		default:
			cfg.RevealAfter = d
		}
	}
	for _, id := range strings.Split(getenv("QUIZ_ADMINS"), ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !userIDPattern.MatchString(id) {
			errs = append(errs, fmt.Errorf("QUIZ_ADMINS: %q is not a Slack user id (like U012AB3CD)", id))
			continue
		}
		cfg.Admins = append(cfg.Admins, id)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a robfig/cron/v3 spec: five fields (minute first) or
// six (seconds first), a descriptor such as @daily or "@every 1h", each
// optionally prefixed by "CRON_TZ=Zone " (or "TZ=Zone "). Without a zone the
// spec is read in UTC, not the host's local zone, so that slot keys do not
// change when the host's TZ does. A bad spec, including those that make the
// cron parser panic and those that never fire, returns an error.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("schedule is empty")
	}
	body, hasZone := spec, false
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(spec, p); ok {
			zone, fields, ok := strings.Cut(rest, " ")
			if !ok || strings.TrimSpace(fields) == "" {
				return nil, fmt.Errorf("schedule %q names a time zone but has no fields after it", spec)
			}
			if zone == "" {
				return nil, fmt.Errorf("schedule %q has an empty time zone", spec)
			}
			body, hasZone = strings.TrimSpace(fields), true
			break
		}
	}
	if rest, ok := strings.CutPrefix(body, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %q is not a duration", spec, rest)
		}
		if d < time.Second {
			return nil, fmt.Errorf("schedule %q: @every needs a duration of at least 1s", spec)
		}
	}
	// cron v3.0.1 panics on some malformed specs (issues #470, #554); the
	// checks above catch the known ones and this catches the rest.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schedule %q is malformed (%v)", spec, r)
		}
	}()
	s, err = scheduleParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	if ss, ok := s.(*cron.SpecSchedule); ok && !hasZone {
		ss.Location = time.UTC
	}
	// A fixed reference keeps parsing independent of the clock; the parser
	// looks five years ahead, which covers Feb 29.
	if s.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires", spec)
	}
	return s, nil
}
