package bot_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/internal/fakeslack"
)

// Tokens that look real enough and are easy to find in logs.
const (
	secretBot = "xoxb-1234-5678-sEcReTbOtToKeN"
	secretApp = "xapp-1-A1-9876-sEcReTaPpToKeN"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // each must appear in the error; none means no error
	}{
		{"missing bot token", map[string]string{"SLACK_APP_TOKEN": secretApp},
			[]string{"SLACK_BOT_TOKEN is not set"}},
		{"missing app token", map[string]string{"SLACK_BOT_TOKEN": secretBot},
			[]string{"SLACK_APP_TOKEN is not set"}},
		{"missing both", map[string]string{},
			[]string{"SLACK_BOT_TOKEN is not set", "SLACK_APP_TOKEN is not set"}},
		{"blank bot token", map[string]string{"SLACK_BOT_TOKEN": "  ", "SLACK_APP_TOKEN": secretApp},
			[]string{"SLACK_BOT_TOKEN is not set"}},
		{"user token as bot token", map[string]string{"SLACK_BOT_TOKEN": "xoxp-1234-sEcReTuSeRtOkEn", "SLACK_APP_TOKEN": secretApp},
			[]string{"SLACK_BOT_TOKEN", "begins with xoxb"}},
		{"tokens swapped", map[string]string{"SLACK_BOT_TOKEN": secretApp, "SLACK_APP_TOKEN": secretBot},
			[]string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "begins with xapp"}},
		{"api url without scheme", map[string]string{"SLACK_BOT_TOKEN": secretBot, "SLACK_APP_TOKEN": secretApp, "SLACK_API_URL": "slack.com/api/"},
			[]string{"SLACK_API_URL"}},
		{"api url with another scheme", map[string]string{"SLACK_BOT_TOKEN": secretBot, "SLACK_APP_TOKEN": secretApp, "SLACK_API_URL": "ftp://slack.com/api/"},
			[]string{"SLACK_API_URL"}},
		{"api url without host", map[string]string{"SLACK_BOT_TOKEN": secretBot, "SLACK_APP_TOKEN": secretApp, "SLACK_API_URL": "https://"},
			[]string{"SLACK_API_URL"}},
		{"api url unparsable", map[string]string{"SLACK_BOT_TOKEN": secretBot, "SLACK_APP_TOKEN": secretApp, "SLACK_API_URL": "http://[::1"},
			[]string{"SLACK_API_URL"}},
		{"valid", map[string]string{"SLACK_BOT_TOKEN": secretBot, "SLACK_APP_TOKEN": " " + secretApp + "\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bot.ParseConfig(env(tt.env))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("ParseConfig = %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseConfig(%s) = nil error, want one naming %v", tt.name, tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseConfig error = %q, want it to contain %q", err, w)
				}
			}
			// Nothing shaped like a token, so a log grep for one finds none.
			for _, prefix := range []string{"xoxb-", "xapp-", "xoxp-"} {
				if strings.Contains(err.Error(), prefix) {
					t.Errorf("ParseConfig error contains %q:\n%s", prefix, err)
				}
			}
			for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} {
				if v := strings.TrimSpace(tt.env[k]); v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("ParseConfig error contains the %s value:\n%s", k, err)
				}
			}
		})
	}
}

func TestParseConfigValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want string
	}{
		{"", bot.DefaultAPIURL},
		{"https://slack-gov.com/api/", "https://slack-gov.com/api/"},
		{"https://slack-gov.com/api", "https://slack-gov.com/api/"},
		{" http://127.0.0.1:8080/api ", "http://127.0.0.1:8080/api/"},
	}
	for _, tt := range tests {
		cfg, err := bot.ParseConfig(env(map[string]string{
			"SLACK_BOT_TOKEN": " " + secretBot, "SLACK_APP_TOKEN": secretApp + " ", "SLACK_API_URL": tt.url,
		}))
		if err != nil {
			t.Fatalf("ParseConfig(SLACK_API_URL=%q) error: %v", tt.url, err)
		}
		if cfg.APIURL != tt.want {
			t.Errorf("ParseConfig(SLACK_API_URL=%q).APIURL = %q, want %q", tt.url, cfg.APIURL, tt.want)
		}
		if cfg.BotToken.Reveal() != secretBot || cfg.AppToken.Reveal() != secretApp {
			t.Errorf("tokens = %q, %q, want them trimmed", cfg.BotToken.Reveal(), cfg.AppToken.Reveal())
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	t.Parallel()
	cfg := bot.Config{BotToken: secretBot, AppToken: secretApp, APIURL: bot.DefaultAPIURL}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v %#v %s %q\n", cfg, cfg, cfg, cfg.BotToken, cfg.AppToken)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg, "bot", cfg.BotToken, "app", cfg.AppToken)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg, "bot", cfg.BotToken, "app", cfg.AppToken)
	assertNoTokens(t, buf.String(), secretBot, secretApp)
}

func assertNoTokens(t *testing.T, out string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if strings.Contains(out, tok) {
			t.Errorf("output contains token %s:\n%s", tok, out)
		}
		// A fragment is a leak too (e.g. a token cut by clipping).
		if secret := tok[len(tok)-12:]; strings.Contains(out, secret) {
			t.Errorf("output contains part of token %s:\n%s", tok, out)
		}
	}
}

// TestTokensNeverLogged runs a full flow with debug logging, then bad tokens,
// and looks for the tokens in everything the bot logged.
func TestTokensNeverLogged(t *testing.T) {
	t.Parallel()
	tokens := []fakeslack.Option{fakeslack.WithBotToken(secretBot), fakeslack.WithAppToken(secretApp)}

	t.Run("full flow", func(t *testing.T) {
		t.Parallel()
		h := start(t, setup{fake: tokens})
		h.mention(t, "C1", "<@UBOT> what is ecr?")
		h.send(t, h.srv.EventEnvelope("", h.srv.Message("U1", "D1", "what is eks?")))
		h.posts(t, 2)
		resp := h.responses(t, h.slash(t, "explain fargate"), 1)[0]
		share, _ := findButton(buttonsOf(t, resp), bot.ActionShare)
		env := h.click("U1", ephemeral(h.srv.NextTS()), share)
		h.send(t, env)
		h.responses(t, responseURL(env), 2)
		h.srv.RateLimit("chat.postMessage", 1, time.Second)
		h.mention(t, "C1", "<@UBOT> what is fargate?")
		h.posts(t, 3)
		h.srv.Disconnect("warning")
		if err := h.srv.WaitTotalConnections(h.ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
		logs := h.logs.String()
		if !strings.Contains(logs, "slack call failed, retrying") || !strings.Contains(logs, "slack authenticated") {
			t.Fatalf("the flow did not log what it should; logs:\n%s", logs)
		}
		assertNoTokens(t, logs, secretBot, secretApp)
	})

	badTokens := []struct {
		name string
		cfg  func(*bot.Config)
		want string
	}{
		{"bad bot token", func(c *bot.Config) { c.BotToken = "xoxb-0000-wrong-sEcReTbAdBoT" }, "invalid_auth"},
		{"bad app token", func(c *bot.Config) { c.AppToken = "xapp-0-A1-wrong-sEcReTbAdApP" }, "invalid_auth"},
	}
	for _, tt := range badTokens {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startNoWait(t, setup{fake: tokens, cfg: tt.cfg})
			cfg := bot.Config{BotToken: secretBot, AppToken: secretApp}
			tt.cfg(&cfg)
			err := h.runResult(t)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want an error saying %s", err, tt.want)
			}
			assertNoTokens(t, err.Error()+"\n"+h.logs.String(),
				secretBot, secretApp, cfg.BotToken.Reveal(), cfg.AppToken.Reveal())
		})
	}
}
