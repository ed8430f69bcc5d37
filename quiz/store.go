package quiz

import (
	"context"
	"errors"
	"time"

	"shipmate/content"
)

// Errors a Store returns, wrapped, for conditions the quiz branches on.
var (
	// ErrNotFound means no quiz has the given id.
	ErrNotFound = errors.New("quiz not found")
	// ErrClaimLost means the slot is no longer claimed by the caller: its
	// lease ran out and another scheduler took it, or it was settled.
	ErrClaimLost = errors.New("slot claim lost")
)

// SlotState is what became of a slot.
type SlotState string

// The states of a slot. Claimed is the only one that is not final.
const (
	SlotClaimed SlotState = "claimed"
	SlotPosted  SlotState = "posted"
	SlotMissed  SlotState = "missed"
	SlotSkipped SlotState = "skipped"
)

// Slot is one occasion to post a quiz: a fire time of the schedule, or an
// admin's PostNow.
type Slot struct {
	// Key identifies the slot: the channel and the wall-clock time in the
	// schedule's zone, so a clock that fires twice in a repeated hour names
	// the same slot; "manual" slots carry the time of the request.
	Key     string
	Channel string
	Due     time.Time
	Manual  bool
}

// SlotRecord is a slot as stored.
type SlotRecord struct {
	Slot
	State      SlotState
	Owner      string    // who holds or last held the claim
	LeaseUntil time.Time // a claim not settled by then may be taken over
	QuizID     int64     // the quiz created for the slot, 0 if none yet
}

// NewQuiz is what CreateQuiz stores.
type NewQuiz struct {
	Channel   string
	Question  content.Question // a snapshot: old posts keep working if the bank changes
	Cycle     int              // rotation cycle the question was drawn in
	Review    bool             // asked again because the team found it hard
	CreatedAt time.Time
}

// QuizRecord is a quiz as stored, with its answer counts.
type QuizRecord struct {
	ID               int64
	SlotKey          string
	Channel          string
	Question         content.Question
	Cycle            int
	Review           bool
	Late             bool
	MessageTS        string
	CreatedAt        time.Time
	PostedAt         time.Time // zero until posted
	RevealAt         time.Time // zero until posted
	ClosedAt         time.Time // set when the reveal starts; answers stop scoring
	RevealLeaseUntil time.Time
	RevealedAt       time.Time // zero until revealed
	Answered         int       // answers recorded
	Correct          int       // of which correct
}

// Posted reports whether the quiz message went out.
func (r QuizRecord) Posted() bool { return !r.PostedAt.IsZero() }

// closed reports whether answers given at now no longer score.
func (r QuizRecord) closed(now time.Time) bool {
	return !r.ClosedAt.IsZero() || !r.RevealedAt.IsZero() ||
		(!r.RevealAt.IsZero() && !r.RevealAt.After(now))
}

// Posting is what MarkPosted records.
type Posting struct {
	MessageTS string
	PostedAt  time.Time
	RevealAt  time.Time
	Late      bool
}

// AnswerRecord is one user's answer to one quiz.
type AnswerRecord struct {
	QuizID  int64
	User    string
	Choice  int
	Correct bool
	At      time.Time
}

// AnswerOutcome is what RecordAnswer did.
type AnswerOutcome struct {
	// Stored is the answer that stands: the new one, or the user's first.
	// It is zero when the quiz was closed and the user had not answered.
	Stored AnswerRecord
	// Already means the user had answered before; Stored is that answer.
	Already bool
	// Closed means the quiz no longer takes answers; nothing was stored.
	Closed bool
}

