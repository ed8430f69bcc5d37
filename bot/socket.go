package bot

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

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
