package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"shipmate/metrics"
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
	cfg     Config
	opts    Options
	seen    *dedupe
	actions map[string]ActionHandler
	metrics *metrics.Metrics
	health  *apiHealth
	out     *outbox
	link    link
	acked   recentAcks
	lostAt  time.Time // when the socket was last lost; read loop only
	botUser string
	convo   *convo // thread follow-ups, learning loop, App Home (conversation.go)
}

// Options tune a Bot; the zero value is fine.
type Options struct {
	// Workers bounds how many envelopes are worked on at once (default two
	// per CPU, at least 4). Work is mostly CPU (answering) now that replies
	// wait for Slack in the outbox, and fewer workers than runnable
	// goroutines keep the ack path on the CPU under load.
	Workers int
	// Queue bounds how many acked envelopes may wait for a worker, and how
	// many replies may wait for Slack (default 4096 each).
	Queue int
	// ReplyDeadline is how long a reply keeps being retried after its
	// envelope arrived (default 5 minutes; a response URL's 30 minutes cap it).
	ReplyDeadline time.Duration
	// ChannelRate and ChannelBurst pace posts to one channel (default one a
	// second with bursts of 3, Slack's per-channel limit).
	ChannelRate  float64
	ChannelBurst int
	// ReadyGrace is how long the socket may be down, or Web API calls
	// failing, before Ready reports false (default 10 s): a routine
	// reconnect does not flap readiness.
	ReadyGrace time.Duration
	// Metrics receives the bot's metrics (default: a fresh, unserved set).
	Metrics *metrics.Metrics
	// Seen shares de-duplication of events, slash commands and clicks
	// between replicas (default: this process only).
	Seen Seen
	// SocketOptions are passed to socketmode.New (tests shorten the ping interval).
	SocketOptions []socketmode.Option
	// Memory keeps thread turns, the learning loop and App Home users
	// (default: nothing is kept, so no thread is followed).
	Memory Memory
	// Conversation configures thread follow-ups and the learning loop.
	Conversation Conversation
}

// Defaults for Config's timing settings.
const (
	DefaultShutdownGrace = 3 * time.Second
	DefaultCallTimeout   = 10 * time.Second
	DefaultDownExitAfter = 10 * time.Minute
)

// responseURLLife is how long Slack accepts posts to a response URL.
const responseURLLife = 30 * time.Minute

// New returns a bot that answers with cmds. name turns service ids into
// display names. It does not connect: Run does.
func New(cfg Config, cmds *Commands, name func(string) string, log *slog.Logger, o Options) *Bot {
	if o.Workers <= 0 {
		o.Workers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	if o.ReplyDeadline <= 0 {
		o.ReplyDeadline = 5 * time.Minute
	}
	if o.ChannelRate == 0 {
		o.ChannelRate = 1
	}
	if o.ChannelBurst <= 0 {
		o.ChannelBurst = 3
	}
	if o.ReadyGrace <= 0 {
		o.ReadyGrace = 10 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	health := &apiHealth{now: time.Now}
	tr := &transport{
		client:  newHTTPClient(cfg.CallTimeout),
		apiURL:  cfg.APIURL,
		pace:    newPacer(o.ChannelRate, o.ChannelBurst),
		health:  health,
		metrics: o.Metrics,
	}
	api := slack.New(cfg.BotToken.Reveal(),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionAppLevelToken(cfg.AppToken.Reveal()),
		slack.OptionHTTPClient(tr),
		slack.OptionRetryConfig(retryConfig(retryPolicy{log: log, method: tr.method})))
	dial, dialTLS := socketDialer(cfg.CallTimeout)
	dialer := &websocket.Dialer{
		Proxy:             http.ProxyFromEnvironment,
		NetDialContext:    dial,
		NetDialTLSContext: dialTLS,
		HandshakeTimeout:  cfg.CallTimeout,
		WriteBufferSize:   32 << 10,
	}
	b := &Bot{
		api:     api,
		sm:      socketmode.New(api, append([]socketmode.Option{socketmode.OptionDialer(dialer)}, o.SocketOptions...)...),
		cmds:    cmds,
		name:    name,
		log:     log,
		cfg:     cfg,
		opts:    o,
		seen:    newDedupe(time.Hour, 100_000),
		actions: map[string]ActionHandler{},
		metrics: o.Metrics,
		health:  health,
		out:     newOutbox(log, o.Metrics, o.Queue),
		link:    link{since: time.Now()},
	}
	b.HandleAction(ActionShare, b.share)
	b.HandleAction(ActionPractice, b.practice)
	b.HandleAction(ActionQuizAnswer, b.quizAnswer)
	b.initConversation()
	return b
}

// HandleAction routes clicks on buttons whose action id starts with prefix.
// Call it before Run.
func (b *Bot) HandleAction(prefix string, h ActionHandler) { b.actions[prefix] = h }

// Ready reports whether the bot can serve: authenticated, its socket up
// (or down for less than ReadyGrace, as in a routine reconnect), and Slack's
// Web API answering (or failing for less than ReadyGrace).
func (b *Bot) Ready() bool {
	up, down := b.link.state()
	return (up || (down > 0 && down < b.opts.ReadyGrace)) && b.health.downFor() < b.opts.ReadyGrace
}

// link tracks the socket: up or down, and since when.
type link struct {
	mu      sync.Mutex
	up      bool
	everUp  bool
	stopped bool
	since   time.Time // of the last change (the bot's start before the first connection)
	conns   int
}

// state reports whether the socket is up, and if not, for how long it has
// been down since it was last up (0 if it never was or the bot stopped).
func (l *link) state() (up bool, downFor time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up || !l.everUp || l.stopped {
		return l.up, 0
	}
	return false, max(time.Since(l.since), 1)
}

// set records the socket going up or down; it reports whether that is a
// change, and on going up, whether it is a reconnection.
func (l *link) set(up bool) (changed, reconnect bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up == up {
		return false, false
	}
	l.up, l.since = up, time.Now()
	if up {
		l.everUp = true
		l.conns++
		return true, l.conns > 1
	}
	return true, false
}

// downFor is how long the socket has been down (since start if it never
// came up), 0 while it is up.
func (l *link) downFor() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up {
		return 0
	}
	return time.Since(l.since)
}

func (l *link) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.up, l.stopped = false, true
}

