package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/store"
)

// TestGapsCommand prints, from the store serve writes, the questions
// without a good answer, grouped, for the period asked.
func TestGapsCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, g := range []bot.Gap{
		{Kind: bot.GapDeclined, Question: "can fargate mount our nfs share?", At: now.Add(-time.Hour)},
		{Kind: bot.GapDeclined, Question: "Can Fargate mount an NFS share", At: now.Add(-2 * time.Hour)},
		{Kind: bot.GapNotHelpful, Question: "gpu for kubernetes", Answer: "scenario/x", At: now.Add(-20 * 24 * time.Hour)},
	} {
		g.Terms = bot.GapTerms(g.Question)
		g.Key = string(rune('a' + i))
		if _, _, err := st.AddGap(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	env := map[string]string{"DATA_DIR": dir}

	out, _, err := runCmd(t, env, "", "gaps")
	if err != nil {
		t.Fatalf("gaps: %v", err)
	}
	if !strings.Contains(out, "can fargate mount our nfs share?") || !strings.Contains(out, "2×: 2 declined") || strings.Contains(out, "gpu for kubernetes") {
		t.Errorf("gaps (a week):\n%s", out)
	}
	out, _, err = runCmd(t, env, "", "gaps", "month")
	if err != nil || !strings.Contains(out, "gpu for kubernetes") || !strings.Contains(out, "1 not helpful") {
		t.Errorf("gaps month = %v:\n%s", err, out)
	}
	if _, _, err := runCmd(t, env, "", "gaps", "fortnight"); err == nil || exitCode(err) != 2 {
		t.Errorf("gaps fortnight = %v, want a usage error", err)
	}
}
