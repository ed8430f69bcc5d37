package bot

import (
	"context"
	"time"
)

// This file declares what the conversation features keep durably: the
// threads Shipmate takes part in, the learning loop's records and who has
// opened the App Home. Package store implements Memory on SQLite and
// PostgreSQL; Slack's history is never read back (conversations.replies is
// limited to one call a minute for apps outside the Marketplace).

// Turn is one question Shipmate answered in a thread, kept so that a
// follow-up in the thread is read in context.
type Turn struct {
	Question string   `json:"q"`
	Services []string `json:"s,omitempty"`
	// Answer is the kind/id of what was answered ("scenario/eks-gpu").
	Answer string    `json:"a,omitempty"`
	At     time.Time `json:"t"`
}

// ThreadStore remembers the threads Shipmate answered in.
type ThreadStore interface {
	// AddTurn records that Shipmate answered t in the thread (channel,
	// thread), keeping only the newest keep turns of it.
	AddTurn(ctx context.Context, channel, thread string, t Turn, keep int, at time.Time) error
	// Thread returns the turns of a thread Shipmate answered in, oldest
	// first; ok is false if it never did (or the thread was pruned).
	Thread(ctx context.Context, channel, thread string) (turns []Turn, ok bool, err error)
	// PruneThreads forgets the threads without a turn since before.
	PruneThreads(ctx context.Context, before time.Time) (int, error)
}

// ThreadTurn is a turn and the thread it belongs to.
type ThreadTurn struct {
	Channel, Thread string
	Turn            Turn
}

// Batch is what the bot writes behind its replies (see recorder.go):
// thread turns and declined questions.
type Batch struct {
	// Turns are added as AddTurn(channel, thread, turn, Keep, turn.At)
	// adds them, in order.
	Turns []ThreadTurn
	Keep  int
	// Gaps are added as AddGap adds them: once per key.
	Gaps []Gap
}

// Batcher is a Memory that writes a Batch in one transaction, all or
// none: one commit for all of it. The bot uses it when its Memory has it.
type Batcher interface {
	WriteBatch(ctx context.Context, b Batch) error
}

// GapKind is what a learning-loop record says about an answer.
type GapKind string

// The kinds of gap.
const (
	// GapDeclined is a question Shipmate declined to answer.
	GapDeclined GapKind = "declined"
	// GapNotHelpful is an answer someone marked "Not helpful".
	GapNotHelpful GapKind = "not_helpful"
	// GapClarified is a question Shipmate had to ask back about, with the
	// option chosen.
	GapClarified GapKind = "clarified"
)

// Gap is one record of the learning loop. Nothing about the person is kept
// beyond their Slack user id.
type Gap struct {
	ID       int64
	Kind     GapKind
	Question string
	// Terms are the question's normalised terms, for grouping similar
	// wordings.
	Terms []string
	// Answer is what was shown (kind/id) for GapNotHelpful, the option
	// chosen for GapClarified.
	Answer string
	// Comment is the optional "what was wrong?" of a Not helpful click.
	Comment string
	User    string
	// Key makes recording idempotent: a record whose key is stored already
	// (Slack's retry of an event, a double click) is not added again.
	Key string
	At  time.Time
}

// GapStore keeps the learning loop's records.
type GapStore interface {
	// AddGap stores g unless a gap with g.Key exists; added reports which,
	// and id is the stored gap's id either way.
	AddGap(ctx context.Context, g Gap) (id int64, added bool, err error)
	// CommentGap sets the comment of gap id if user made it; ok is false
	// otherwise (a forged or stale id).
	CommentGap(ctx context.Context, id int64, user, comment string) (ok bool, err error)
	// Gaps returns the gaps recorded at or after since, oldest first, at
	// most limit of them (the newest ones if there are more).
	Gaps(ctx context.Context, since time.Time, limit int) ([]Gap, error)
	// PruneGaps deletes the gaps recorded before before.
	PruneGaps(ctx context.Context, before time.Time) (int, error)
	// ClaimDigest records that the gaps digest of slot key is being
	// posted; it reports false if that slot was claimed before, so every
	// slot is posted once whichever process or replica gets there first.
	ClaimDigest(ctx context.Context, key string, at time.Time) (bool, error)
}

// HomeStore remembers who opened Shipmate's App Home, so it is refreshed
// for them when what it shows changes.
type HomeStore interface {
	// HomeOpened records that user opened the App Home at at.
	HomeOpened(ctx context.Context, user string, at time.Time) error
	// HomeUsers returns the users who opened the App Home at or after
	// since, most recent first, at most limit of them.
	HomeUsers(ctx context.Context, since time.Time, limit int) ([]string, error)
	// HasHome reports whether user opened the App Home at or after since.
	HasHome(ctx context.Context, user string, since time.Time) (bool, error)
	// PruneHomes forgets the users who have not opened it since before.
	PruneHomes(ctx context.Context, before time.Time) (int, error)
}

// Memory is everything the conversation features keep.
type Memory interface {
	ThreadStore
	GapStore
	HomeStore
}