// Store is everything the quiz keeps durably. Implementations must be safe
// for concurrent use, and for use by several processes sharing the data:
// every method that decides something (a claim, an answer) does so
// atomically. Times are passed in, never read from a clock.
type Store interface {
	// Slot returns the stored slot with the given key; ok is false if there is none.
	Slot(ctx context.Context, key string) (rec SlotRecord, ok bool, err error)
	// ClaimSlot claims s for owner until leaseUntil. It succeeds if the slot
	// is new, or claimed under a lease that ended at or before now (a
	// crashed poster); then rec.QuizID names the quiz that crashed poster
	// created, if any. Otherwise won is false and rec is the slot as stored.
	ClaimSlot(ctx context.Context, s Slot, owner string, now, leaseUntil time.Time) (rec SlotRecord, won bool, err error)
	// ClaimManualSlot is ClaimSlot for a manual slot, except that it does
	// not claim s (won is false, rec is the other slot) if another manual
	// slot of s.Channel, claimed or posted, is due after since.
	ClaimManualSlot(ctx context.Context, s Slot, owner string, since, now, leaseUntil time.Time) (rec SlotRecord, won bool, err error)
	// RenewClaim extends owner's claim on the slot to leaseUntil. ok is
	// false, and nothing changes, if the slot is settled or someone else
	// holds the claim now.
	RenewClaim(ctx context.Context, key, owner string, now, leaseUntil time.Time) (ok bool, err error)
	// SettleSlot records s as missed or skipped, unless it is already
	// settled or claimed by someone other than owner under a live lease.
	// When the slot ends up missed or skipped, it also closes the slot's
	// quiz if it was never recorded as posted (a poster crashed after
	// choosing it, perhaps after posting it), in the same transaction. It
	// returns the slot as stored afterwards.
	SettleSlot(ctx context.Context, s Slot, state SlotState, owner string, now time.Time) (SlotRecord, error)
	// CreateQuiz stores the quiz for a slot owner has claimed and links it
	// to the slot; it returns ErrClaimLost if the claim is gone, and the
	// existing quiz if the slot already has one.
	CreateQuiz(ctx context.Context, slotKey, owner string, q NewQuiz) (QuizRecord, error)
	// MarkPosted records that the quiz's message went out and settles its slot.
	MarkPosted(ctx context.Context, quizID int64, p Posting) error
	// Quiz returns the quiz with the given id, or ErrNotFound.
	Quiz(ctx context.Context, id int64) (QuizRecord, error)
	// Quizzes returns the posted quizzes of a channel, oldest first.
	Quizzes(ctx context.Context, channel string) ([]QuizRecord, error)
	// OpenQuizzes returns the posted but not yet revealed quizzes of a channel.
	OpenQuizzes(ctx context.Context, channel string) ([]QuizRecord, error)
	// ClaimReveal closes the quiz to answers (if not already) and claims
	// the right to reveal it until leaseUntil. It fails if the quiz is
	// revealed or another reveal holds a live lease. attempt counts the
	// claims so far, including this one.
	ClaimReveal(ctx context.Context, quizID int64, owner string, now, leaseUntil time.Time) (attempt int, won bool, err error)
	// RenewReveal extends owner's reveal claim on the quiz to leaseUntil.
	// ok is false, and nothing changes, if the quiz is revealed or someone
	// else holds the reveal claim now.
	RenewReveal(ctx context.Context, quizID int64, owner string, now, leaseUntil time.Time) (ok bool, err error)
	// MarkRevealed records that the reveal was published.
	MarkRevealed(ctx context.Context, quizID int64, now time.Time) error
	// RecordAnswer stores a's answer unless the user already answered that
	// quiz or it is closed at a.At, and is durable when it returns.
	RecordAnswer(ctx context.Context, a AnswerRecord) (AnswerOutcome, error)
	// Answers returns a quiz's answers in the order they were given.
	Answers(ctx context.Context, quizID int64) ([]AnswerRecord, error)
	// ChannelAnswers returns every answer to the posted quizzes of a channel.
	ChannelAnswers(ctx context.Context, channel string) ([]AnswerRecord, error)
	// Paused reports whether the scheduled quiz of a channel is paused.
	Paused(ctx context.Context, channel string) (bool, error)
	// SetPaused pauses or resumes the scheduled quiz of a channel.
	SetPaused(ctx context.Context, channel string, paused bool, now time.Time) error
}

// Publisher shows the quiz in Slack; package bot implements it. Every call
// may be retried after a crash, so an implementation should make repeated
// calls harmless where it can (e.g. tag the message with p.SlotKey).
type Publisher interface {
	// PostQuiz posts q to p.Channel and returns the message's timestamp.
	// p.QuizID is what answer buttons must carry; p.Late asks the message to
	// say it is late.
	PostQuiz(ctx context.Context, p Post, q content.Question) (messageTS string, err error)
	// UpdateCount shows how many people answered, never how they answered.
	// The reveal is the last word on a message: UpdateCount is called only
	// while the quiz is open and is never retried, and an implementation
	// should not retry it either, since a late retry could land after a
	// reveal made meanwhile and hide it.
	UpdateCount(ctx context.Context, p Post, answered int) error
	// Reveal edits the quiz message to show the answer and per-choice
	// counts, and congratulates the winners (user ids, fastest first).
	Reveal(ctx context.Context, p Post, q content.Question, counts []int, winners []string) error
}

// Post identifies a quiz message.
type Post struct {
	QuizID    int64
	Channel   string
	MessageTS string // empty when posting
	SlotKey   string
	Late      bool // posted after its time because the bot was down
	Review    bool // asked again because the team found it hard
	// Question is the question asked (the quiz's stored copy), so a count
	// update can redraw the message.
	Question content.Question
}

func postOf(r QuizRecord) Post {
	return Post{QuizID: r.ID, Channel: r.Channel, MessageTS: r.MessageTS, SlotKey: r.SlotKey, Late: r.Late, Review: r.Review, Question: r.Question}
}
