package quiz

import (
	"math/rand/v2"
	"testing"
	"time"
)

func mustSchedule(t *testing.T, spec string) slotTimes {
	t.Helper()
	s, err := ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return newSlotTimes(s)
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

type wantSlot struct {
	at  time.Time
	key string // without the channel
}

func TestSlotsNextAcrossDST(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	est := func(d, h, m int) time.Time { return time.Date(2025, 3, d, h+5, m, 0, 0, time.UTC) } // March, before the change
	edt := func(mo time.Month, d, h, m int) time.Time { return time.Date(2025, mo, d, h+4, m, 0, 0, time.UTC) }
	estN := func(d, h, m int) time.Time { return time.Date(2025, 11, d, h+5, m, 0, 0, time.UTC) } // November, after

	tests := []struct {
		name string
		spec string
		from time.Time
		want []wantSlot
	}{
		{
			// robfig skips 02:30 on 9 March; the slot posts once, at 03:00 EDT.
			name: "spring forward, time in the gap",
			spec: "CRON_TZ=America/New_York 30 2 * * *",
			from: est(8, 0, 0),
			want: []wantSlot{
				{est(8, 2, 30), "2025-03-08T02:30:00"},
				{edt(3, 9, 3, 0), "2025-03-09T02:30:00"},
				{edt(3, 10, 2, 30), "2025-03-10T02:30:00"},
			},
		},
		{
			// robfig fires 01:30 twice on 2 November; it is one slot.
			name: "fall back, time in the repeated hour",
			spec: "CRON_TZ=America/New_York 30 1 * * *",
			from: edt(11, 1, 0, 0),
			want: []wantSlot{
				{edt(11, 1, 1, 30), "2025-11-01T01:30:00"},
				{edt(11, 2, 1, 30), "2025-11-02T01:30:00"},
				{estN(3, 1, 30), "2025-11-03T01:30:00"},
			},
		},
		{
			name: "09:00 on both change days",
			spec: "CRON_TZ=America/New_York 0 9 * * *",
			from: est(8, 10, 0),
			want: []wantSlot{
				{edt(3, 9, 9, 0), "2025-03-09T09:00:00"},
				{edt(3, 10, 9, 0), "2025-03-10T09:00:00"},
			},
		},
		{
			name: "09:00 on fall-back day",
			spec: "CRON_TZ=America/New_York 0 9 * * *",
			from: edt(11, 1, 10, 0),
			want: []wantSlot{
				{estN(2, 9, 0), "2025-11-02T09:00:00"},
				{estN(3, 9, 0), "2025-11-03T09:00:00"},
			},
		},
		{
			// Every wall time from 02:00 to 03:00 happens at 03:00 EDT: one slot, named by the last.
			name: "every 30 minutes through the gap",
			spec: "CRON_TZ=America/New_York */30 1-3 9 3 *",
			from: est(9, 0, 0),
			want: []wantSlot{
				{est(9, 1, 0), "2025-03-09T01:00:00"},
				{est(9, 1, 30), "2025-03-09T01:30:00"},
				{edt(3, 9, 3, 0), "2025-03-09T03:00:00"},
				{edt(3, 9, 3, 30), "2025-03-09T03:30:00"},
			},
		},
		{
			name: "every 30 minutes through the repeated hour",
			spec: "CRON_TZ=America/New_York */30 0-2 2 11 *",
			from: edt(11, 2, 0, 10),
			want: []wantSlot{
				{edt(11, 2, 0, 30), "2025-11-02T00:30:00"},
				{edt(11, 2, 1, 0), "2025-11-02T01:00:00"},
				{edt(11, 2, 1, 30), "2025-11-02T01:30:00"},
				{estN(2, 2, 0), "2025-11-02T02:00:00"},
				{estN(2, 2, 30), "2025-11-02T02:30:00"},
			},
		},
		{
			name: "weekdays in UTC",
			spec: DefaultSchedule,
			from: time.Date(2025, 6, 6, 9, 0, 0, 0, time.UTC), // a Friday, at the slot
			want: []wantSlot{
				{time.Date(2025, 6, 9, 9, 0, 0, 0, time.UTC), "2025-06-09T09:00:00"},
				{time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC), "2025-06-10T09:00:00"},
			},
		},
		{
			name: "@every is aligned, not relative to the start",
			spec: "@every 6h",
			from: time.Date(2025, 6, 6, 7, 13, 5, 0, time.UTC),
			want: []wantSlot{
				{time.Date(2025, 6, 6, 12, 0, 0, 0, time.UTC), "2025-06-06T12:00:00"},
				{time.Date(2025, 6, 6, 18, 0, 0, 0, time.UTC), "2025-06-06T18:00:00"},
			},
		},
	}
	for _, tt := range tests {
		s := mustSchedule(t, tt.spec)
		from := tt.from.In(ny)
		for i, w := range tt.want {
			got, ok := s.next(from)
			if !ok || !got.at.Equal(w.at) || got.key("") != "@"+w.key {
				t.Errorf("%s: slot %d: next(%v) = %v %q, want %v %q", tt.name, i, from, got.at.In(ny), got.key(""), w.at.In(ny), "@"+w.key)
				break
			}
			from = got.at
			if l, ok := s.latest(got.at); !ok || !l.at.Equal(got.at) || l.key("") != got.key("") {
				t.Errorf("%s: latest(%v) = %v %q, want %v %q", tt.name, got.at, l.at, l.key(""), got.at, got.key(""))
			}
		}
	}
}

func TestSlotsLatest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		now     time.Time
		wantAt  time.Time
		wantKey string
	}{
		// Monday 12:00: today's 09:00.
		{DefaultSchedule, time.Date(2025, 6, 9, 12, 0, 0, 0, time.UTC), time.Date(2025, 6, 9, 9, 0, 0, 0, time.UTC), "C@2025-06-09T09:00:00"},
		// Monday 08:59: Friday's.
		{DefaultSchedule, time.Date(2025, 6, 9, 8, 59, 0, 0, time.UTC), time.Date(2025, 6, 6, 9, 0, 0, 0, time.UTC), "C@2025-06-06T09:00:00"},
		// Exactly at the slot.
		{DefaultSchedule, time.Date(2025, 6, 9, 9, 0, 0, 0, time.UTC), time.Date(2025, 6, 9, 9, 0, 0, 0, time.UTC), "C@2025-06-09T09:00:00"},
		// In the second 01:30 (EST) of 2 November: still the first one's slot.
		{"CRON_TZ=America/New_York 30 1 * * *", time.Date(2025, 11, 2, 6, 30, 0, 0, time.UTC), time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC), "C@2025-11-02T01:30:00"},
		// Right after the gap on 9 March.
		{"CRON_TZ=America/New_York 30 2 * * *", time.Date(2025, 3, 9, 7, 0, 0, 0, time.UTC), time.Date(2025, 3, 9, 7, 0, 0, 0, time.UTC), "C@2025-03-09T02:30:00"},
		// Yearly: a long look-back.
		{"@yearly", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "C@2025-01-01T00:00:00"},
	}
	for _, tt := range tests {
		s := mustSchedule(t, tt.spec)
		got, ok := s.latest(tt.now)
		if !ok || !got.at.Equal(tt.wantAt) || got.key("C") != tt.wantKey {
			t.Errorf("%s: latest(%v) = %v %q, want %v %q", tt.spec, tt.now, got.at, got.key("C"), tt.wantAt, tt.wantKey)
		}
	}
}

// TestSlotsLatestMatchesNext cross-checks latest against walking next, at
// random times around both DST changes, and checks that a key never comes
// back.
func TestSlotsLatestMatchesNext(t *testing.T) {
	t.Parallel()
	specs := []string{
		"CRON_TZ=America/New_York 30 2 * * *",
		"CRON_TZ=America/New_York 30 1 * * *",
		"CRON_TZ=America/New_York */20 * * * *",
		"CRON_TZ=Australia/Lord_Howe 15 2 * * *", // a 30-minute DST shift
		"CRON_TZ=Europe/Berlin 0 9 * * MON-FRI",
	}
	starts := []time.Time{
		time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 4, 4, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 31, 0, 0, 0, 0, time.UTC),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, spec := range specs {
		s := mustSchedule(t, spec)
		for _, start := range starts {
			var all []slotAt
			seen := map[string]bool{}
			for at := start; at.Before(start.Add(10 * 24 * time.Hour)); {
				n, ok := s.next(at)
				if !ok {
					t.Fatalf("%s: next(%v) found nothing", spec, at)
				}
				if !n.at.After(at) {
					t.Fatalf("%s: next(%v) = %v, not after", spec, at, n.at)
				}
				if seen[n.key("")] {
					t.Errorf("%s: key %s comes twice", spec, n.key(""))
				}
				seen[n.key("")] = true
				all = append(all, n)
				at = n.at
			}
			for range 40 {
				now := all[0].at.Add(time.Duration(rng.Int64N(int64(60 * time.Hour))))
				var want slotAt
				for _, a := range all {
					if !a.at.After(now) {
						want = a
					}
				}
				got, ok := s.latest(now)
				if !ok || !got.at.Equal(want.at) || got.key("") != want.key("") {
					t.Errorf("%s: latest(%v) = %v %s, want %v %s", spec, now, got.at, got.key(""), want.at, want.key(""))
				}
			}
		}
	}
}
