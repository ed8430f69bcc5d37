package fakeslack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Identity of the fake workspace and app, as auth.test and the envelope
// builders report it.
const (
	TeamID     = "T1"
	TeamDomain = "shipmate-test"
	TeamName   = "Shipmate Test"
	AppID      = "A1"
	BotUserID  = "UBOT"
	BotID      = "BBOT"
	BotName    = "shipmate"

	// DefaultBotToken and DefaultAppToken begin the tokens a server accepts
	// unless WithBotToken or WithAppToken says otherwise; each server adds a
	// number of its own (BotToken and AppToken say the whole token), so a
	// client left over from another test that reaches a server reusing its
	// port is turned away rather than served.
	DefaultBotToken = "xoxb-test"
	DefaultAppToken = "xapp-test"

	// VerificationToken is the deprecated token Slack still puts in payloads.
	VerificationToken = "verification-token"
)

// ErrClosed is returned by waits and sends that were cut short by Close.
var ErrClosed = errors.New("fakeslack: server closed")

// Option configures a Server.
type Option func(*config)

type config struct {
	botToken        string
	appToken        string
	pingInterval    time.Duration
	ackTimeout      time.Duration
	disconnectGrace time.Duration
	now             func() time.Time
	seed            uint64
	channelLimit    *ChannelLimit
	redeliver       int
	noHistory       bool
	ackLoss         float64
	slim            bool
}

// WithSlimRecords keeps only the small parts of each call (no raw body, no
// JSON body, no blocks, text or attachments parameters) and no blocks with
// stored messages, for load runs: a recorded call otherwise holds its body
// three times over, and marking all that slows the garbage collector of the
// process under test.
func WithSlimRecords() Option { return func(c *config) { c.slim = true } }

// WithBotToken sets the bot token (xoxb-…) the Web API accepts.
func WithBotToken(token string) Option { return func(c *config) { c.botToken = token } }

// WithAppToken sets the app-level token (xapp-…) apps.connections.open accepts.
func WithAppToken(token string) Option { return func(c *config) { c.appToken = token } }

// WithPingInterval sets how often each socket gets a websocket ping
// (default 1 s). Zero or less sends no pings, which lets a test watch the
// client give up on a silent connection.
func WithPingInterval(d time.Duration) Option { return func(c *config) { c.pingInterval = d } }

// WithAckTimeout sets how long Send waits for an ack before it fails with
// ErrAckTimeout (default 3 s, Slack's deadline). Zero or less waits until the
// context ends.
func WithAckTimeout(d time.Duration) Option { return func(c *config) { c.ackTimeout = d } }

// WithDisconnectGrace sets how long after a disconnect message the server
// closes a socket the client has not closed (default 1 s).
func WithDisconnectGrace(d time.Duration) Option { return func(c *config) { c.disconnectGrace = d } }

// WithClock sets the clock used for Call.Time, event_time and response_url
// expiry. Ack latencies always use the real monotonic clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Server is a fake Slack: Web API, response URLs and a socket-mode websocket,
// all served by one httptest.Server. It is safe for concurrent use.
type Server struct {
	cfg  config
	hs   *httptest.Server
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every recorded change
	closed  bool

	calls   []Call
	limits  map[string]*rateLimit
	faults  []*injected
	release chan struct{} // closed by ReleaseHangs
	rand    *rand.Rand

	channelLimiters map[string]*rate.Limiter
	handlers        map[string]HandlerFunc
	seq             int // for ts, tickets, envelope and trigger ids
	messages        map[string]map[string]any
	respURLs        map[string]*responseURL
	triggers        map[string]bool           // trigger ids handed out (views.go)
	homes           map[string]map[string]any // App Home by user (views.go)
	modals          []Modal                   // modals opened (views.go)

	tickets     map[string]bool
	conns       map[int]*conn
	connSeq     int
	total       int // hello'd connections ever
	rr          int
	pings       int
	pongs       int
	pending     map[string][]*pending
	acked       map[string]bool
	acks        []Ack
	badFrames   int
	envelopes   int
	disconnect  int
	redelivered int
	acksLost    int
}

// servers numbers the servers of the process, for their tokens.
var servers atomic.Int64

