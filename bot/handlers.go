package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// jobKey carries the job being handled in a context, so replies know when
// their envelope arrived and what kind they are.
type jobKey struct{}

func withJob(ctx context.Context, j job) context.Context { return context.WithValue(ctx, jobKey{}, j) }

func jobOf(ctx context.Context) job {
	j, ok := ctx.Value(jobKey{}).(job)
	if !ok {
		j = job{received: time.Now(), kind: "other"}
	}
	return j
}

// work handles one envelope. A panic is logged and answered with an
// apology, never fatal.
func (b *Bot) work(ctx context.Context, j job) {
	switch j.evt.Type {
	case socketmode.EventTypeEventsAPI:
		j.kind = "mention"
	case socketmode.EventTypeSlashCommand:
		j.kind = "slash"
	case socketmode.EventTypeInteractive:
		j.kind = "click"
	}
	ctx = withJob(ctx, j)
	defer func() {
		if r := recover(); r != nil {
			b.metrics.Panicked()
			b.log.Error("panic handling envelope", "type", string(j.evt.Type), "envelope", j.evt.Request.EnvelopeID, "panic", fmt.Sprint(r))
			b.apologize(ctx, j)
		}
	}()
	var err error
	switch j.evt.Type {
	case socketmode.EventTypeEventsAPI:
		err = b.onEvent(ctx, j.evt)
	case socketmode.EventTypeSlashCommand:
		err = b.onSlash(ctx, j.evt)
	case socketmode.EventTypeInteractive:
		err = b.onInteractive(ctx, j.evt)
	}
	if err != nil {
		b.log.Error("handle envelope", "type", string(j.evt.Type), "envelope", j.evt.Request.EnvelopeID, "err", err)
		return
	}
	b.log.Debug("handled envelope", "type", string(j.evt.Type), "envelope", j.evt.Request.EnvelopeID, "elapsed", time.Since(j.received))
}

const apology = "Sorry, something went wrong handling that. Please try again."

// apologize answers an envelope whose handler panicked.
func (b *Bot) apologize(ctx context.Context, j job) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic apologizing", "panic", fmt.Sprint(r))
		}
	}()
	msg := Message{Text: apology, Blocks: []slack.Block{section(apology)}}
	switch d := j.evt.Data.(type) {
	case slack.SlashCommand:
		b.respond(ctx, d.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
	case slack.InteractionCallback:
		if d.ResponseURL != "" {
			b.respond(ctx, d.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
		}
	case slackevents.EventsAPIEvent:
		var channel, thread, ts string
		switch ev := d.InnerEvent.Data.(type) {
		case *slackevents.AppMentionEvent:
			channel, thread, ts = ev.Channel, ev.ThreadTimeStamp, ev.TimeStamp
			if thread == "" {
				thread = ev.TimeStamp
			}
		case *slackevents.MessageEvent:
			channel, thread, ts = ev.Channel, ev.ThreadTimeStamp, ev.TimeStamp
		}
		if channel != "" {
			b.postReply(ctx, channel, thread, ts, msg)
		}
	}
}

// post queues a message for a channel; the outbox paces and retries it.
func (b *Bot) post(ctx context.Context, channel string, opts []slack.MsgOption) {
	j := jobOf(ctx)
	b.out.send(ctx, &delivery{
		lane: "channel:" + channel, channel: channel, kind: j.kind, received: j.received,
		deadline: j.received.Add(b.opts.ReplyDeadline),
		send: func(ctx context.Context) error {
			_, _, err := b.api.PostMessageContext(withChannel(ctx, channel), channel, opts...)
			return err
		},
	})
}

// postReply queues a reply for everyone in a channel (in thread, if not
// empty) to the message whose ts is after, marked so that a post whose
// answer Slack lost is looked for rather than posted twice (lookback.go).
func (b *Bot) postReply(ctx context.Context, channel, thread, after string, msg Message) {
	j := jobOf(ctx)
	opts, form := msg.replyOptions()
	marker := newMarker()
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if form != "" {
		form += "&" + replyMetadataField(marker)
	} else {
		opts = append(opts, slack.MsgOptionMetadata(replyMetadata(marker)))
	}
	b.out.send(ctx, &delivery{
		lane: "channel:" + channel, channel: channel, kind: j.kind, received: j.received,
		deadline: j.received.Add(b.opts.ReplyDeadline),
		send: func(ctx context.Context) error {
			l := &lookBack{method: historyMethod(thread), look: b.findReply(channel, thread, after, marker)}
			_, _, err := b.api.PostMessageContext(withLookBack(withForm(withChannel(ctx, channel), form), l), channel, opts...)
			if _, found := l.posted(); err != nil && found {
				return nil
			}
			return err
		},
	})
}

// maxQuestion bounds the text handed to the command table: a question is a
// sentence or two, and a pasted log must not cost seconds of CPU.
const maxQuestion = 2000

// clipQuestion cuts text to maxQuestion bytes at a character boundary and
// drops invalid UTF-8.
func clipQuestion(text string) string {
	text = strings.ToValidUTF8(text, " ")
	if len(text) <= maxQuestion {
		return text
	}
	cut := maxQuestion
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut]
}

