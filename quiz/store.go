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
	// ErrNotScheduler means the caller's scheduler term has ended: another
	// process took the scheduler lock over, so this one must not start
	// anything in Slack.
	ErrNotScheduler = errors.New("no longer the quiz scheduler")
)

// SlotState is what became of a slot.
type SlotState string

// The states of a slot. Claimed is the only one that is not final: the slot
// was requested (a PostNow, no quiz yet) or its quiz is being posted.
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
	State  SlotState
	QuizID int64 // the quiz chosen for the slot, 0 if none yet
}

// NewQuiz is what ClaimSlot stores with its slot.
type NewQuiz struct {
	Channel   string
	Question  content.Question // a snapshot: old posts keep working if the bank changes
	Cycle     int              // rotation cycle the question was drawn in
	Review    bool             // asked again because the team found it hard
	Late      bool             // posted after its time because the bot was down
	CreatedAt time.Time
}

// QuizRecord is a quiz as stored, with its answer counts. Its times record
// each step's intent before the Slack call and its outcome after, so that a
// scheduler starting after a crash knows which calls may have been made.
type QuizRecord struct {
	ID        int64
	SlotKey   string
	Channel   string
	Question  content.Question
	Cycle     int
	Review    bool
	Late      bool
	MessageTS string // the quiz message, once known
	CreatedAt time.Time
	// PostStartedAt is when the latest attempt to post the message began;
	// zero if it was never tried. Set and PostedAt zero: the message may or
	// may not be in Slack.
	PostStartedAt time.Time
	PostedAt      time.Time // zero until the message is known to be in Slack
	RevealAt      time.Time // zero until posted
	// ClosedAt is set when the reveal starts (or a never-confirmed post is
	// given up): answers stop scoring.
	ClosedAt time.Time
	// RevealShownAt is set once the message shows the answer; the result
	// line in its thread is posted only after, so set and ResultTS empty
	// means that line may or may not be in Slack.
	RevealShownAt time.Time
	ResultTS      string    // the result line in the quiz's thread
	RevealedAt    time.Time // zero until the reveal is complete
	Answered      int       // answers recorded
	Correct       int       // of which correct
}

