package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"shipmate/metrics"
)

// delivery is one reply on its way to Slack.
type delivery struct {
	lane     string    // deliveries on one lane go in order, one at a time
	channel  string    // for the log: where the reply goes
	kind     string    // mention, dm, slash, click
	received time.Time // when the envelope it answers was read
	deadline time.Time // give up after this
	send     func(ctx context.Context) error
}

// outbox delivers replies off the workers: a worker hands a reply over and
// takes the next envelope, so a channel held back by Slack's rate limit or
// a slow call does not hold up replies elsewhere. Each lane (a channel, or
// a response URL) delivers in order; lanes run in parallel, one goroutine
// each while they have work. At most max deliveries are held, which bounds
// memory and goroutines.
type outbox struct {
	log     *slog.Logger
	metrics *metrics.Metrics
	slots   chan struct{} // one per held delivery

	ctx    context.Context // ends when the shutdown grace is over
	cancel context.CancelFunc

	mu      sync.Mutex
	lanes   map[string][]*delivery // queued per lane; a lane is in the map while its goroutine runs
	running int                    // lane goroutines
	idle    chan struct{}          // closed while running is 0
	closed  bool
}

func newOutbox(log *slog.Logger, m *metrics.Metrics, max int) *outbox {
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &outbox{log: log, metrics: m, slots: make(chan struct{}, max), ctx: ctx, cancel: cancel, lanes: map[string][]*delivery{}, idle: idle}
}

// errOutboxClosed is the reason for replies left when the grace ran out.
var errOutboxClosed = errors.New("shutting down")

// send queues d, waiting for room while the outbox is full. It fails only
// when the outbox is stopping; the reply is then logged as abandoned.
func (o *outbox) send(ctx context.Context, d *delivery) {
	select {
	case o.slots <- struct{}{}:
	case <-o.ctx.Done():
		o.abandon(d, errOutboxClosed, "shutdown")
		return
	case <-ctx.Done():
		o.abandon(d, ctx.Err(), "shutdown")
		return
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		<-o.slots
		o.abandon(d, errOutboxClosed, "shutdown")
		return
	}
	q, running := o.lanes[d.lane]
	o.lanes[d.lane] = append(q, d)
	if !running {
		if o.running == 0 {
			o.idle = make(chan struct{})
		}
		o.running++
		go o.run(d.lane)
	}
	o.mu.Unlock()
}

// run delivers a lane's queue, then ends.
func (o *outbox) run(lane string) {
	for {
		o.mu.Lock()
		q := o.lanes[lane]
		if len(q) == 0 {
			delete(o.lanes, lane)
			if o.running--; o.running == 0 {
				close(o.idle)
			}
			o.mu.Unlock()
			return
		}
		d := q[0]
		q[0] = nil
		o.lanes[lane] = q[1:]
		o.mu.Unlock()
		o.deliver(d)
		<-o.slots
	}
}

func (o *outbox) deliver(d *delivery) {
	ctx, cancel := context.WithDeadline(o.ctx, d.deadline)
	defer cancel()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return d.send(ctx)
	}()
	if err == nil {
		o.metrics.Replied(d.kind, time.Since(d.received).Seconds())
		return
	}
	reason := "rejected"
	switch {
	case o.ctx.Err() != nil:
		reason, err = "shutdown", errors.Join(errOutboxClosed, err)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || transient(err):
		// Still failing when the deadline came (or the next retry would
		// pass it).
		reason = "deadline"
	}
	o.abandon(d, err, reason)
}

// abandon logs a reply given up on, once, and counts it.
func (o *outbox) abandon(d *delivery, err error, reason string) {
	o.metrics.Abandoned(d.kind, reason)
	o.log.Error("reply abandoned", "kind", d.kind, "channel", d.channel, "reason", reason,
		"err", describe(err), "tried_for", time.Since(d.received).Round(time.Millisecond))
}

// close lets queued deliveries finish until grace ends, then cancels what
// is left (each logged as abandoned) and waits for the lanes to stop.
func (o *outbox) close(grace <-chan struct{}) {
	o.mu.Lock()
	idle := o.idle
	o.mu.Unlock()
	select {
	case <-idle:
	case <-grace:
	}
	o.cancel()
	o.mu.Lock()
	o.closed = true
	idle = o.idle
	o.mu.Unlock()
	<-idle
}

// transient reports whether err is one the client retries: a rate limit,
// a 5xx or a network failure.
func transient(err error) bool {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var ue *url.Error
	switch {
	case errors.As(err, &rl):
		return true
	case errors.As(err, &sc):
		return sc.Code == http.StatusTooManyRequests || sc.Code >= 500
	case errors.As(err, &ue):
		return true
	}
	return false
}

// describe says what went wrong with a Slack call, for people.
func describe(err error) string {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rl):
		return fmt.Sprintf("rate limited by Slack (retry after %v)", rl.RetryAfter)
	case errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests:
		return "rate limited by Slack (no Retry-After)"
	case errors.As(err, &sc):
		return fmt.Sprintf("Slack answered HTTP %d", sc.Code)
	case errors.As(err, &se):
		return "Slack refused it: " + se.Err
	}
	return errText(err)
}
