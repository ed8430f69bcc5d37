package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// ActionHandler handles a click on a button whose action id starts with the
// prefix it was registered for.
type ActionHandler func(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error

// Bot is Shipmate in Slack over socket mode.
type Bot struct {
	api     *slack.Client
	sm      *socketmode.Client
	cmds    *Commands
	name    func(string) string
	log     *slog.Logger
	opts    Options
	seen    *dedupe
	actions map[string]ActionHandler
	ready   atomic.Bool
	botUser string
}

// Options tune a Bot; the zero value is fine.
type Options struct {
	// Workers bounds how many replies are worked on at once (default 16).
	Workers int
	// Queue bounds how many acked envelopes may wait for a worker (default 4096).
	Queue int
	// ShutdownGrace bounds how long in-flight replies may take once Run's
	// context ends (default 10s).
	ShutdownGrace time.Duration
	// Retries is how many times a Slack call answered with HTTP 429 is
	// retried after its Retry-After (default 5).
	Retries int
	// SocketOptions are passed to socketmode.New (tests shorten the ping interval).
	SocketOptions []socketmode.Option
}

// New returns a bot that answers with cmds. name turns service ids into
// display names. It does not connect: Run does.
func New(cfg Config, cmds *Commands, name func(string) string, log *slog.Logger, o Options) *Bot {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	api := slack.New(cfg.BotToken.Reveal(), slack.OptionAPIURL(cfg.APIURL), slack.OptionAppLevelToken(cfg.AppToken.Reveal()))
	b := &Bot{
		api:     api,
		sm:      socketmode.New(api, o.SocketOptions...),
		cmds:    cmds,
		name:    name,
		log:     log,
		opts:    o,
		seen:    newDedupe(time.Hour, 100_000),
		actions: map[string]ActionHandler{},
	}
	b.HandleAction(ActionHelpful, b.feedback)
	b.HandleAction(ActionNotHelpful, b.feedback)
	b.HandleAction(ActionShare, b.share)
	b.HandleAction(ActionPractice, b.practice)
	b.HandleAction(ActionQuizAnswer, b.quizAnswer)
	return b
}

// HandleAction routes clicks on buttons whose action id starts with prefix.
// Call it before Run.
func (b *Bot) HandleAction(prefix string, h ActionHandler) { b.actions[prefix] = h }

// Ready reports whether the bot is connected to Slack.
func (b *Bot) Ready() bool { return b.ready.Load() }

// authenticate learns the bot's own user id. A refusal (invalid_auth, a
// revoked token, a wrong SLACK_API_URL) is final; a network failure or a
// Slack outage is retried with backoff, so a bot started during an outage
// comes up when Slack does instead of crash-looping.
func (b *Bot) authenticate(ctx context.Context) (*slack.AuthTestResponse, error) {
	wait := time.Second
	for {
		auth, err := b.api.AuthTestContext(ctx)
		if err == nil {
			return auth, nil
		}
		var refused slack.SlackErrorResponse
		var status slack.StatusCodeError
		if errors.As(err, &refused) || (errors.As(err, &status) && !status.Retryable()) || ctx.Err() != nil {
			return nil, fmt.Errorf("slack auth.test: %w", err)
		}
		var limited *slack.RateLimitedError
		if errors.As(err, &limited) {
			wait = max(wait, limited.RetryAfter)
		}
		b.log.Warn("slack unreachable, retrying", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxAuthWait)
	}
}

// maxAuthWait caps the backoff between auth.test attempts.
const maxAuthWait = 30 * time.Second

// job is an acked envelope waiting for a worker.
type job struct {
	evt      socketmode.Event
	received time.Time
}

// Run connects to Slack and answers until ctx ends, then stops taking new
// work, lets in-flight replies finish (up to ShutdownGrace), closes the
// socket and returns nil. It returns an error if Slack refuses the tokens.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.authenticate(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before Slack could be reached
		}
		return err
	}
	b.botUser = auth.UserID
	b.log.Info("slack authenticated", "team", auth.Team, "bot_user", auth.UserID)

	// Work outlives ctx by up to ShutdownGrace so in-flight replies finish.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	jobs := make(chan job, b.opts.Queue)
	var workers sync.WaitGroup
	for range b.opts.Workers {
		workers.Go(func() {
			for j := range jobs {
				b.work(workCtx, j)
			}
		})
	}

	sockCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	sockDone := make(chan error, 1)
	go func() { sockDone <- b.sm.RunContext(sockCtx) }()

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-sockDone:
			sockDone <- err
			if ctx.Err() == nil {
				runErr = fmt.Errorf("slack socket mode: %w", err)
			}
			break loop
		case evt := <-b.sm.Events:
			b.dispatch(ctx, evt, jobs)
		}
	}

	// Stop taking work: close the socket (Slack redelivers anything not
	// acked to another connection) and drain what is queued.
	b.ready.Store(false)
	stopSocket()
	drained := make(chan struct{})
	go func() { // keep the client's event channel moving until it stops
		for {
			select {
			case <-b.sm.Events:
			case <-drained:
				return
			}
		}
	}()
	close(jobs)
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.opts.ShutdownGrace):
		b.log.Warn("shutdown grace over, cancelling in-flight replies")
		cancelWork()
		<-done
	}
	<-sockDone
	close(drained)
	return runErr
}