// authenticate learns the bot's own user id. A refusal (invalid_auth, a
// revoked token, a wrong SLACK_API_URL) is final; network failures, Slack
// outages and rate limits are retried by the client (see transport.go)
// until ctx ends, so a bot started during an outage comes up when Slack
// does instead of crash-looping.
func (b *Bot) authenticate(ctx context.Context) (*slack.AuthTestResponse, error) {
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
		// The client gave up retrying (its wait would pass the deadline, or
		// it ran out of attempts): start again after a pause.
		b.log.Warn("slack unreachable, retrying", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("slack auth.test: %w", err)
		case <-t.C:
		}
	}
}

// job is an acked envelope waiting for a worker.
type job struct {
	evt      socketmode.Event
	received time.Time
	kind     string // of the reply: mention, dm, slash, click
}

// ack is an envelope id to acknowledge.
type ack struct {
	id       string
	received time.Time
}

// ErrSlackDown is returned by Run when Slack stayed out of reach for
// longer than Config.DownExitAfter.
var ErrSlackDown = errors.New("slack out of reach")

// Run connects to Slack and answers until ctx ends. Then it stops taking
// work (the socket is closed, so Slack sends new envelopes elsewhere), lets
// in-flight replies finish for up to Config.ShutdownGrace, cancels the rest
// (each logged) and returns nil. It returns an error if Slack refuses the
// tokens, or (ErrSlackDown) if Slack stays out of reach for
// Config.DownExitAfter.
func (b *Bot) Run(ctx context.Context) error {
	authCtx, cancelAuth := ctx, context.CancelFunc(func() {})
	if b.cfg.DownExitAfter > 0 {
		authCtx, cancelAuth = context.WithTimeout(ctx, b.cfg.DownExitAfter)
	}
	auth, err := b.authenticate(authCtx)
	cancelAuth()
	if err != nil {
		b.out.close(closedChan)
		switch {
		case ctx.Err() != nil:
			return nil // stopped before Slack could be reached
		case authCtx.Err() != nil:
			return fmt.Errorf("%w: no answer to auth.test for %v (SLACK_DOWN_EXIT_AFTER): %w", ErrSlackDown, b.cfg.DownExitAfter, err)
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
	// Acks go out from their own goroutine, so the loop below never waits
	// for the socket: while it reconnects, acks queue here and go out on
	// the new connection, and envelopes keep being read and worked on.
	acks := make(chan ack, b.opts.Queue)
	ackCtx, stopAcks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAcks()
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		b.sendAcks(ackCtx, acks)
	}()

	sockCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	sockDone := make(chan error, 1)
	go func() { sockDone <- b.sm.RunContext(sockCtx) }()

	watch := time.NewTicker(time.Second)
	defer watch.Stop()
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
			b.dispatch(ctx, evt, jobs, acks)
		case <-watch.C:
			if d := b.link.downFor(); b.cfg.DownExitAfter > 0 && d > b.cfg.DownExitAfter {
				runErr = fmt.Errorf("%w: no socket mode connection for %v (SLACK_DOWN_EXIT_AFTER %v)", ErrSlackDown, d.Round(time.Second), b.cfg.DownExitAfter)
				break loop
			}
		}
	}

	// Stop taking work. The shutdown grace starts now.
	grace := make(chan struct{})
	graceTimer := time.AfterFunc(b.cfg.ShutdownGrace, func() { close(grace) })
	defer graceTimer.Stop()
	b.link.stop()
	b.metrics.Connected(false)
	// Acks of what was read go out before the socket closes (Slack sends
	// anything unacked to another connection), for a moment at most.
	close(acks)
	select {
	case <-ackerDone:
	case <-time.After(min(time.Second, b.cfg.ShutdownGrace/2)):
		stopAcks()
		<-ackerDone
	}
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
	workersDone := make(chan struct{})
	go func() { workers.Wait(); close(workersDone) }()
	select {
	case <-workersDone:
	case <-grace:
	}
	b.out.close(grace)
	if b.cfg.ShutdownGrace > 0 {
		select {
		case <-grace:
			b.log.Warn("shutdown grace over, cancelling in-flight replies", "grace", b.cfg.ShutdownGrace)
		default:
		}
	}
	cancelWork()
	<-workersDone
	<-sockDone
	close(drained)
	return runErr
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// sendAcks acks envelopes in order. An ack waits while the socket is down
// and goes out on the next connection.
func (b *Bot) sendAcks(ctx context.Context, acks <-chan ack) {
	for a := range acks {
		if err := b.sm.AckCtx(ctx, a.id, nil); err != nil {
			b.log.Warn("ack not sent, leaving the envelope to Slack's retry", "envelope", a.id, "err", err)
			continue
		}
		b.acked.add(a.id)
		b.metrics.Acked(time.Since(a.received).Seconds())
	}
}

