package bot

import (
	"context"
	"fmt"
	"time"

	"shipmate/quiz"
)

// Digest posts the learning loop's report of the last seven days to
// GAPS_CHANNEL on GAPS_SCHEDULE. Each slot is posted once, whichever
// process or replica gets there first: the store's unique slot key decides
// (ClaimDigest) before anything is posted. A slot missed by less than
// digestGrace (the bot restarting at that moment) is still posted; one
// missed for longer is skipped rather than posted late.
type Digest struct {
	b     *Bot
	clock quiz.Clock
	lock  Locker
}

// Locker is the store's scheduler lock (quiz.Store's LockScheduler): the
// digest of a channel runs in the one process holding its lock.
type Locker interface {
	LockScheduler(ctx context.Context, name string) (quiz.Term, error)
}

// OneProcess is the Locker of a store only one process uses (SQLite): the
// lock is always this process's.
type OneProcess struct{}

// LockScheduler implements Locker.
func (OneProcess) LockScheduler(context.Context, string) (quiz.Term, error) { return soleTerm{}, nil }

type soleTerm struct{}

func (soleTerm) Epoch() int64              { return 1 }
func (soleTerm) Lost() <-chan struct{}     { return nil }
func (soleTerm) Wake() <-chan struct{}     { return nil }
func (soleTerm) Answered() <-chan struct{} { return nil }
func (soleTerm) Release()                  {}

// digestGrace is how late a missed digest may still be posted, and
// digestPeriod how far back a digest looks.
const (
	digestGrace  = time.Hour
	digestPeriod = 7 * 24 * time.Hour
)

// Digest returns the gaps digest of this bot, timed by clock, run by the
// holder of lock.
func (b *Bot) Digest(clock quiz.Clock, lock Locker) *Digest {
	return &Digest{b: b, clock: clock, lock: lock}
}

// Run posts digests until ctx ends, while this process holds the digest's
// scheduler lock (waiting for it otherwise, and taking over when its
// holder dies). Without GAPS_CHANNEL it returns at once.
func (d *Digest) Run(ctx context.Context) error {
	conf := d.b.convo.conf
	if conf.GapsChannel == "" || conf.GapsSchedule == nil {
		return nil
	}
	for ctx.Err() == nil {
		term, err := d.lock.LockScheduler(ctx, "gaps-digest/"+conf.GapsChannel)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The database did not answer: ask again in a moment, as the
			// quiz does, rather than stop posting digests for good.
			d.b.log.Error("gaps digest: cannot take its lock; trying again", "err", err, "retry_in", digestLockRetry)
			t := d.clock.NewTimer(digestLockRetry)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C():
			}
			continue
		}
		d.run(ctx, term.Lost())
		term.Release()
	}
	return nil
}

// run posts digests until ctx ends or the lock is lost.
func (d *Digest) run(ctx context.Context, lost <-chan struct{}) {
	conf := d.b.convo.conf
	next := conf.GapsSchedule.Next(d.clock.Now().Add(-digestGrace))
	for {
		if wait := next.Sub(d.clock.Now()); wait > 0 {
			t := d.clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-lost:
				t.Stop()
				d.b.log.Warn("gaps digest: scheduler lock lost, waiting to take it again")
				return
			case <-t.C():
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := d.post(ctx, next); err != nil {
			d.b.log.Error("gaps digest", "slot", next, "err", err)
		}
		from := next
		if late := d.clock.Now().Add(-digestGrace); late.After(from) {
			from = late // down for long: skip the slots missed meanwhile
		}
		next = conf.GapsSchedule.Next(from)
	}
}

// digestLockRetry is how soon the digest's lock is asked for again after
// the database failed to answer.
const digestLockRetry = 5 * time.Second

// post posts the digest of slot, unless it was claimed already.
func (d *Digest) post(ctx context.Context, slot time.Time) error {
	conf := d.b.convo.conf
	key := fmt.Sprintf("gaps/%s/%s", conf.GapsChannel, slot.UTC().Format(time.RFC3339))
	won, err := d.b.convo.mem.ClaimDigest(ctx, key, d.clock.Now())
	if err != nil || !won {
		return err
	}
	since := slot.Add(-min(digestPeriod, conf.GapsRetention))
	r, err := LoadGapReport(ctx, d.b.convo.mem, since, slot)
	if err != nil {
		return err
	}
	msg := RenderBlocks(Reply{Gaps: &GapsReply{Report: r, Period: "the last 7 days"}}, d.b.name, RenderOptions{})
	msg.Blocks[0] = header("Weekly digest: questions without a good answer")
	if err := d.b.say(ctx, conf.GapsChannel, msg.Options()...); err != nil {
		return fmt.Errorf("post to %s: %w", conf.GapsChannel, err)
	}
	d.b.log.Info("gaps digest posted", "channel", conf.GapsChannel, "slot", slot, "groups", len(r.Gaps))
	return nil
}
