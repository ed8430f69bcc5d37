package bot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"shipmate/bot"
)

func TestParseConversation(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := bot.ParseConversation(env())
	if err != nil || !c.Followups || c.GapsChannel != "" || c.GapsRetention != 90*24*time.Hour || c.GapsSchedule == nil || len(c.Admins) != 0 {
		t.Fatalf("ParseConversation(defaults) = %+v, %v", c, err)
	}
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if next := c.GapsSchedule.Next(monday.Add(-time.Minute)); !next.Equal(monday) {
		t.Errorf("default digest slot after Monday 08:59 = %v, want Monday 09:00 UTC", next)
	}
	c, err = bot.ParseConversation(env("THREAD_FOLLOWUPS", "off", "QUIZ_ADMINS", "U0A1,U0A2", "GAPS_RETENTION", "30d", "GAPS_CHANNEL", "C0GAPS"))
	if err != nil || c.Followups || !slices.Equal(c.Admins, []string{"U0A1", "U0A2"}) || c.GapsRetention != 30*24*time.Hour || c.GapsChannel != "C0GAPS" {
		t.Errorf("ParseConversation = %+v, %v", c, err)
	}
	if !c.IsAdmin("U0A2") || c.IsAdmin("U0A3") || c.IsAdmin("") {
		t.Error("IsAdmin wrong")
	}
	// ADMINS wins over QUIZ_ADMINS.
	if c, _ := bot.ParseConversation(env("ADMINS", "U0A9", "QUIZ_ADMINS", "U0A1")); !slices.Equal(c.Admins, []string{"U0A9"}) {
		t.Errorf("Admins = %v, want [U0A9]", c.Admins)
	}
	_, err = bot.ParseConversation(env("THREAD_FOLLOWUPS", "maybe", "ADMINS", "bob", "GAPS_CHANNEL", "#gaps", "GAPS_SCHEDULE", "every monday", "GAPS_RETENTION", "1h"))
	for _, name := range []string{"THREAD_FOLLOWUPS", "ADMINS", "GAPS_CHANNEL", "GAPS_SCHEDULE", "GAPS_RETENTION"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("ParseConversation(bad values) error %v does not name %s", err, name)
		}
	}
}
