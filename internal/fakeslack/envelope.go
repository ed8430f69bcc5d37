package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Envelope types Slack sends over socket mode.
const (
	TypeEventsAPI     = "events_api"
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
)

// ErrAckTimeout is the error of a Send whose envelope was not acked within
// the ack timeout (see WithAckTimeout).
var ErrAckTimeout = errors.New("fakeslack: envelope not acked in time")

// Envelope is a socket-mode message from Slack that expects an ack.
type Envelope struct {
	EnvelopeID             string         `json:"envelope_id"`
	Type                   string         `json:"type"`
	AcceptsResponsePayload bool           `json:"accepts_response_payload"`
	RetryAttempt           int            `json:"retry_attempt"`
	RetryReason            string         `json:"retry_reason"`
	Payload                map[string]any `json:"payload"`
}

// Ack is a client's answer to an envelope, or, from Send and SendAsync, the
// reason there was none (Err).
type Ack struct {
	EnvelopeID   string
	Type         string          // type of the acked envelope
	RetryAttempt int             // retry_attempt of the acked envelope
	Payload      json.RawMessage // nil when the ack carried none
	Conn         int             // connection the ack came on
	Sent         time.Time       // when the envelope was written
	Received     time.Time       // when the ack was read
	Latency      time.Duration   // Received - Sent, by the monotonic clock
	Late         bool            // came after its sender stopped waiting
	Duplicate    bool            // the envelope had already been acked
	Unknown      bool            // no envelope with this id was sent
	Err          error           // from Send/SendAsync only: why no ack came
}

type pending struct {
	env       Envelope
	sentAt    time.Time
	conn      int      // the connection it was written to
	ch        chan Ack // buffered: receives the ack at most once
	abandoned bool     // the sender stopped waiting; a later ack is Late
}

// Send writes env to a live connection, waiting for one if there is none,
// and waits for the client's ack. An empty EnvelopeID is filled in. It fails
// with ErrAckTimeout, ctx's error or ErrClosed. If the socket breaks while
// writing, the envelope goes out on the next live connection.
func (s *Server) Send(ctx context.Context, env Envelope) (Ack, error) {
	a := <-s.SendAsync(ctx, env)
	return a, a.Err
}

// SendAsync is Send without waiting: the returned channel receives exactly
// one Ack, with Err set if none came. Use it to send many envelopes at a
// set rate; each goroutine it starts ends with ctx, the ack timeout or Close.
// With WithRedelivery, an envelope not acked in time is sent again first.
func (s *Server) SendAsync(ctx context.Context, env Envelope) <-chan Ack {
	return s.sendAsync(ctx, env, nil)
}

// SendRaw writes frame to a live connection as it is (an envelope of a
// type the client does not know, a field of an unexpected type, or not
// JSON at all) and waits for an ack carrying envelopeID, as SendAsync does.
// It is never redelivered.
func (s *Server) SendRaw(ctx context.Context, envelopeID string, frame []byte) <-chan Ack {
	return s.sendAsync(ctx, Envelope{EnvelopeID: envelopeID, Type: "raw"}, frame)
}

func (s *Server) sendAsync(ctx context.Context, env Envelope, raw []byte) <-chan Ack {
	out := make(chan Ack, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		out <- Ack{EnvelopeID: env.EnvelopeID, Type: env.Type, Err: ErrClosed}
		return out
	}
	if env.EnvelopeID == "" {
		env.EnvelopeID = s.envelopeIDLocked()
	}
	if raw == nil {
		s.keepEventMessageLocked(env)
	}
	p := s.pendingLocked(env)
	s.wg.Add(1)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		data, err := raw, error(nil)
		if raw == nil {
			data, err = json.Marshal(env)
		}
		if err != nil {
			out <- s.abandon(p, fmt.Errorf("marshal envelope: %w", err))
			return
		}
		var attempts []string // for the error when no attempt was acked
		for retries := 0; ; retries++ {
			a := s.deliver(ctx, p, data)
			s.mu.Lock()
			attempts = append(attempts, fmt.Sprintf("%s on connection %d at %s", p.env.EnvelopeID, p.conn, p.sentAt.Format("15:04:05.000")))
			again := raw == nil && errors.Is(a.Err, ErrAckTimeout) && retries < s.cfg.redeliver && !s.closed
			if again {
				// As Slack does: a new envelope with the same payload.
				env.EnvelopeID = s.envelopeIDLocked()
				env.RetryAttempt, env.RetryReason = env.RetryAttempt+1, "timeout"
				p = s.pendingLocked(env)
				s.redelivered++
			}
			s.mu.Unlock()
			if !again {
				if a.Err != nil && len(attempts) > 1 {
					a.Err = fmt.Errorf("%w (sent %d times: %s)", a.Err, len(attempts), strings.Join(attempts, "; "))
				}
				out <- a
				return
			}
			if data, err = json.Marshal(env); err != nil {
				out <- s.abandon(p, fmt.Errorf("marshal envelope: %w", err))
				return
			}
		}
	}()
	return out
}

