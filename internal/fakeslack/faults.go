package fakeslack

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// Fault is a failure of Slack's that Inject applies to Web API calls or
// posts to response URLs, as real workspaces see them: slow or hung calls,
// 5xx, 429 with or without Retry-After, connections reset mid-call, and
// answers lost after Slack acted on the call.
type Fault struct {
	// Method limits the fault to one Web API method, or MethodResponseURL;
	// empty matches every call.
	Method string
	// Channel limits it to calls whose channel parameter is this one.
	Channel string
	// Times is how many matching calls are hit; 0 means every one until the
	// fault is removed.
	Times int
	// Probability, when above 0, hits each matching call with this chance
	// (drawn from the server's seeded source, see WithSeed).
	Probability float64

	// Delay holds the call this long before answering (or failing).
	Delay time.Duration
	// Hang holds the call until the client gives up on it, ReleaseHangs is
	// called, or the server closes; a released call is then answered.
	Hang bool
	// Status answers with this HTTP status instead: 500, 502 and 503 come
	// with an HTML body, as Slack's load balancers send them; 429 comes
	// with {"ok":false,"error":"ratelimited"} and a Retry-After header.
	Status int
	// RetryAfter is the 429's Retry-After (rounded up to whole seconds,
	// default 1 s); NoRetryAfter leaves the header out.
	RetryAfter   time.Duration
	NoRetryAfter bool
	// Reset closes the connection without an answer.
	Reset bool
	// AfterProcessing lets Slack act on the call first (a post is stored
	// and recorded as a success) and only then delays, hangs or fails the
	// answer: the client cannot tell whether the call took effect.
	AfterProcessing bool
}

// injected is a Fault installed on the server.
type injected struct {
	Fault
	id   int
	left int // for Times > 0
}

// Inject installs f for calls from now on and returns a function that
// removes it. Faults are checked in the order they were installed; the
// first that matches a call applies.
func (s *Server) Inject(f Fault) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := &injected{Fault: f, id: s.nextIDLocked(), left: f.Times}
	s.faults = append(s.faults, in)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, g := range s.faults {
			if g.id == in.id {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// ReleaseHangs lets every call held by a Hang fault go on to its answer.
func (s *Server) ReleaseHangs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = make(chan struct{})
}

// WithSeed seeds the source that Fault.Probability draws from (default 1),
// so a run with random faults can be repeated.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// takeFaultLocked returns the fault that applies to c, if any.
func (s *Server) takeFaultLocked(c *Call) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && f.Method != c.Method {
			continue
		}
		if f.Channel != "" && f.Channel != c.Param("channel") {
			continue
		}
		if f.Probability > 0 && s.rand.Float64() >= f.Probability {
			continue
		}
		if f.Times > 0 {
			f.left--
			if f.left <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		out := f.Fault
		return &out
	}
	return nil
}

// hold waits out f's Delay or Hang. It returns false if the call should
// not be answered: the client went away or the server is closing.
func (s *Server) hold(r *http.Request, f *Fault) bool {
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	var timeout <-chan time.Time
	switch {
	case f.Hang:
	case f.Delay > 0:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		timeout = t.C
	default:
		return true
	}
	select {
	case <-timeout:
		return true
	case <-release:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// failAnswer writes f's failure (a status or a reset) and reports whether
// it did; a fault with neither is answered normally by the caller.
func failAnswer(w http.ResponseWriter, f *Fault) bool {
	switch {
	case f.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case f.Status == http.StatusTooManyRequests:
		var h http.Header
		if !f.NoRetryAfter {
			after := f.RetryAfter
			if after <= 0 {
				after = time.Second
			}
			h = http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(after.Seconds())))}}
		}
		writeJSON(w, f.Status, h, fail("ratelimited"))
		return true
	case f.Status != 0:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><body><h1>" + strconv.Itoa(f.Status) + " " + http.StatusText(f.Status) + "</h1></body></html>"))
		return true
	}
	return false
}

// faultError is the Call.Error recorded for a call a fault answered.
func faultError(f *Fault) string {
	switch {
	case f.Reset:
		return "fault:reset"
	case f.Status == http.StatusTooManyRequests:
		return "ratelimited"
	case f.Status != 0:
		return "fault:http_" + strconv.Itoa(f.Status)
	case f.Hang:
		return "fault:hung"
	}
	return ""
}

// ChannelLimit is Slack's per-channel posting limit as WithChannelLimit
// sets it.
type ChannelLimit struct {
	// Every is the sustained interval between posts to one channel
	// (Slack: about one a second); Burst how many may go at once.
	Every time.Duration
	Burst int
	// NoRetryAfter leaves Retry-After off the 429s.
	NoRetryAfter bool
}

// WithChannelLimit makes chat.postMessage answer 429 (Retry-After 1 s)
// when a channel is posted to faster than l allows.
func WithChannelLimit(l ChannelLimit) Option { return func(c *config) { c.channelLimit = &l } }

// channelLimitedLocked reports whether a post to channel is over the limit.
func (s *Server) channelLimitedLocked(channel string) bool {
	l := s.cfg.channelLimit
	if l == nil || channel == "" {
		return false
	}
	lim := s.channelLimiters[channel]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(l.Every), max(l.Burst, 1))
		s.channelLimiters[channel] = lim
	}
	return !lim.Allow()
}

// newRand is the server's seeded source for Fault.Probability.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }
