package quiz

import (
	"time"

	"github.com/robfig/cron/v3"
)

// wallLayout formats a slot's wall-clock time inside its key.
const wallLayout = "2006-01-02T15:04:05"

// slotTimes turns a cron schedule into slots: fire times with a key that
// names the wall-clock time in the schedule's zone.
//
// robfig's SpecSchedule.Next works on instants, so across a DST change it
// skips a wall time that does not exist (spring forward) and fires twice for
// one that happens twice (fall back). slotTimes instead walks the schedule in
// wall-clock space and maps each wall time to one instant:
//   - a repeated wall time maps to its first occurrence, so it is one slot;
//   - a wall time inside a gap maps to the first instant after the gap, so
//     it still fires once; when several wall times fall into one gap (a
//     schedule every 15 minutes), they collapse into one slot keyed by the
//     last of them.
//
// @every schedules are aligned to multiples of their delay (counted from
// Go's zero time) so that their slots survive a restart; other schedule
// types are used as they are, keyed in UTC.
type slotTimes struct {
	spec  *cron.SpecSchedule // the spec, evaluated in UTC as wall-clock space
	loc   *time.Location
	every time.Duration
	other cron.Schedule
}

// maxLookback bounds how far back latest looks for a due slot.
const maxLookback = 800 * 24 * time.Hour

func newSlotTimes(s cron.Schedule) slotTimes {
	switch s := s.(type) {
	case *cron.SpecSchedule:
		wall := *s
		loc := s.Location
		if loc == nil || loc == time.Local {
			loc = time.UTC
		}
		wall.Location = time.UTC
		return slotTimes{spec: &wall, loc: loc}
	case cron.ConstantDelaySchedule:
		return slotTimes{every: s.Delay, loc: time.UTC}
	default:
		return slotTimes{other: s, loc: time.UTC}
	}
}

// slotAt is one fire time: the instant it is due and its wall-clock name.
type slotAt struct {
	at   time.Time
	wall time.Time // wall-clock time in the schedule's zone, expressed in UTC
}

func (s slotAt) key(channel string) string {
	return channel + "@" + s.wall.Format(wallLayout)
}

// next returns the first slot due strictly after t.
func (s slotTimes) next(t time.Time) (slotAt, bool) {
	switch {
	case s.spec != nil:
		return s.nextSpec(t)
	case s.every > 0:
		at := t.Truncate(s.every).Add(s.every)
		return slotAt{at: at, wall: at.UTC()}, true
	case s.other != nil:
		at := s.other.Next(t)
		if at.IsZero() {
			return slotAt{}, false
		}
		return slotAt{at: at, wall: at.UTC()}, true
	}
	return slotAt{}, false
}

func (s slotTimes) nextSpec(t time.Time) (slotAt, bool) {
	w := wallOf(t.In(s.loc))
	// In a repeated hour wall times run backwards, so a few wall slots may map
	// to instants before t; a per-second schedule needs up to 3600 steps.
	for range 10000 {
		w = s.spec.Next(w)
		if w.IsZero() {
			return slotAt{}, false
		}
		at := s.instant(w)
		if !at.After(t) {
			continue
		}
		for {
			w2 := s.spec.Next(w)
			if w2.IsZero() || !s.instant(w2).Equal(at) {
				break
			}
			w = w2
		}
		return slotAt{at: at, wall: w}, true
	}
	return slotAt{}, false
}

// wallOf re-labels t's wall-clock reading as UTC.
func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// instant maps a wall-clock time (labelled UTC) to the instant it happens in
// s.loc: the first occurrence of a repeated time, the end of the gap for a
// skipped one.
func (s slotTimes) instant(w time.Time) time.Time {
	at := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), s.loc)
	got := wallOf(at)
	if got.Equal(w) {
		// time.Date picks the first occurrence of an ambiguous time today,
		// but the documentation does not promise it, so check.
		if earlier := at.Add(-time.Hour); wallOf(earlier).Equal(w) {
			return earlier
		}
		if earlier := at.Add(-30 * time.Minute); wallOf(earlier).Equal(w) {
			return earlier
		}
		return at
	}
	// w does not exist: time.Date normalised it to one side of the gap.
	start, end := at.ZoneBounds()
	if got.After(w) {
		return start
	}
	return end
}

// latest returns the last slot due at or before now, looking back at most
// maxLookback.
func (s slotTimes) latest(now time.Time) (slotAt, bool) {
	if s.every > 0 {
		at := now.Truncate(s.every)
		return slotAt{at: at, wall: at.UTC()}, true
	}
	// next(x) is the first slot after x. Find lo with next(lo) <= now by
	// doubling the look-back, then narrow [lo, now] by bisection, so this
	// costs O(log lookback) calls to next whatever the schedule's density.
	d := time.Second
	var lo time.Time
	for {
		lo = now.Add(-d)
		if n, ok := s.next(lo); ok && !n.at.After(now) {
			break
		}
		if d > maxLookback {
			return slotAt{}, false
		}
		d *= 2
	}
	hi := now
	for hi.Sub(lo) > time.Second/2 {
		mid := lo.Add(hi.Sub(lo) / 2)
		if n, ok := s.next(mid); ok && !n.at.After(now) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.next(lo)
}