func (s *Server) pendingLocked(env Envelope) *pending {
	p := &pending{env: env, ch: make(chan Ack, 1)}
	s.pending[env.EnvelopeID] = append(s.pending[env.EnvelopeID], p)
	return p
}

// WithAckLoss drops each ack of a pending envelope with probability p (from
// the seeded source), as if it were lost on the way, so that with
// WithRedelivery the envelope comes again.
func WithAckLoss(p float64) Option { return func(c *config) { c.ackLoss = p } }

// WithRedelivery makes the server send an envelope again, up to n times,
// when it is not acked within the ack timeout, as Slack does: a new
// envelope_id, retry_attempt one more, retry_reason "timeout". Send and
// SendAsync then report the first ack of any attempt.
func WithRedelivery(n int) Option { return func(c *config) { c.redeliver = n } }

func (s *Server) deliver(ctx context.Context, p *pending, data []byte) Ack {
	for {
		c, err := s.pickConn(ctx)
		if err != nil {
			return s.abandon(p, err)
		}
		s.mu.Lock()
		p.sentAt, p.conn = time.Now(), c.id
		s.mu.Unlock()
		if err := c.write(data); err != nil {
			// A broken socket: retire it and use another one.
			s.mu.Lock()
			c.live, c.gone = false, true
			s.notifyLocked()
			s.mu.Unlock()
			_ = c.ws.Close()
			continue
		}
		s.mu.Lock()
		s.envelopes++
		s.notifyLocked()
		s.mu.Unlock()
		break
	}

	s.mu.Lock()
	ackTimeout := s.cfg.ackTimeout
	s.mu.Unlock()
	var timeout <-chan time.Time
	if ackTimeout > 0 {
		t := time.NewTimer(ackTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case a := <-p.ch:
		return a
	case <-timeout:
		return s.abandon(p, ErrAckTimeout)
	case <-ctx.Done():
		return s.abandon(p, ctx.Err())
	case <-s.done:
		return s.abandon(p, ErrClosed)
	}
}

// abandon stops waiting for p's ack, unless it has just arrived.
func (s *Server) abandon(p *pending, err error) Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case a := <-p.ch:
		return a
	default:
	}
	p.abandoned = true
	return Ack{EnvelopeID: p.env.EnvelopeID, Type: p.env.Type, RetryAttempt: p.env.RetryAttempt, Err: err}
}

// SetAckTimeout changes the ack timeout (see WithAckTimeout) for envelopes
// written from now on.
func (s *Server) SetAckTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.ackTimeout = d
}

// pickConn returns a live connection, round-robin, waiting for one.
func (s *Server) pickConn(ctx context.Context) (*conn, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		var live []*conn
		for _, c := range s.connList() {
			if c.live {
				live = append(live, c)
			}
		}
		ch := s.changed
		if len(live) > 0 {
			c := live[s.rr%len(live)]
			s.rr++
			s.mu.Unlock()
			return c, nil
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, ErrClosed
		}
	}
}

// receive handles a message from the client: an ack, or something to count
// as a bad frame.
func (s *Server) receive(c *conn, data []byte) {
	now := time.Now()
	var m struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	err := json.Unmarshal(data, &m)

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	if err != nil || m.EnvelopeID == "" {
		s.badFrames++
		return
	}
	if string(m.Payload) == "null" {
		m.Payload = nil
	}
	if s.cfg.ackLoss > 0 && s.pending[m.EnvelopeID] != nil && s.rand.Float64() < s.cfg.ackLoss {
		s.acksLost++ // as if lost on the way: Slack will send the envelope again
		return
	}
	a := Ack{EnvelopeID: m.EnvelopeID, Payload: m.Payload, Conn: c.id, Received: now}
	waiters := s.pending[m.EnvelopeID]
	switch {
	case len(waiters) > 0:
		first := waiters[0]
		a.Type, a.RetryAttempt, a.Sent = first.env.Type, first.env.RetryAttempt, first.sentAt
		if !first.sentAt.IsZero() {
			a.Latency = now.Sub(first.sentAt)
		}
		a.Late = !slices.ContainsFunc(waiters, func(p *pending) bool { return !p.abandoned })
		for _, p := range waiters {
			if !p.abandoned {
				p.ch <- a
			}
		}
		delete(s.pending, m.EnvelopeID)
		s.acked[m.EnvelopeID] = true
	case s.acked[m.EnvelopeID]:
		a.Duplicate = true
	default:
		a.Unknown = true
	}
	s.acks = append(s.acks, a)
}

// Acks returns every ack received so far, oldest first, late, duplicate and
// unknown ones included.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks)
}

// WaitAcks waits until at least n acks have been received and returns them.
func (s *Server) WaitAcks(ctx context.Context, n int) ([]Ack, error) {
	var got []Ack
	err := s.wait(ctx, func() bool {
		got = s.Acks()
		return len(got) >= n
	})
	return got, err
}

func (s *Server) envelopeIDLocked() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", s.nextIDLocked())
}

func (s *Server) triggerIDLocked() string {
	id := fmt.Sprintf("%d.%d.%032x", 1700000000+s.nextIDLocked(), 1, s.seq)
	s.triggers[id] = true
	return id
}

// EventEnvelope wraps an Events API event (e.g. from AppMention or Message)
// the way Slack does: an events_api envelope whose payload is an
// event_callback with team_id, api_app_id, event_id, event_time and
// authorizations. An empty eventID gets a fresh one; the event gets an
// event_ts if it has none.
func (s *Server) EventEnvelope(eventID string, event map[string]any) Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	if eventID == "" {
		eventID = fmt.Sprintf("Ev%08d", s.nextIDLocked())
	}
	ev := maps.Clone(event)
	if ev == nil {
		ev = map[string]any{}
	}
	if _, ok := ev["event_ts"]; !ok {
		if ts, ok := ev["ts"].(string); ok {
			ev["event_ts"] = ts
		} else {
			ev["event_ts"] = s.nextTSLocked()
		}
	}
	return Envelope{
		EnvelopeID: s.envelopeIDLocked(),
		Type:       TypeEventsAPI,
		Payload: map[string]any{
			"token":      VerificationToken,
			"team_id":    TeamID,
			"api_app_id": AppID,
			"event":      ev,
			"type":       "event_callback",
			"event_id":   eventID,
			"event_time": s.cfg.now().Unix(),
			"authorizations": []any{map[string]any{
				"enterprise_id":         nil,
				"team_id":               TeamID,
				"user_id":               BotUserID,
				"is_bot":                true,
				"is_enterprise_install": false,
			}},
			"is_ext_shared_channel": false,
			"event_context":         "4-fakeslack",
		},
	}
}

// AppMention builds an app_mention event: text should contain "<@UBOT>" as
// Slack's does.
func (s *Server) AppMention(userID, channelID, text string) map[string]any {
	ts := s.NextTS()
	return map[string]any{
		"type": "app_mention", "user": userID, "text": text, "ts": ts,
		"channel": channelID, "event_ts": ts, "team": TeamID,
	}
}

// Message builds a plain user message event; channel_type is "im" for a D…
// channel, "group" for G… and "channel" otherwise.
func (s *Server) Message(userID, channelID, text string) map[string]any {
	ts := s.NextTS()
	return map[string]any{
		"type": "message", "user": userID, "text": text, "ts": ts,
		"channel": channelID, "channel_type": channelType(channelID), "event_ts": ts, "team": TeamID,
	}
}

func channelType(id string) string {
	switch {
	case strings.HasPrefix(id, "D"):
		return "im"
	case strings.HasPrefix(id, "G"):
		return "group"
	default:
		return "channel"
	}
}

// SlashEnvelope builds a slash_commands envelope as Slack sends it, with a
// fresh ResponseURL and trigger_id, accepting a response payload.
func (s *Server) SlashEnvelope(command, text, userID, channelID string) Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := "general"
	switch channelType(channelID) {
	case "im":
		name = "directmessage"
	case "group":
		name = "privategroup"
	}
	return Envelope{
		EnvelopeID:             s.envelopeIDLocked(),
		Type:                   TypeSlashCommands,
		AcceptsResponsePayload: true,
		Payload: map[string]any{
			"token":                 VerificationToken,
			"team_id":               TeamID,
			"team_domain":           TeamDomain,
			"channel_id":            channelID,
			"channel_name":          name,
			"user_id":               userID,
			"user_name":             strings.ToLower(userID),
			"command":               command,
			"text":                  text,
			"api_app_id":            AppID,
			"is_enterprise_install": false,
			"response_url":          s.responseURLLocked(),
			"trigger_id":            s.triggerIDLocked(),
		},
	}
}

// InteractiveEnvelope builds an interactive envelope around payload, filling
// in what Slack always sends and payload lacks: type (block_actions), token,
// api_app_id, team, user, trigger_id, is_enterprise_install, and for
// block_actions outside a view a fresh response_url. view_submission and
// block_suggestion envelopes accept a response payload, as with Slack.
func (s *Server) InteractiveEnvelope(payload map[string]any) Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := maps.Clone(payload)
	if p == nil {
		p = map[string]any{}
	}
	setDefault := func(k string, v func() any) {
		if _, ok := p[k]; !ok {
			p[k] = v()
		}
	}
	setDefault("type", func() any { return "block_actions" })
	setDefault("token", func() any { return VerificationToken })
	setDefault("api_app_id", func() any { return AppID })
	setDefault("team", func() any { return map[string]any{"id": TeamID, "domain": TeamDomain} })
	setDefault("user", func() any {
		return map[string]any{"id": "U1", "username": "u1", "name": "u1", "team_id": TeamID}
	})
	setDefault("trigger_id", func() any { return s.triggerIDLocked() })
	setDefault("is_enterprise_install", func() any { return false })
	typ, _ := p["type"].(string)
	if _, inView := p["view"]; typ == "block_actions" && !inView {
		setDefault("response_url", func() any { return s.responseURLLocked() })
	}
	return Envelope{
		EnvelopeID:             s.envelopeIDLocked(),
		Type:                   TypeInteractive,
		AcceptsResponsePayload: typ == "view_submission" || typ == "block_suggestion",
		Payload:                p,
	}
}