// Posted reports whether the quiz message is known to be in Slack.
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
// for concurrent use by several processes sharing the data: exactly-once
// comes from the database (unique keys, conditional updates), and the
// scheduler lock makes one process at a time the one that talks to Slack
// for the quiz. Times are passed in, never read from a clock.
type Store interface {
	// LockScheduler waits until this process holds the scheduler lock
	// named name (the quiz channel), or ctx ends. The lock is the
	// database's own (a PostgreSQL advisory lock, a lock on the SQLite
	// file), so it is released when its holder exits or dies, however.
	LockScheduler(ctx context.Context, name string) (Term, error)

	// Slot returns the stored slot with the given key; ok is false if there is none.
	Slot(ctx context.Context, key string) (rec SlotRecord, ok bool, err error)
	// PendingSlots returns the claimed slots of a channel, oldest first:
	// PostNow requests (QuizID 0) and quizzes being posted.
	PendingSlots(ctx context.Context, channel string) ([]SlotRecord, error)
	// ClaimSlot records that s is to be posted with the quiz nq: a new slot
	// and its quiz in one transaction, or the quiz for a requested slot
	// that has none yet. won is false, and qr is the slot's quiz (zero if
	// none), if the slot already has a quiz or is settled. It returns
	// ErrNotScheduler if epoch is not the scheduler lock's current term.
	ClaimSlot(ctx context.Context, s Slot, nq NewQuiz, epoch int64) (qr QuizRecord, won bool, err error)
	// RequestPost stores s, a manual slot, as claimed with no quiz, for the
	// scheduler to post; won is false (rec is the other slot) if another
	// manual slot of s.Channel, claimed or posted, is due after since.
	RequestPost(ctx context.Context, s Slot, since time.Time) (rec SlotRecord, won bool, err error)
	// SettleSlot records s as missed or skipped unless it is settled
	// already or its quiz's post was attempted; a requested slot or one
	// whose quiz never went out is settled, closing that quiz. It returns
	// the slot as stored afterwards.
	SettleSlot(ctx context.Context, s Slot, state SlotState, now time.Time) (SlotRecord, error)
	// GiveUpPost settles the slot of a quiz whose post may have gone out
	// but cannot be confirmed as missed, and closes the quiz, so a click on
	// a stray message is answered "closed".
	GiveUpPost(ctx context.Context, quizID int64, now time.Time) error
	// StartPost records that an attempt to post the quiz begins at at. It
	// returns ErrNotScheduler if epoch is not the current term.
	StartPost(ctx context.Context, quizID, epoch int64, at time.Time) error
	// MarkPosted records that the quiz's message is in Slack and settles
	// its slot; the first message's timestamp is kept.
	MarkPosted(ctx context.Context, quizID int64, p Posting) error
	// Quiz returns the quiz with the given id, or ErrNotFound.
	Quiz(ctx context.Context, id int64) (QuizRecord, error)
	// Quizzes returns the quizzes of a channel that were posted or tried
	// to be, oldest first.
	Quizzes(ctx context.Context, channel string) ([]QuizRecord, error)
	// OpenQuizzes returns the posted but not yet revealed quizzes of a channel.
	OpenQuizzes(ctx context.Context, channel string) ([]QuizRecord, error)
	// RequestReveal makes the open quizzes of a channel due for reveal at
	// now and returns how many there are.
	RequestReveal(ctx context.Context, channel string, now time.Time) (int, error)
	// CloseQuiz starts the reveal: answers stop scoring from now on (if
	// they had not already). It returns the quiz as stored afterwards, or
	// ErrNotScheduler if epoch is not the current term.
	CloseQuiz(ctx context.Context, quizID, epoch int64, now time.Time) (QuizRecord, error)
	// MarkRevealShown records that the quiz message shows the answer.
	MarkRevealShown(ctx context.Context, quizID int64, now time.Time) error
	// MarkRevealed records the result line and completes the reveal.
	MarkRevealed(ctx context.Context, quizID int64, resultTS string, now time.Time) error
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

// Term is one holding of the scheduler lock.
type Term interface {
	// Epoch numbers the terms: each new holder of the lock gets a higher one.
	Epoch() int64
	// Lost is closed if the lock is lost while held (its database
	// connection dropped).
	Lost() <-chan struct{}
	// Wake delivers when another process asked the scheduler for
	// something: a PostNow or RevealNow request.
	Wake() <-chan struct{}
	// Answered delivers when an answer was recorded, in any process: the
	// count on the message is to be updated.
	Answered() <-chan struct{}
	// Release gives the lock up, for another process to take at once.
	Release()
}

// Publisher shows the quiz in Slack; package bot implements it. Each step
// of a quiz is recorded in the Store before its call and after, and a call
// that may have been made is looked for (FindQuiz, FindResult) before it is
// made again, so a crash at any point neither repeats nor loses a message.
type Publisher interface {
	// PostQuiz posts q to p.Channel, tagged with p.QuizID where FindQuiz
	// can find it, and returns the message's timestamp.
	PostQuiz(ctx context.Context, p Post, q content.Question) (messageTS string, err error)
	// FindQuiz looks for the message PostQuiz posted for p.QuizID since
	// `since`; found is false if it is not in Slack. An error wrapping
	// ErrCannotLook means Slack will not say (a missing scope).
	FindQuiz(ctx context.Context, p Post, since time.Time) (messageTS string, found bool, err error)
	// UpdateCount shows how many people answered, never how they answered.
	// It is called only while the quiz is open, never after its reveal
	// began, and an implementation should not retry it: a late retry could
	// land after a reveal and hide it.
	UpdateCount(ctx context.Context, p Post, answered int) error
	// ShowReveal edits the quiz message to show the answer and per-choice
	// counts. Showing the same reveal twice is harmless.
	ShowReveal(ctx context.Context, p Post, q content.Question, counts []int) error
	// PostResult congratulates the winners (user ids, fastest first) in the
	// quiz's thread, tagged for FindResult, and returns the reply's ts.
	PostResult(ctx context.Context, p Post, q content.Question, winners []string) (ts string, err error)
	// FindResult looks for the reply PostResult posted in p's thread.
	FindResult(ctx context.Context, p Post) (ts string, found bool, err error)
}

// ErrCannotLook is wrapped by FindQuiz and FindResult when Slack refuses to
// show the channel's history (the app lacks the history scope).
var ErrCannotLook = errors.New("cannot read the channel's history")

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