// ackWait bounds how long an ack may wait for the socket. The client holds
// only 20 acks while it has no socket (reconnecting): an unbounded wait would
// block Run for as long as Slack refuses a new connection, and for ever once
// ctx ends and the client stops.
const ackWait = time.Second

// dispatch acks an envelope at once, then queues it for a worker. An
// envelope whose ack cannot be sent is dropped: Slack redelivers it.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event, jobs chan<- job) {
	switch evt.Type {
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		if !b.ready.Swap(true) {
			b.log.Info("slack connected")
		}
		return
	case socketmode.EventTypeConnectionError:
		b.ready.Store(false)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("slack connection failed, retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		} else {
			b.log.Warn("slack connection failed, retrying")
		}
		return
	case socketmode.EventTypeConnecting, socketmode.EventTypeDisconnect:
		if b.ready.Swap(false) {
			b.log.Warn("slack connection lost, reconnecting", "event", string(evt.Type))
		}
		return
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("slack refused the app token (invalid_auth)")
		return
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
	default:
		return
	}
	if evt.Request == nil {
		return
	}
	ackCtx, cancel := context.WithTimeout(ctx, ackWait)
	err := b.sm.AckCtx(ackCtx, evt.Request.EnvelopeID, nil)
	cancel()
	if err != nil {
		b.log.Warn("ack not sent, leaving the envelope to Slack's retry", "envelope", evt.Request.EnvelopeID, "type", string(evt.Type), "err", err)
		return
	}
	select {
	case jobs <- job{evt: evt, received: time.Now()}:
	case <-ctx.Done():
		b.log.Warn("shutting down: acked envelope not handled", "envelope", evt.Request.EnvelopeID, "type", string(evt.Type))
	}
}

// work handles one envelope. A panic is logged, never fatal.
func (b *Bot) work(ctx context.Context, j job) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic handling envelope", "type", string(j.evt.Type), "panic", fmt.Sprint(r))
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

// onEvent answers mentions in channels (in the thread) and direct messages.
func (b *Bot) onEvent(ctx context.Context, evt socketmode.Event) error {
	var outer struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(evt.Request.Payload, &outer)
	api, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok {
		return nil
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
	case *slackevents.MessageEvent:
		// Only direct messages from people: no bots (ourselves included),
		// no edits, joins or other subtypes.
		if ev.ChannelType != "im" || ev.SubType != "" || ev.BotID != "" || ev.User == "" || ev.User == b.botUser {
			return nil
		}
		user, channel, text, ts, thread = ev.User, ev.Channel, ev.Text, ev.TimeStamp, ev.ThreadTimeStamp
	default:
		return nil
	}
	key := outer.EventID
	if key == "" {
		key = channel + "/" + ts
	}
	if !b.seen.first("event:" + key) {
		b.log.Debug("duplicate event", "event_id", outer.EventID, "retry", evt.Request.RetryAttempt)
		return nil
	}
	question := stripMentions(text)
	reply, err := b.cmds.Dispatch(ctx, user, question)
	if err != nil {
		b.log.Error("command", "user", user, "text", question, "err", err)
		reply = Reply{Text: "Sorry, something went wrong answering that. Please try again."}
	}
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: question})
	opts := msg.Options()
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if reply.Private {
		// Only the asker sees it (a leaderboard would ping everyone on it).
		opts = append(opts, slack.MsgOptionPostEphemeral(user))
	}
	return b.retry(ctx, func() error {
		_, _, err := b.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
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
	if cmd.TriggerID != "" && !b.seen.first("slash:"+cmd.TriggerID) {
		return nil
	}
	reply, err := b.cmds.Dispatch(ctx, cmd.UserID, cmd.Text)
	if err != nil {
		b.log.Error("command", "user", cmd.UserID, "text", cmd.Text, "err", err)
		reply = Reply{Text: "Sorry, something went wrong answering that. Please try again."}
	}
	share := reply.Answer != nil && reply.Answer.Confident || reply.Service != nil || reply.Compare != nil
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: cmd.Text, Share: share})
	return b.respond(ctx, cmd.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
}