// onEvent answers mentions in channels (in the thread) and direct messages.
func (b *Bot) onEvent(ctx context.Context, evt socketmode.Event) error {
	api, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok {
		return nil
	}
	var outer struct {
		EventID string `json:"event_id"`
	}
	if cb, ok := api.Data.(*slackevents.EventsAPICallbackEvent); ok {
		outer.EventID = cb.EventID // decoded already: no second pass over the payload
	} else {
		_ = json.Unmarshal(evt.Request.Payload, &outer)
	}
	var user, channel, text, ts, thread string
	switch ev := api.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		if ev.BotID != "" || ev.User == b.botUser || ev.User == "" {
			return nil
		}
		user, channel, text, ts, thread = ev.User, ev.Channel, ev.Text, ev.TimeStamp, ev.ThreadTimeStamp
		if thread == "" {
			thread = ts // start a thread under the mention
		}
	case *slackevents.AppHomeOpenedEvent:
		return b.onHomeOpened(ctx, ev)
	case *slackevents.MessageEvent:
		if ev.ChannelType != "im" {
			return b.onThreadMessage(ctx, outer.EventID, ev)
		}
		// Only direct messages from people: no bots (ourselves included),
		// no edits, joins or other subtypes.
		if ev.SubType != "" || ev.BotID != "" || ev.User == "" || ev.User == b.botUser {
			return nil
		}
		user, channel, text, ts, thread = ev.User, ev.Channel, ev.Text, ev.TimeStamp, ev.ThreadTimeStamp
		j := jobOf(ctx)
		j.kind = "dm"
		ctx = withJob(ctx, j)
	default:
		return nil
	}
	if channel == "" {
		return nil
	}
	key := outer.EventID
	if key == "" {
		key = channel + "/" + ts
	}
	if !b.firstSeen(ctx, "event:"+key) {
		b.log.Debug("duplicate event", "event_id", outer.EventID, "retry", evt.Request.RetryAttempt)
		return nil
	}
	question := clipQuestion(stripMentions(text))
	dm := strings.HasPrefix(channel, "D")
	var history []Turn
	if thread != ts || dm {
		// A mention outside a thread starts one: there is nothing before it.
		history = b.history(ctx, channel, thread, dm)
	}
	reply, err := b.cmds.DispatchIn(ctx, user, question, history)
	b.metrics.Answered(outcome(reply, err))
	if err != nil {
		b.log.Error("command", "user", user, "text", question, "err", err)
		reply = Reply{Text: "Sorry, something went wrong answering that. Please try again."}
	}
	b.rememberTurn(ctx, channel, thread, question, reply)
	msg := b.renderAnswer(reply, question, len(history) == 0)
	if reply.Private {
		// Only the asker sees it (a leaderboard would ping everyone on it).
		opts := msg.Options()
		if thread != "" {
			opts = append(opts, slack.MsgOptionTS(thread))
		}
		b.post(ctx, channel, append(opts, slack.MsgOptionPostEphemeral(user)))
		return nil
	}
	b.postReply(ctx, channel, thread, ts, msg)
	if declined(reply) {
		b.recordGapLater(ctx, Gap{Kind: GapDeclined, Question: question, User: user, Key: "event:" + key})
	}
	return nil
}

