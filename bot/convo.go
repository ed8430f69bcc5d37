package bot

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"shipmate/quiz"
)

// Conversation configures the conversation features: thread follow-ups,
// the learning loop and its digest.
type Conversation struct {
	// Followups answers, without a new mention, questions asked in a thread
	// Shipmate answered in (THREAD_FOLLOWUPS, on by default).
	Followups bool
	// Admins may read the learning loop with `/shipmate gaps` (ADMINS, or
	// QUIZ_ADMINS when ADMINS is unset).
	Admins []string
	// GapsChannel receives the gaps digest (GAPS_CHANNEL); empty: no digest.
	GapsChannel string
	// GapsSchedule says when the digest is posted (GAPS_SCHEDULE).
	GapsSchedule cron.Schedule
	// GapsRetention is how long the learning loop's records are kept
	// (GAPS_RETENTION).
	GapsRetention time.Duration
}

// Defaults of the conversation settings.
const (
	DefaultGapsSchedule  = "CRON_TZ=UTC 0 9 * * MON"
	DefaultGapsRetention = 90 * 24 * time.Hour
)

// IsAdmin reports whether user may read the learning loop.
func (c Conversation) IsAdmin(user string) bool {
	return user != "" && slices.Contains(c.Admins, user)
}

var (
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
)

// ParseConversation reads THREAD_FOLLOWUPS, ADMINS (or QUIZ_ADMINS),
// GAPS_CHANNEL, GAPS_SCHEDULE and GAPS_RETENTION through getenv. Every
// problem is reported, each naming its variable.
func ParseConversation(getenv func(string) string) (Conversation, error) {
	c := Conversation{Followups: true, GapsRetention: DefaultGapsRetention}
	var errs []error
	switch v := strings.ToLower(strings.TrimSpace(getenv("THREAD_FOLLOWUPS"))); v {
	case "", "on", "true", "1", "yes":
	case "off", "false", "0", "no":
		c.Followups = false
	default:
		errs = append(errs, fmt.Errorf("THREAD_FOLLOWUPS: %q is neither on nor off", v))
	}

	admins, name := getenv("ADMINS"), "ADMINS"
	if strings.TrimSpace(admins) == "" {
		admins, name = getenv("QUIZ_ADMINS"), "QUIZ_ADMINS"
	}
	for _, id := range strings.Split(admins, ",") {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
		case !userID.MatchString(id):
			errs = append(errs, fmt.Errorf("%s: %q is not a Slack user id (like U012AB3CD)", name, id))
		default:
			c.Admins = append(c.Admins, id)
		}
	}

	c.GapsChannel = strings.TrimSpace(getenv("GAPS_CHANNEL"))
	if c.GapsChannel != "" && !channelID.MatchString(c.GapsChannel) {
		errs = append(errs, fmt.Errorf("GAPS_CHANNEL: %q is not a channel id (like C012AB3CD)", c.GapsChannel))
	}
	spec := strings.TrimSpace(getenv("GAPS_SCHEDULE"))
	if spec == "" {
		spec = DefaultGapsSchedule
	}
	s, err := quiz.ParseSchedule(spec)
	if err != nil {
		errs = append(errs, fmt.Errorf("GAPS_SCHEDULE: %w (example: %q)", err, DefaultGapsSchedule))
	}
	c.GapsSchedule = s

	if v := strings.TrimSpace(getenv("GAPS_RETENTION")); v != "" {
		d, err := parseDays(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("GAPS_RETENTION: %q is not a duration such as 90d or 720h", v))
		case d < 24*time.Hour:
			errs = append(errs, fmt.Errorf("GAPS_RETENTION: %q is less than a day", v))
		default:
			c.GapsRetention = d
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// parseDays reads a Go duration, or a whole number of days such as "90d".
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("bad number of days %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
