package store

import (
	"context"
	"fmt"
	"time"
)

// eventTTL is how long a handled event is remembered: Slack retries an
// event for minutes, not hours.
const eventTTL = 24 * time.Hour

// FirstSeen reports whether key (an event id) is new to every process
// sharing the store, and remembers it; the primary key decides between two
// replicas that get the same event. Old keys are pruned now and then.
func (s *Store) FirstSeen(ctx context.Context, key string) (bool, error) {
	now := time.Now()
	var n int64
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, `INSERT INTO events (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remember event %s: %w", key, err)
	}
	s.prune(ctx, now)
	return n == 1, nil
}

// prune deletes events older than eventTTL, at most once a minute.
func (s *Store) prune(ctx context.Context, now time.Time) {
	s.pruneMu.Lock()
	due := now.Sub(s.pruned) > time.Minute
	if due {
		s.pruned = now
	}
	s.pruneMu.Unlock()
	if !due {
		return
	}
	_ = s.tx(ctx, func(t tx) error {
		_, err := t.exec(ctx, `DELETE FROM events WHERE seen_at < ?`, now.Add(-eventTTL).UnixMilli())
		return err
	})
}
