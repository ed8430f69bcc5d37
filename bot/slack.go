package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/slack-go/slack"
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
	// rendered holds the messages of answers to questions asked outside a
	// conversation, by question (see renderAnswer).
	rendered *lru.Cache[string, Message]
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
		slack.OptionRetryConfig(retryConfig(retryPolicy{log: log, method: tr.method, looks: newLooker(log)})))
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
	b.rendered, _ = lru.New[string, Message](renderedAnswers) // fails only for a size under 1
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
	b.convo.rec.start()
	defer func() {
		// Bounded: the process exits within seconds of SIGTERM, even
		// with the database slow to take the last records.
		ctx, cancel := context.WithTimeout(context.Background(), recorderCloseWait)
		defer cancel()
		b.convo.rec.close(ctx)
	}()
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
