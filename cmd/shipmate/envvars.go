package main

// envVar is one environment variable the program reads.
type envVar struct {
	Name    string
	Default string // the value an unset variable stands for; empty if none
	Help    string
}

// envVars lists every environment variable Shipmate reads, in the order
// .env.example shows them. It is the single source of truth for the docs:
// deploy_test.go checks .env.example and every manifest under deploy/
// against it, so a variable cannot be added, renamed or dropped in one
// place only.
var envVars = []envVar{
	{"SLACK_BOT_TOKEN", "", "Required by serve. Bot User OAuth Token (xoxb-…) from api.slack.com/apps → your app → OAuth & Permissions."},
	{"SLACK_APP_TOKEN", "", "Required by serve. App-level token (xapp-…) with the connections:write scope from api.slack.com/apps → your app → Basic Information → App-Level Tokens."},
	{"SLACK_API_URL", "https://slack.com/api/", "Base URL of Slack's Web API, with a trailing slash; change it only for GovSlack or a test server."},
	{"HTTP_ADDR", "", "Address for the health (/healthz), readiness (/readyz) and Prometheus (/metrics) endpoints, such as :8080; :0 picks a free port; empty turns them off. The container image sets :8080. `shipmate healthcheck` asks /readyz on it."},
	{"SHUTDOWN_GRACE", "3s", "How long in-flight replies may take after SIGTERM before they are cancelled (each one logged)."},
	{"SLACK_CALL_TIMEOUT", "10s", "Timeout of one HTTP request to Slack; a request that times out is retried, as are 429s (after Retry-After), 5xx and network errors, until the reply's deadline."},
	{"SLACK_DOWN_EXIT_AFTER", "10m", "serve exits with an error once Slack has been out of reach this long, so the orchestrator restarts it; 0 never exits."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"LOG_FORMAT", "json", "json or text."},
	{"CONTENT_DIR", "", "Directory of a team's own knowledge base (check it with `shipmate validate DIR`); empty serves the built-in one."},
	{"DATA_DIR", "data", "Directory of the quiz's SQLite store (shipmate.db), relative to the working directory unless absolute; put it on storage that survives restarts. The container image sets /data."},
	{"DATABASE_URL", "", "postgres://user:password@host:5432/db?sslmode=require selects a PostgreSQL store instead of SQLite, for running more than one replica; empty uses SQLite under DATA_DIR. Keep it in a secret: it holds the password."},
	{"QUIZ_CHANNEL", "", "Channel id (C…) the scheduled quiz is posted to; empty means no scheduled quiz."},
	{"QUIZ_SCHEDULE", "CRON_TZ=UTC 0 9 * * MON-FRI", "When the quiz is posted: a robfig/cron spec, five fields (minute first) or six (seconds first), optionally prefixed by CRON_TZ=Zone."},
	{"QUIZ_GRACE", "2h", "How late a quiz missed while the bot was down may still be posted; 0 never posts late."},
	{"QUIZ_REVEAL_AFTER", "6h", "How long a quiz stays open before its answer is revealed."},
	{"QUIZ_ADMINS", "", "Comma-separated Slack user ids (U…) allowed to run the quiz admin commands; empty means nobody."},
	{"THREAD_FOLLOWUPS", "on", "on or off: answer follow-up questions without a mention in threads Shipmate answered in. Off takes effect on restart, without re-installing the app."},
	{"ADMINS", "", "Comma-separated Slack user ids (U…) allowed to read `/shipmate gaps`; unset means QUIZ_ADMINS."},
	{"GAPS_CHANNEL", "", "Channel id (C…) for the weekly digest of questions without a good answer; empty means no digest."},
	{"GAPS_SCHEDULE", "CRON_TZ=UTC 0 9 * * MON", "When the gaps digest is posted: a robfig/cron spec, as QUIZ_SCHEDULE."},
	{"GAPS_RETENTION", "90d", "How long declined questions, Not helpful clicks and clarifications are kept: days (90d) or a Go duration (2160h)."},
	{"GOGC", "", "From the environment, not .env (the Go runtime reads it at start): the garbage collector's target (percent). Unset, serve builds its index at 400, under three quarters of the container's memory limit, and then runs at Go's default of 100; set (or GOMEMLIMIT set), it holds throughout."},
	{"GOMEMLIMIT", "", "From the environment, not .env: Go's soft memory limit, such as 200MiB. Set, serve leaves the collector's settings alone during start-up too (see GOGC)."},
	{"NO_COLOR", "", "Terminal commands (chat, ask, quiz) only, from the environment, not .env: any value turns colour off (no-color.org). Colour is used only on a terminal anyway."},
	{"TERM", "", "Terminal commands only, set by the terminal itself: dumb turns colour off."},
}
