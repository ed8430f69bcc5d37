package bot

import (
	"context"
	"time"
)

// Seen remembers which envelopes were handled, for every replica sharing
// it (package store implements it on the database): Slack retries an
// event it did not see acked in time, and the retry may arrive on another
// replica's connection. FirstSeen reports whether key is new, and
// remembers it.
type Seen interface {
	FirstSeen(ctx context.Context, key string) (bool, error)
}

// seenWait bounds a look-up in the shared Seen, so a slow database delays
// a reply by at most this much.
const seenWait = 2 * time.Second

// firstSeen reports whether key (an event, slash command or click) is seen
// for the first time: by this process (a cheap in-memory check first) and
// then by every replica, through Options.Seen. If the shared store fails,
// the reply goes out: answering twice is better than not at all.
func (b *Bot) firstSeen(ctx context.Context, key string) bool {
	if !b.seen.first(key) {
		return false
	}
	if b.opts.Seen == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, seenWait)
	defer cancel()
	first, err := b.opts.Seen.FirstSeen(ctx, key)
	if err != nil {
		b.log.Warn("shared de-duplication failed; handling the envelope", "key", key, "err", err)
		b.metrics.StoreError("first_seen")
		return true
	}
	return first
}