// renderAnswer renders the reply to question for a channel or a DM. An
// answer to a question asked outside a conversation depends on the
// question alone while the process runs (the content does not change, see
// index.Answer), so its message is rendered and encoded once and then
// taken from b.rendered.
func (b *Bot) renderAnswer(reply Reply, question string, alone bool) Message {
	if !alone || reply.Answer == nil || reply.Private || len(question) > maxRenderedQuestion {
		return RenderBlocks(reply, b.name, RenderOptions{Command: question})
	}
	if m, ok := b.rendered.Get(question); ok {
		return m
	}
	m := RenderBlocks(reply, b.name, RenderOptions{Command: question}).Encoded()
	b.rendered.Add(question, m)
	return m
}

// Bounds of b.rendered: how many questions, and how long one may be.
const (
	renderedAnswers     = 1024
	maxRenderedQuestion = 512
)

// outcome names what a command did, for the answers metric.
func outcome(r Reply, err error) string {
	switch {
	case err != nil:
		return "error"
	case r.Answer != nil && r.Answer.Clarify != nil:
		return "clarified"
	case r.Answer != nil && r.Answer.Confident:
		return "confident"
	case r.Answer != nil:
		return "declined"
	}
	return "command"
}

var leadingMention = regexp.MustCompile(`<@[A-Z0-9]+(?:\|[^>]*)?>`)

// stripMentions removes user mentions (the bot's own, mostly); the index
// normalizes the rest of Slack's markup.
func stripMentions(text string) string {
	return strings.TrimSpace(leadingMention.ReplaceAllString(text, " "))
}

// onSlash answers /shipmate privately, with a button to share.
func (b *Bot) onSlash(ctx context.Context, evt socketmode.Event) error {
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		return nil
	}
	if cmd.TriggerID != "" && !b.firstSeen(ctx, "slash:"+cmd.TriggerID) {
		return nil
	}
	text := clipQuestion(cmd.Text)
	reply, err := b.cmds.Dispatch(ctx, cmd.UserID, text)
	b.metrics.Answered(outcome(reply, err))
	if err != nil {
		b.log.Error("command", "user", cmd.UserID, "text", text, "err", err)
		reply = Reply{Text: "Sorry, something went wrong answering that. Please try again."}
	}
	share := reply.Answer != nil && reply.Answer.Confident || reply.Service != nil || reply.Compare != nil
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: text, Share: share})
	if declined(reply) {
		var key string // without a trigger id there is nothing to tell a retry by
		if cmd.TriggerID != "" {
			key = "slash:" + cmd.TriggerID
		}
		b.recordGap(ctx, Gap{Kind: GapDeclined, Question: text, User: cmd.UserID, Key: key})
		msg = HelpHint(msg, b.cmds.Examples(ctx, 2))
	}
	return b.respond(ctx, cmd.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
}

// respond queues msg for a response_url. Posts to one URL go in order (a
// share's in-channel post before its delete_original). It returns an error
// only for a missing URL: delivery failures are logged by the outbox.
func (b *Bot) respond(ctx context.Context, url, responseType string, replace bool, msg Message) error {
	if url == "" {
		return errors.New("no response_url to answer on")
	}
	opts := append(msg.Options(), slack.MsgOptionResponseURL(url, responseType))
	if replace {
		opts = append(opts, slack.MsgOptionReplaceOriginal(url))
	}
	b.respondWith(ctx, url, opts)
	return nil
}

func (b *Bot) respondWith(ctx context.Context, url string, opts []slack.MsgOption) {
	j := jobOf(ctx)
	deadline := j.received.Add(min(b.opts.ReplyDeadline, responseURLLife-time.Minute))
	b.out.send(ctx, &delivery{
		lane: "response_url:" + url, channel: "response_url", kind: j.kind, received: j.received, deadline: deadline,
		send: func(ctx context.Context) error {
			_, _, err := b.api.PostMessageContext(ctx, "", opts...)
			return err
		},
	})
}

// retry runs fn once. The slack client retries by itself (429 after
// Retry-After, 5xx and network errors with backoff, all within ctx's
// deadline: see transport.go); callers written when it did not still wrap
// their calls in it.
func (b *Bot) retry(ctx context.Context, fn func() error) error { return fn() }

