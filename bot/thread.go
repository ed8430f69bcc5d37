package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"shipmate/index"
)

// Thread follow-ups: in a thread Shipmate answered in, a later message
// without a mention is answered in the thread's context when Shipmate is
// confident, and left alone otherwise. The threads and their last turns are
// in the store (Memory), never read back from Slack.

const (
	// keepTurns is how many turns of a thread are kept as context.
	keepTurns = 6
	// threadTTL is how long a thread without a new turn is remembered.
	threadTTL = 30 * 24 * time.Hour
	// homeTTL is how long a user who stopped opening the App Home keeps
	// getting it refreshed.
	homeTTL = 90 * 24 * time.Hour
	// dmWindow bounds the context of a direct message outside a thread:
	// earlier turns older than this are a conversation that has ended.
	dmWindow = 30 * time.Minute
	// pruneEvery is how often old threads, gaps and App Home users are
	// deleted.
	pruneEvery = time.Hour
)

// convo is the Bot's state for the conversation features.
type convo struct {
	mem  Memory
	rec  *recorder // writes thread turns and declined questions behind replies
	conf Conversation
	now  func() time.Time

	pruneMu sync.Mutex
	pruned  time.Time
}

// forget is the Memory of a bot built without one: nothing is kept, so no
// thread is followed and no gap recorded.
type forget struct{}

func (forget) AddTurn(context.Context, string, string, Turn, int, time.Time) error { return nil }
func (forget) Thread(context.Context, string, string) ([]Turn, bool, error)        { return nil, false, nil }
func (forget) PruneThreads(context.Context, time.Time) (int, error)                { return 0, nil }
func (forget) AddGap(context.Context, Gap) (int64, bool, error)                    { return 0, true, nil }
func (forget) CommentGap(context.Context, int64, string, string) (bool, error)     { return false, nil }
func (forget) Gaps(context.Context, time.Time, int) ([]Gap, error)                 { return nil, nil }
func (forget) PruneGaps(context.Context, time.Time) (int, error)                   { return 0, nil }
func (forget) ClaimDigest(context.Context, string, time.Time) (bool, error)        { return true, nil }
func (forget) HomeOpened(context.Context, string, time.Time) error                 { return nil }
func (forget) HomeUsers(context.Context, time.Time, int) ([]string, error)         { return nil, nil }
func (forget) HasHome(context.Context, string, time.Time) (bool, error)            { return false, nil }
func (forget) PruneHomes(context.Context, time.Time) (int, error)                  { return 0, nil }

// initConversation sets up the conversation features from b.opts and
// registers their buttons. New calls it.
func (b *Bot) initConversation() {
	mem := b.opts.Memory
	if mem == nil {
		mem = forget{}
	}
	conf := b.opts.Conversation
	if conf.GapsRetention <= 0 {
		conf.GapsRetention = DefaultGapsRetention
	}
	b.convo = &convo{mem: mem, rec: newRecorder(mem, keepTurns, b.log, b.metrics), conf: conf, now: time.Now}
	if b.cmds != nil {
		b.cmds.written = b.convo.rec.sync
	}
	b.HandleAction(ActionHelpful, b.feedback)
	b.HandleAction(ActionNotHelpful, b.feedback)
	b.HandleAction(ActionShareThread, b.shareInThread)
	b.HandleAction(ActionClarify, b.clarify)
}

// history returns the earlier turns of the conversation (channel, thread)
// as context for a new message there; dm says the channel is a direct
// message, where a conversation outside a thread ends after dmWindow.
func (b *Bot) history(ctx context.Context, channel, thread string, dm bool) []Turn {
	turns, _, err := b.convo.rec.thread(ctx, channel, thread)
	if err != nil {
		b.log.Warn("thread context unavailable, answering without it", "channel", channel, "thread", thread, "err", err)
		return nil
	}
	if dm && thread == "" {
		since := b.convo.now().Add(-dmWindow)
		recent := turns[:0]
		for _, t := range turns {
			if t.At.After(since) {
				recent = append(recent, t)
			}
		}
		turns = recent
	}
	return turns
}

// remember records what Shipmate replied to question in (channel,
// thread): an answer becomes a turn of the thread (so later follow-ups are
// read in its context), a declined question becomes a gap. key identifies
// the message (its event), so a retried event is recorded once.
func (b *Bot) remember(ctx context.Context, key, user, channel, thread, question string, reply Reply) {
	b.rememberTurn(ctx, channel, thread, question, reply)
	if declined(reply) {
		b.recordGapLater(ctx, Gap{Kind: GapDeclined, Question: question, User: user, Key: key})
	}
}

// rememberTurn is remember's first half: the turn an answer adds to the
// thread, handed to the recorder (see recorder.go).
func (b *Bot) rememberTurn(ctx context.Context, channel, thread, question string, reply Reply) {
	if t, ok := turnOf(question, reply); ok && channel != "" {
		t.At = b.convo.now()
		if err := b.convo.rec.addTurn(ctx, channel, thread, t); err != nil {
			b.log.Error("remember thread turn", "channel", channel, "thread", thread, "err", err)
		}
	}
}

// turnOf is the turn a reply adds to a conversation: the question and the
// services answered. Help, scores and the like add none.
func turnOf(question string, r Reply) (Turn, bool) {
	t := Turn{Question: question}
	switch {
	case r.Answer != nil:
		if top := r.Answer.Top(); top != nil {
			t.Services, t.Answer = top.Services, top.Kind+"/"+top.ID
		}
	case r.Service != nil:
		t.Services, t.Answer = []string{r.Service.ID}, "service/"+r.Service.ID
	case len(r.Compare) == 2:
		t.Services = []string{r.Compare[0].ID, r.Compare[1].ID}
	default:
		return Turn{}, false
	}
	return t, true
}