// respond posts msg to a response_url.
func (b *Bot) respond(ctx context.Context, url, responseType string, replace bool, msg Message) error {
	opts := append(msg.Options(), slack.MsgOptionResponseURL(url, responseType))
	if replace {
		opts = append(opts, slack.MsgOptionReplaceOriginal(url))
	}
	return b.retry(ctx, func() error {
		_, _, err := b.api.PostMessageContext(ctx, "", opts...)
		return err
	})
}

// retry calls fn again after Slack's Retry-After while Slack answers 429,
// so a rate limit delays a reply but does not lose it.
func (b *Bot) retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || attempt >= b.opts.Retries {
			return err
		}
		wait := max(rl.RetryAfter, 100*time.Millisecond)
		b.log.Warn("slack rate limited, retrying", "retry_after", wait, "attempt", attempt+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// onInteractive routes button clicks to their handlers.
func (b *Bot) onInteractive(ctx context.Context, evt socketmode.Event) error {
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || cb.Type != slack.InteractionTypeBlockActions {
		return nil
	}
	for _, a := range cb.ActionCallback.BlockActions {
		key := fmt.Sprintf("action:%s/%s/%s/%s", cb.User.ID, cb.Container.MessageTs, a.ActionID, a.ActionTs)
		if !b.seen.first(key) {
			continue
		}
		h := b.actionHandler(a.ActionID)
		if h == nil {
			b.log.Warn("click on unknown button", "action_id", a.ActionID)
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

// feedback records "Helpful / Not helpful" in the log with the question.
// A second click on the same message by the same user is not recorded again.
func (b *Bot) feedback(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	helpful := a.ActionID == ActionHelpful
	if !b.seen.first(fmt.Sprintf("feedback:%s/%s/%s", cb.User.ID, cb.Container.MessageTs, cb.Container.ChannelID)) {
		return nil
	}
	answer, question, ok := strings.Cut(a.Value, "\n")
	if !ok { // a button from before answers were recorded in it
		answer, question = "", a.Value
	}
	b.log.Info("feedback", "helpful", helpful, "question", question, "answer", answer, "user", cb.User.ID, "channel", cb.Channel.ID)
	if cb.ResponseURL == "" {
		return nil
	}
	msg := Message{Text: "Thanks for the feedback!", Blocks: []slack.Block{section("Thanks for the feedback!")}}
	return b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
}

// share posts a private answer into the channel for everyone.
func (b *Bot) share(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	reply, err := b.cmds.Dispatch(ctx, cb.User.ID, a.Value)
	if err != nil {
		return err
	}
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: a.Value, SharedBy: cb.User.ID})
	if err := b.respond(ctx, cb.ResponseURL, slack.ResponseTypeInChannel, false, msg); err != nil {
		return err
	}
	return b.retry(ctx, func() error {
		_, _, err := b.api.PostMessageContext(ctx, "", slack.MsgOptionDeleteOriginal(cb.ResponseURL))
		return err
	})
}

// practice grades a practice quiz answer privately.
func (b *Bot) practice(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	id, idx, ok := strings.Cut(a.Value, "|")
	choice, err := strconv.Atoi(idx)
	q := b.cmds.base.Question(id)
	if !ok || err != nil || q == nil || choice < 0 || choice >= len(q.Choices) {
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