// inlineAckWait is how long the read loop itself waits to hand an ack to
// the socket writer before leaving it to the ack sender.
const inlineAckWait = 2 * time.Millisecond

// ack acks an envelope from the read loop when the socket writer has room
// (the usual case: one goroutine hop fewer on a busy CPU), else through the
// ack sender, which waits out a reconnect.
func (b *Bot) ack(acks chan<- ack, a ack) {
	if len(acks) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), inlineAckWait)
		err := b.sm.AckCtx(ctx, a.id, nil)
		cancel()
		if err == nil {
			b.acked.add(a.id)
			b.metrics.Acked(time.Since(a.received).Seconds())
			return
		}
	}
	b.queueAck(acks, a)
}

// queueAck hands an ack to the ack sender without ever blocking the read
// loop; with the queue full (Slack unreachable for long), Slack's retry of
// the envelope will be acked instead.
func (b *Bot) queueAck(acks chan<- ack, a ack) {
	select {
	case acks <- a:
	default:
		b.log.Warn("ack queue full, leaving the envelope to Slack's retry", "envelope", a.id)
	}
}

// recentAcks remembers the last acks handed to the socket, to send again
// after a reconnect: an ack written as the old socket died is lost without
// a word from the library.
type recentAcks struct {
	mu   sync.Mutex
	ids  [64]string
	at   [64]time.Time
	next int
}

func (r *recentAcks) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[r.next], r.at[r.next] = id, time.Now()
	r.next = (r.next + 1) % len(r.ids)
}

// since returns the ids acked after t.
func (r *recentAcks) since(t time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i, id := range r.ids {
		if id != "" && r.at[i].After(t) {
			out = append(out, id)
		}
	}
	return out
}

// reackWindow is how far back before a lost connection acks are sent again.
const reackWindow = 3 * time.Second

// dispatch acks an envelope at once, then queues it for a worker.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event, jobs chan<- job, acks chan<- ack) {
	received := time.Now()
	switch evt.Type {
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		changed, reconnect := b.link.set(true)
		if !changed {
			return
		}
		b.metrics.Connected(true)
		if reconnect {
			b.metrics.Reconnected()
			// Acks handed over just before the old socket went may not
			// have been written: send them again (Slack ignores an ack of
			// an envelope it has already been acked for).
			for _, id := range b.acked.since(b.lostAt.Add(-reackWindow)) {
				b.queueAck(acks, ack{id: id, received: received})
			}
			b.log.Info("slack reconnected")
		} else {
			b.log.Info("slack connected")
		}
		return
	case socketmode.EventTypeConnecting:
		if changed, _ := b.link.set(false); changed {
			b.lostAt = received
			b.metrics.Connected(false)
			b.log.Warn("slack connection lost, reconnecting")
		}
		return
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("slack connection failed, retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		} else {
			b.log.Warn("slack connection failed, retrying")
		}
		return
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("slack refused the app token (invalid_auth)")
		return
	case socketmode.EventTypeErrorBadMessage:
		b.unreadable(ctx, evt, acks, received)
		return
	case socketmode.EventTypeErrorWriteFailed:
		// The library lost an ack writing it to a dying socket: send it
		// again on the next one.
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok && e.Response != nil && e.Response.EnvelopeID != "" {
			b.log.Warn("ack lost with the connection, sending it again", "envelope", e.Response.EnvelopeID, "err", e.Cause)
			b.queueAck(acks, ack{id: e.Response.EnvelopeID, received: received})
		}
		return
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			b.log.Debug("unreadable socket frame", "err", e.ErrorObj)
		}
		return
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
	default:
		b.log.Debug("socket event ignored", "type", string(evt.Type))
		return
	}
	if evt.Request == nil {
		return
	}
	b.metrics.Envelope(string(evt.Type))
	b.ack(acks, ack{id: evt.Request.EnvelopeID, received: received})
	b.log.Debug("envelope acked", "envelope", evt.Request.EnvelopeID, "type", string(evt.Type), "retry", evt.Request.RetryAttempt)
	select {
	case jobs <- job{evt: evt, received: received}:
	case <-ctx.Done():
		b.log.Warn("shutting down: acked envelope not handled", "envelope", evt.Request.EnvelopeID, "type", string(evt.Type))
	}
}

// unreadable acks an envelope the library could not decode (a type it
// does not know, a field of an unexpected type) by the envelope_id of the
// raw message, so Slack does not send it again and again. A slash command
// or click among them still gets a private answer on its response_url.
func (b *Bot) unreadable(ctx context.Context, evt socketmode.Event, acks chan<- ack, received time.Time) {
	e, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var raw struct {
		EnvelopeID any             `json:"envelope_id"`
		Type       any             `json:"type"`
		Payload    json.RawMessage `json:"payload"`
	}
	_ = json.Unmarshal(e.Message, &raw)
	id, _ := raw.EnvelopeID.(string)
	typ, _ := raw.Type.(string)
	b.metrics.Envelope("unreadable")
	if id == "" {
		b.log.Debug("unreadable socket message without an envelope id", "err", e.Cause)
		return
	}
	b.ack(acks, ack{id: id, received: received})
	b.log.Debug("unreadable envelope acked", "envelope", id, "type", typ, "err", e.Cause)
	var p struct {
		ResponseURL any `json:"response_url"`
	}
	_ = json.Unmarshal(raw.Payload, &p)
	if url, _ := p.ResponseURL.(string); url != "" && (typ == socketmode.RequestTypeSlashCommands || typ == socketmode.RequestTypeInteractive) {
		j := job{received: received, kind: "click"}
		if typ == socketmode.RequestTypeSlashCommands {
			j.kind = "slash"
		}
		text := "Sorry, I could not read that request. Please try again."
		if typ == socketmode.RequestTypeInteractive {
			text = "Sorry, that button is out of date or could not be read. Ask again for a fresh answer."
		}
		b.respond(withJob(ctx, j), url, slack.ResponseTypeEphemeral, false, Message{Text: text, Blocks: []slack.Block{section(text)}})
	}
}

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
		var channel, thread string
		switch ev := d.InnerEvent.Data.(type) {
		case *slackevents.AppMentionEvent:
			channel, thread = ev.Channel, ev.ThreadTimeStamp
			if thread == "" {
				thread = ev.TimeStamp
			}
		case *slackevents.MessageEvent:
			channel, thread = ev.Channel, ev.ThreadTimeStamp
		}
		if channel != "" {
			opts := msg.Options()
			if thread != "" {
				opts = append(opts, slack.MsgOptionTS(thread))
			}
			b.post(ctx, channel, opts)
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
	reply, err := b.cmds.DispatchIn(ctx, user, question, b.history(ctx, channel, thread, dm))
	b.metrics.Answered(outcome(reply, err))
	if err != nil {
		b.log.Error("command", "user", user, "text", question, "err", err)
		reply = Reply{Text: "Sorry, something went wrong answering that. Please try again."}
	}
	b.remember(ctx, "event:"+key, user, channel, thread, question, reply)
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: question})
	opts := msg.Options()
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	if reply.Private {
		// Only the asker sees it (a leaderboard would ping everyone on it).
		opts = append(opts, slack.MsgOptionPostEphemeral(user))
	}
	b.post(ctx, channel, opts)
	return nil
}

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