// onThreadMessage answers a message without a mention in a channel
// thread Shipmate answered in, when it can answer confidently. Everything
// else is left alone: top-level channel messages, threads Shipmate is not
// part of, chatter, questions it cannot answer, messages addressed to
// someone else, bots (itself included), edits and other subtypes.
func (b *Bot) onThreadMessage(ctx context.Context, eventID string, ev *slackevents.MessageEvent) error {
	if !b.convo.conf.Followups || ev.SubType != "" || ev.BotID != "" || ev.User == "" || ev.User == b.botUser {
		return nil
	}
	if ev.ThreadTimeStamp == "" || ev.ThreadTimeStamp == ev.TimeStamp || ev.Channel == "" {
		return nil // not a reply in a thread
	}
	if mentionsSomeone(ev.Text) {
		// Mentioning Shipmate also sends an app_mention, which answers it;
		// mentioning someone else addresses them.
		return nil
	}
	turns, ok, err := b.convo.rec.thread(ctx, ev.Channel, ev.ThreadTimeStamp)
	if err != nil {
		return fmt.Errorf("read thread %s/%s: %w", ev.Channel, ev.ThreadTimeStamp, err)
	}
	if !ok {
		return nil
	}
	key := eventID
	if key == "" {
		key = ev.Channel + "/" + ev.TimeStamp
	}
	if !b.firstSeen(ctx, "event:"+key) {
		return nil
	}
	question := stripMentions(ev.Text)
	reply, err := b.cmds.askIn(ctx, ev.User, question, turns)
	if err != nil {
		return err
	}
	if reply.Answer == nil || (reply.Answer.Top() == nil && reply.Answer.Clarify == nil) {
		// No "I don't know" in a conversation between people; a question
		// still counts as one Shipmate could not answer.
		if strings.Contains(question, "?") {
			b.recordGapLater(ctx, Gap{Kind: GapDeclined, Question: question, User: ev.User, Key: "event:" + key})
		}
		b.log.Debug("thread follow-up left alone", "channel", ev.Channel, "thread", ev.ThreadTimeStamp)
		return nil
	}
	b.remember(ctx, "event:"+key, ev.User, ev.Channel, ev.ThreadTimeStamp, question, reply)
	b.metrics.Answered(outcome(reply, nil))
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: question})
	b.postReply(ctx, ev.Channel, ev.ThreadTimeStamp, ev.TimeStamp, msg)
	return nil
}

// mentionsSomeone reports whether text mentions a user (<@U…>).
func mentionsSomeone(text string) bool { return leadingMention.MatchString(text) }

// indexTurns gives the engine a conversation's earlier turns.
func indexTurns(turns []Turn) []index.Turn {
	if len(turns) == 0 {
		return nil
	}
	out := make([]index.Turn, len(turns))
	for i, t := range turns {
		out[i] = index.Turn{Question: t.Question, Services: t.Services}
	}
	return out
}

// askIn answers question as said after turns: a follow-up is read in
// their context.
func (c *Commands) askIn(ctx context.Context, user, question string, turns []Turn) (Reply, error) {
	if strings.TrimSpace(question) == "" {
		return Reply{}, nil
	}
	return c.run(ctx, "ask", Request{User: user, Args: question, History: turns})
}

// DispatchIn is Dispatch for text said in a conversation: a question is
// read in the context of the conversation's earlier turns.
func (c *Commands) DispatchIn(ctx context.Context, user, text string, turns []Turn) (Reply, error) {
	text = strings.TrimSpace(text)
	name, _, _ := strings.Cut(text, " ")
	if text == "" || c.lookup(name) != nil {
		return c.Dispatch(ctx, user, text)
	}
	return c.askIn(ctx, user, text, turns)
}

// sayWait bounds how long say waits for Slack; the client retries 429s,
// 5xx and network errors within it.
const sayWait = time.Minute

// say posts a message to a channel and waits for Slack's answer, for the
// callers that act on it (a share that then removes the private copy, a
// digest); replies go through the outbox (post) instead.
func (b *Bot) say(ctx context.Context, channel string, opts ...slack.MsgOption) error {
	ctx, cancel := context.WithTimeout(ctx, sayWait)
	defer cancel()
	_, _, err := b.api.PostMessageContext(ctx, channel, opts...)
	return err
}

// maybePrune deletes what the conversation features no longer need, at
// most once per pruneEvery: threads idle for threadTTL, gaps older than the
// retention, App Home users gone for homeTTL.
func (b *Bot) maybePrune(ctx context.Context) {
	c := b.convo
	now := c.now()
	c.pruneMu.Lock()
	due := now.Sub(c.pruned) >= pruneEvery
	if due {
		c.pruned = now
	}
	c.pruneMu.Unlock()
	if !due {
		return
	}
	threads, err1 := c.mem.PruneThreads(ctx, now.Add(-threadTTL))
	gaps, err2 := c.mem.PruneGaps(ctx, now.Add(-c.conf.GapsRetention))
	homes, err3 := c.mem.PruneHomes(ctx, now.Add(-homeTTL))
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			b.log.Warn("prune conversation records", "err", err)
		}
	}
	if threads+gaps+homes > 0 {
		b.log.Info("pruned conversation records", "threads", threads, "gaps", gaps, "home_users", homes)
	}
}