// New starts a fake Slack on a loopback port.
func New(opts ...Option) *Server {
	n := servers.Add(1)
	cfg := config{
		botToken:        fmt.Sprintf("%s-%d", DefaultBotToken, n),
		appToken:        fmt.Sprintf("%s-%d", DefaultAppToken, n),
		pingInterval:    time.Second,
		ackTimeout:      3 * time.Second,
		disconnectGrace: time.Second,
		now:             time.Now,
		seed:            1,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:     cfg,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		limits:  map[string]*rateLimit{},
		release: make(chan struct{}),
		rand:    newRand(cfg.seed),

		channelLimiters: map[string]*rate.Limiter{},
		handlers:        map[string]HandlerFunc{},
		messages:        map[string]map[string]any{},
		respURLs:        map[string]*responseURL{},
		triggers:        map[string]bool{},
		tickets:         map[string]bool{},
		conns:           map[int]*conn{},
		pending:         map[string][]*pending{},
		acked:           map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.handleAPI)
	mux.HandleFunc("/response/{id}", s.handleResponseURL)
	mux.HandleFunc("/link/", s.handleSocket)
	// Started once s.hs is set: a client of an earlier server on the same
	// port may call the moment it listens, and the handlers read s.hs.
	s.hs = httptest.NewUnstartedServer(mux)
	s.hs.Start()
	return s
}

// Close closes every socket and the HTTP server and waits for all of the
// server's goroutines. Pending Send calls fail with ErrClosed. Stop clients
// first, or they will keep trying to reconnect to a closed port.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := s.connList()
	s.notifyLocked()
	s.mu.Unlock()

	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.wg.Wait()
	s.hs.Close()
}

// APIURL is the Web API base URL, with the trailing slash slack.OptionAPIURL needs.
func (s *Server) APIURL() string { return s.hs.URL + "/api/" }

// BotToken is the bot token the server accepts.
func (s *Server) BotToken() string { return s.cfg.botToken }

// AppToken is the app-level token the server accepts.
func (s *Server) AppToken() string { return s.cfg.appToken }

// NextTS returns a new message timestamp, unique and later than every one
// the server has handed out, for building events.
func (s *Server) NextTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextTSLocked()
}

func (s *Server) nextTSLocked() string {
	s.seq++
	us := int64(s.seq) * 100
	return fmt.Sprintf("%d.%06d", 1700000000+us/1_000_000, us%1_000_000)
}

func (s *Server) nextIDLocked() int {
	s.seq++
	return s.seq
}

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait calls check, without s.mu held, after every change until it reports
// true, ctx ends or the server closes.
func (s *Server) wait(ctx context.Context, check func() bool) error {
	for {
		s.mu.Lock()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		// The channel is taken before checking, so a change made during the
		// check closes it and is not missed.
		if check() {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats counts what happened on the socket-mode side.
type Stats struct {
	Open        int // sockets open, live or not (a socket told to disconnect stays open until closed)
	Live        int // connections that got hello and were not told to disconnect
	Total       int // connections that got hello, ever
	Pings       int // ping frames sent
	Pongs       int // pong frames received
	Envelopes   int // envelopes written to a socket (retries by Send included)
	Acks        int // messages with an envelope_id received, see Acks
	Disconnects int // disconnect messages sent
	BadFrames   int // client messages that were not JSON
	Redelivered int // envelopes sent again for want of an ack (WithRedelivery)
	AcksLost    int // acks dropped by WithAckLoss
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

func (s *Server) statsLocked() Stats {
	live := 0
	for _, c := range s.conns {
		if c.live {
			live++
		}
	}
	return Stats{
		Open: len(s.conns), Live: live, Total: s.total, Pings: s.pings, Pongs: s.pongs,
		Envelopes: s.envelopes, Acks: len(s.acks), Disconnects: s.disconnect, BadFrames: s.badFrames, Redelivered: s.redelivered, AcksLost: s.acksLost,
	}
}

// WaitStats waits until cond holds for the counters.
func (s *Server) WaitStats(ctx context.Context, cond func(Stats) bool) error {
	return s.wait(ctx, func() bool { return cond(s.Stats()) })
}

// Connections is the number of live connections: hello sent, not dropped and
// not told to disconnect.
func (s *Server) Connections() int { return s.Stats().Live }

// TotalConnections is the number of connections that ever got hello.
func (s *Server) TotalConnections() int { return s.Stats().Total }

// WaitConnections waits until at least n connections are live.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.WaitStats(ctx, func(st Stats) bool { return st.Live >= n })
}

// WaitTotalConnections waits until at least n connections have ever got
// hello, which after Disconnect or DropConnections means the client came back.
func (s *Server) WaitTotalConnections(ctx context.Context, n int) error {
	return s.WaitStats(ctx, func(st Stats) bool { return st.Total >= n })
}

func (s *Server) connList() []*conn {
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *conn) int { return a.id - b.id })
	return cs
}
