package bot

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Secret is a credential. It prints and logs as REDACTED so it cannot leak
// by accident; Reveal returns the value for the one place that needs it.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "REDACTED" }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// GoString implements fmt.GoStringer, so %#v does not leak it either.
func (Secret) GoString() string { return `"REDACTED"` }

// MarshalJSON implements json.Marshaler: slog's JSON handler encodes a
// struct holding a Secret (a Config, say) with encoding/json, which does not
// call LogValue on fields.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"REDACTED"`), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Config is the Slack side of Shipmate's configuration.
type Config struct {
	BotToken Secret // SLACK_BOT_TOKEN, xoxb-…
	AppToken Secret // SLACK_APP_TOKEN, xapp-…
	APIURL   string // SLACK_API_URL, with a trailing slash

	// ShutdownGrace (SHUTDOWN_GRACE) is how long in-flight replies may take
	// after SIGTERM before they are cancelled (default 3 s).
	ShutdownGrace time.Duration
	// CallTimeout (SLACK_CALL_TIMEOUT) bounds one HTTP request to Slack;
	// a call that times out is retried (default 10 s).
	CallTimeout time.Duration
	// DownExitAfter (SLACK_DOWN_EXIT_AFTER) makes Run fail once Slack has
	// been out of reach this long, so an orchestrator restarts the process
	// instead of keeping it "running" dead (default 10 min; 0 never).
	DownExitAfter time.Duration
}

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// ParseConfig reads the Slack settings. Its errors say which variable is
// wrong and where to get a right value, and never include a token.
func ParseConfig(getenv func(string) string) (Config, error) {
	c := Config{APIURL: DefaultAPIURL, ShutdownGrace: DefaultShutdownGrace, CallTimeout: DefaultCallTimeout, DownExitAfter: DefaultDownExitAfter}
	var problems []string
	duration := func(name, s string, dst *time.Duration, zeroOK bool) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		switch {
		case err != nil || d < 0:
			problems = append(problems, fmt.Sprintf("%s %q is not a duration such as 3s or 10m", name, s))
		case d == 0 && !zeroOK:
			problems = append(problems, fmt.Sprintf("%s must be more than 0", name))
		default:
			*dst = d
		}
	}
	duration("SHUTDOWN_GRACE", getenv("SHUTDOWN_GRACE"), &c.ShutdownGrace, false)
	duration("SLACK_CALL_TIMEOUT", getenv("SLACK_CALL_TIMEOUT"), &c.CallTimeout, false)
	duration("SLACK_DOWN_EXIT_AFTER", getenv("SLACK_DOWN_EXIT_AFTER"), &c.DownExitAfter, true)
	bot := strings.TrimSpace(getenv("SLACK_BOT_TOKEN"))
	switch {
	case bot == "":
		problems = append(problems, "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (it begins with xoxb) from your app's OAuth & Permissions page at https://api.slack.com/apps")
	case !strings.HasPrefix(bot, "xoxb-"):
		problems = append(problems, "SLACK_BOT_TOKEN must be a bot token, the one that begins with xoxb (OAuth & Permissions page of your app at https://api.slack.com/apps)")
	}
	app := strings.TrimSpace(getenv("SLACK_APP_TOKEN"))
	switch {
	case app == "":
		problems = append(problems, "SLACK_APP_TOKEN is not set: create an app-level token with the connections:write scope (it begins with xapp) under Basic Information → App-Level Tokens at https://api.slack.com/apps")
	case !strings.HasPrefix(app, "xapp-"):
		problems = append(problems, "SLACK_APP_TOKEN must be an app-level token, the one that begins with xapp (Basic Information → App-Level Tokens, scope connections:write)")
	}
	if u := strings.TrimSpace(getenv("SLACK_API_URL")); u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			problems = append(problems, fmt.Sprintf("SLACK_API_URL %q is not an http(s) URL (default %s)", u, DefaultAPIURL))
		} else {
			if !strings.HasSuffix(u, "/") {
				u += "/"
			}
			c.APIURL = u
		}
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("slack configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	c.BotToken, c.AppToken = Secret(bot), Secret(app)
	return c, nil
}