// onInteractive routes button clicks to their handlers.
func (b *Bot) onInteractive(ctx context.Context, evt socketmode.Event) error {
	cb, ok := evt.Data.(slack.InteractionCallback)
	switch {
	case !ok:
		return nil
	case cb.Type == slack.InteractionTypeMessageAction:
		return b.onShortcut(ctx, &cb)
	case cb.Type == slack.InteractionTypeViewSubmission:
		return b.onViewSubmission(ctx, &cb)
	case cb.Type != slack.InteractionTypeBlockActions:
		return nil
	}
	for _, a := range cb.ActionCallback.BlockActions {
		key := fmt.Sprintf("action:%s/%s/%s/%s", cb.User.ID, cb.Container.MessageTs, a.ActionID, a.ActionTs)
		if !b.firstSeen(ctx, key) {
			continue
		}
		h := b.actionHandler(a.ActionID)
		if h == nil {
			b.log.Warn("click on unknown button", "action_id", a.ActionID)
			b.outOfDate(ctx, &cb)
			continue
		}
		if err := h(ctx, &cb, a); err != nil {
			return fmt.Errorf("action %s: %w", a.ActionID, err)
		}
	}
	return nil
}

func (b *Bot) actionHandler(id string) ActionHandler {
	best := ""
	for p := range b.actions {
		if strings.HasPrefix(id, p) && len(p) > len(best) {
			best = p
		}
	}
	return b.actions[best]
}

// share posts a private answer into the channel for everyone.
func (b *Bot) share(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	reply, err := b.cmds.Dispatch(ctx, cb.User.ID, a.Value)
	if err != nil {
		return err
	}
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: a.Value, SharedBy: cb.User.ID})
	if cb.ResponseURL == "" {
		return errors.New("share click without a response_url")
	}
	post := append(msg.Options(), slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeInChannel))
	j := jobOf(ctx)
	b.out.send(ctx, &delivery{
		lane: "response_url:" + cb.ResponseURL, channel: cb.Channel.ID, kind: j.kind, received: j.received,
		deadline: j.received.Add(min(b.opts.ReplyDeadline, responseURLLife-time.Minute)),
		send: func(ctx context.Context) error {
			// The private copy goes only once the shared one is posted.
			if _, _, err := b.api.PostMessageContext(ctx, "", post...); err != nil {
				return err
			}
			_, _, err := b.api.PostMessageContext(ctx, "", slack.MsgOptionDeleteOriginal(cb.ResponseURL))
			return err
		},
	})
	return nil
}

// outOfDate tells the clicker privately that a button no longer works.
func (b *Bot) outOfDate(ctx context.Context, cb *slack.InteractionCallback) {
	const text = "Sorry, that button is out of date. Ask again for a fresh answer."
	if cb.ResponseURL != "" {
		b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, Message{Text: text, Blocks: []slack.Block{section(text)}})
	}
}

// practice grades a practice quiz answer privately.
func (b *Bot) practice(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	id, idx, ok := strings.Cut(a.Value, "|")
	choice, err := strconv.Atoi(idx)
	q := b.cmds.base.Question(id)
	if !ok || err != nil || q == nil || choice < 0 || choice >= len(q.Choices) {
		b.outOfDate(ctx, cb)
		return fmt.Errorf("bad practice answer %q", a.Value)
	}
	// Replacing is only for the user's own (ephemeral) quiz: replacing a quiz
	// posted in a channel would show one user's grade to everyone and remove
	// the question for the others.
	replace := cb.Container.IsEphemeral
	return b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, replace, GradeBlocks(q, choice, b.cmds.base.Note(q.Note)))
}

// dedupe remembers keys for a while, so Slack's retries of an event (same
// event_id) and double clicks are handled once.
type dedupe struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	keys map[string]time.Time
	now  func() time.Time
}

func newDedupe(ttl time.Duration, max int) *dedupe {
	return &dedupe{ttl: ttl, max: max, keys: map[string]time.Time{}, now: time.Now}
}

// first reports whether key is new, and remembers it.
func (d *dedupe) first(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if t, ok := d.keys[key]; ok && now.Sub(t) < d.ttl {
		return false
	}
	if len(d.keys) >= d.max {
		for k, t := range d.keys {
			if now.Sub(t) >= d.ttl {
				delete(d.keys, k)
			}
		}
		if len(d.keys) >= d.max { // all fresh: forget the oldest half rather than grow
			i := 0
			for k := range d.keys {
				if i%2 == 0 {
					delete(d.keys, k)
				}
				i++
			}
		}
	}
	d.keys[key] = now
	return true
}
