package bot_test

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"shipmate/bot"
)

// TestSlackManifest checks the app manifest against what the bot handles:
// the events it subscribes to, their scopes, the App Home and the message
// shortcut's callback id.
func TestSlackManifest(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../deploy/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			AppHome struct {
				HomeTab bool `yaml:"home_tab_enabled"`
			} `yaml:"app_home"`
			Shortcuts []struct {
				Name       string `yaml:"name"`
				Type       string `yaml:"type"`
				CallbackID string `yaml:"callback_id"`
			} `yaml:"shortcuts"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				Bot []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	events := map[string]string{ // event → the scope it needs
		"app_mention":      "app_mentions:read",
		"message.im":       "im:history",
		"message.channels": "channels:history",
		"message.groups":   "groups:history",
		"app_home_opened":  "",
	}
	for ev, scope := range events {
		if !slices.Contains(m.Settings.Events.Bot, ev) {
			t.Errorf("manifest does not subscribe to %s", ev)
		}
		if scope != "" && !slices.Contains(m.OAuth.Scopes.Bot, scope) {
			t.Errorf("manifest lacks the %s scope %s needs", scope, ev)
		}
	}
	for _, s := range []string{"chat:write", "commands"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, s) {
			t.Errorf("manifest lacks the %s scope", s)
		}
	}
	if !m.Features.AppHome.HomeTab || !m.Settings.Interactivity.Enabled || !m.Settings.SocketMode {
		t.Errorf("manifest: home tab %t, interactivity %t, socket mode %t; want all on", m.Features.AppHome.HomeTab, m.Settings.Interactivity.Enabled, m.Settings.SocketMode)
	}
	i := slices.IndexFunc(m.Features.Shortcuts, func(s struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		CallbackID string `yaml:"callback_id"`
	}) bool {
		return s.CallbackID == bot.CallbackAskShipmate
	})
	if i < 0 || m.Features.Shortcuts[i].Type != "message" || m.Features.Shortcuts[i].Name != "Ask Shipmate" {
		t.Errorf("manifest shortcuts = %+v, want a message shortcut \"Ask Shipmate\" with callback id %s", m.Features.Shortcuts, bot.CallbackAskShipmate)
	}
}
