package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"shipmate/metrics"
)

// The HTTP path to Slack, innermost first:
//
//	http.Client (per-attempt timeout, pooled connections)
//	→ transport (per-channel pacing, metrics, health, echo trimming)
//	→ slack-go's retry client (OptionRetryConfig) with retryPolicy
//
// Everything that calls Slack through the bot's slack.Client (replies, the
// quiz publisher, apps.connections.open) goes through all three. How long a
// call may keep retrying is its context's deadline: each caller sets one
// that fits what the call is for.

// maxRetries only stops a runaway loop: calls stop retrying at their
// context's deadline, or when the next wait would pass it.
const maxRetries = 1000

// newHTTPClient returns the client for Slack's Web API and response URLs:
// each attempt is bounded by timeout, and enough idle connections are kept
// per host for a busy bot not to reconnect for every call (the default
// keeps two).
func newHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// transport is the httpClient slack-go calls for every attempt.
type transport struct {
	client  *http.Client
	apiURL  string
	pace    *pacer
	health  *apiHealth
	metrics *metrics.Metrics
}

// Do paces chat.postMessage per channel, sends the request, and records
// its result.
func (t *transport) Do(req *http.Request) (*http.Response, error) {
	method := t.method(req)
	channel := ""
	if method == "chat.postMessage" {
		if channel, _ = req.Context().Value(channelKey{}).(string); channel == "" {
			channel = formChannel(req)
		}
		if err := t.pace.wait(req.Context(), channel); err != nil {
			return nil, err
		}
	}
	if method == "chat.postMessage" {
		if form, _ := req.Context().Value(formKey{}).(string); form != "" {
			r, err := withFormFields(req, form)
			if err != nil {
				return nil, err
			}
			req = r
		}
	}
	began := time.Now()
	resp, err := t.client.Do(req)
	if err == nil && resp.StatusCode == http.StatusOK && (method == "chat.postMessage" || method == "chat.update" || method == "chat.postEphemeral") {
		if code := transientError(trimEcho(resp)); code != "" {
			// Slack's own word that the call failed on its side, with
			// HTTP 200: retried (and looked for) as a 5xx is.
			resp.StatusCode, resp.Status = http.StatusServiceUnavailable, "503 Slack error "+code
		}
	}
	result := callResult(req.Context(), resp, err)
	t.metrics.APICall(method, result, time.Since(began).Seconds())
	t.health.observe(result)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests && channel != "" {
		t.pace.hold(channel, retryAfter(resp))
	}
	return resp, nil
}

// transientError returns the error code of a Slack answer that says the
// call failed on Slack's side and may be tried again (internal_error and
// fatal_error say "it's possible some aspect of the operation succeeded",
// so a post is looked for first); "" for anything else.
func transientError(body []byte) string {
	if !bytes.Contains(body, []byte(`"ok":false`)) {
		return ""
	}
	var r struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	switch r.Error {
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		return r.Error
	}
	return ""
}

// method names a request for metrics and logs: the Web API method, or
// "response_url" for anything else (response URLs are per-request).
func (t *transport) method(req *http.Request) string {
	if m, ok := strings.CutPrefix(req.URL.String(), t.apiURL); ok {
		if i := strings.IndexAny(m, "?/"); i >= 0 {
			m = m[:i]
		}
		return m
	}
	return "response_url"
}

func callResult(ctx context.Context, resp *http.Response, err error) string {
	switch {
	case err != nil && ctx.Err() != nil:
		return metrics.ResultCanceled
	case err != nil:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return metrics.ResultTimeout
		}
		return metrics.ResultNetwork
	case resp.StatusCode == http.StatusTooManyRequests:
		return metrics.ResultRateLimited
	case resp.StatusCode >= 500:
		return metrics.ResultServerError
	case resp.StatusCode >= 300:
		return metrics.ResultClientError
	}
	return metrics.ResultOK
}

// channelKey carries the channel of a chat.postMessage in its context,
// so the transport need not read it from the body.
type channelKey struct{}

func withChannel(ctx context.Context, channel string) context.Context {
	return context.WithValue(ctx, channelKey{}, channel)
}

// formKey carries form fields already encoded ("blocks=…&text=…") for a
// chat.postMessage in its context: the transport adds them to the form
// slack-go encoded from the other options, so a message posted again and
// again is not encoded again for every post (Message.Encoded).
type formKey struct{}

func withForm(ctx context.Context, form string) context.Context {
	if form == "" {
		return ctx
	}
	return context.WithValue(ctx, formKey{}, form)
}

// withFormFields returns a copy of req, a form-encoded POST, with the
// encoded fields form added to its body. req itself is left as it is:
// slack-go's retry client rewinds its body for the next attempt, which
// gets the fields added again.
func withFormFields(req *http.Request, form string) (*http.Request, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	full := make([]byte, 0, len(body)+1+len(form))
	full = append(full, body...)
	if len(body) > 0 {
		full = append(full, '&')
	}
	full = append(full, form...)
	r := req.WithContext(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(full))
	r.ContentLength = int64(len(full))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(full)), nil }
	return r, nil
}

// formChannel reads the channel field of a form-encoded body without
// decoding the rest (the blocks are most of it).
func formChannel(req *http.Request) string {
	if req.GetBody == nil {
		return ""
	}
	rc, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return ""
	}
	for len(body) > 0 {
		field := body
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			field, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if v, ok := bytes.CutPrefix(field, []byte("channel=")); ok {
			s, err := url.QueryUnescape(string(v))
			if err != nil {
				return ""
			}
			return s
		}
	}
	return ""
}

// trimEcho drops the "message" Slack echoes back from chat.postMessage and
// chat.update: nothing here reads it (callers use channel and ts), and
// decoding its blocks into slack-go's types cost more CPU than the rest of
// a reply. It returns the body left. A body that is not a JSON object is
// answered as unreadable_response.
func trimEcho(resp *http.Response) []byte {
	body, err := dropField(io.LimitReader(resp.Body, 8<<20), "message")
	resp.Body.Close()
	if err != nil {
		// Not the JSON object Slack sends: let slack-go report it.
		body = []byte(`{"ok":false,"error":"unreadable_response"}`)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return body
}

// dropField reads a JSON object from r and returns it without its
// top-level field name, whose value is skipped without being decoded or
// held in memory.
func dropField(r io.Reader, name string) ([]byte, error) {
	// Decoders are reused: each keeps the buffer it grew to hold the
	// largest value it read (a posted message's echo), which every reply
	// would otherwise allocate anew.
	dec := decoders.Get().(*jsontext.Decoder)
	dec.Reset(r)
	defer func() {
		dec.Reset(eofReader{})
		decoders.Put(dec)
	}()
	if tok, err := dec.ReadToken(); err != nil {
		return nil, err
	} else if tok.Kind() != '{' {
		return nil, errors.New("not a JSON object")
	}
	quoted := strconv.Quote(name)
	out := make([]byte, 0, 256)
	out = append(out, '{')
	for dec.PeekKind() != '}' {
		key, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if string(key) == quoted {
			if err := dec.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(out, key...), ':')
		val, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		out = append(out, val...)
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	return append(out, '}'), nil
}

var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(eofReader{}) }}

// eofReader is an empty reader: a pooled decoder does not hold on to the
// body it last read.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// retryAfter is a 429's Retry-After, or 0 without one.
func retryAfter(resp *http.Response) time.Duration {
	s := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if s == "" {
		return 0
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || sec < 0 {
		return 0
	}
	return time.Duration(sec * float64(time.Second))
}

// pacer spaces posts to each channel at Slack's per-channel rate (about one
// message a second, with short bursts), so a burst of mentions in one
// channel is delivered at that pace rather than racing into 429s. Channels
// are paced independently: one busy channel does not slow the others.
type pacer struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu     sync.Mutex
	lanes  map[string]*paceLane
	pruned time.Time // last sweep of idle lanes
}

type paceLane struct {
	lim      *rate.Limiter
	held     time.Time // no post before this (a 429's Retry-After)
	lastUsed time.Time
}

// maxPaceLanes bounds the pacer's memory: past it, channels idle for a
// minute are forgotten (their limiter is full again by then anyway).
const maxPaceLanes = 10_000

func newPacer(perSecond float64, burst int) *pacer {
	every := time.Duration(0)
	if perSecond > 0 {
		every = time.Duration(float64(time.Second) / perSecond)
	}
	return &pacer{every: every, burst: max(burst, 1), now: time.Now, lanes: map[string]*paceLane{}}
}

func (p *pacer) lane(channel string) *paceLane {
	now := p.now()
	l := p.lanes[channel]
	if l == nil {
		if len(p.lanes) >= maxPaceLanes && now.Sub(p.pruned) > 10*time.Second {
			p.pruned = now
			for k, v := range p.lanes {
				if now.Sub(v.lastUsed) > time.Minute {
					delete(p.lanes, k)
				}
			}
		}
		l = &paceLane{lim: rate.NewLimiter(rate.Every(p.every), p.burst)}
		p.lanes[channel] = l
	}
	l.lastUsed = now
	return l
}

// wait blocks until a post to channel may go, or ctx ends.
func (p *pacer) wait(ctx context.Context, channel string) error {
	if channel == "" || p.every <= 0 {
		return nil
	}
	p.mu.Lock()
	l := p.lane(channel)
	held := l.held
	p.mu.Unlock()
	if d := held.Sub(p.now()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return l.lim.Wait(ctx)
}

// hold stops posts to channel for d (at least the pacing interval), after
// Slack said 429.
func (p *pacer) hold(channel string, d time.Duration) {
	if p.every <= 0 {
		return
	}
	d = max(d, p.every)
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lane(channel)
	if until := p.now().Add(d); until.After(l.held) {
		l.held = until
	}
}

// apiHealth remembers whether Slack's Web API answers: it is down once
// calls have failed (network errors, timeouts, 5xx) with no success for
// longer than a grace period.
type apiHealth struct {
	mu          sync.Mutex
	failingFrom time.Time // first failure since the last success; zero when healthy
	now         func() time.Time
}

func (h *apiHealth) observe(result string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch result {
	case metrics.ResultOK, metrics.ResultClientError, metrics.ResultRateLimited:
		h.failingFrom = time.Time{}
	case metrics.ResultTimeout, metrics.ResultNetwork, metrics.ResultServerError:
		if h.failingFrom.IsZero() {
			h.failingFrom = h.now()
		}
	}
}

// downFor is how long calls have been failing, 0 if they are not.
func (h *apiHealth) downFor() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingFrom.IsZero() {
		return 0
	}
	return h.now().Sub(h.failingFrom)
}

// retryPolicy is the bot's slack.RetryHandler: 429 waits Retry-After (and
// backs off exponentially without one), 5xx and network errors (timeouts
// included) back off exponentially with jitter. A call is not retried once
// its context has ended, when the wait would pass its deadline, or when the
// caller asked for no retries (withoutRetries).
type retryPolicy struct {
	log    *slog.Logger
	method func(*http.Request) string
	// looks, when set, looks in Slack for a post whose answer was lost
	// before it is sent again (lookback.go).
	looks *looker
}

// noRetryKey marks a context whose calls are sent once.
type noRetryKey struct{}

// withoutRetries returns a context whose Slack calls are not retried: for
// a call that a later one supersedes, where a late retry would do harm.
func withoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

func (p retryPolicy) ShouldRetry(state *slack.RetryState, req *http.Request, resp *http.Response, err error) (bool, time.Duration) {
	ctx := req.Context()
	if ctx.Err() != nil || ctx.Value(noRetryKey{}) != nil {
		return false, 0
	}
	var wait time.Duration
	var reason string
	lost := false // the call may have taken effect: its answer is what failed
	switch {
	case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
		reason = "rate limited"
		if wait = retryAfter(resp); wait <= 0 {
			wait = min(time.Second<<min(state.Attempt, 5), 30*time.Second)
		}
		wait += rand.N(250 * time.Millisecond)
	case resp != nil && resp.StatusCode >= 500:
		reason = "HTTP " + strconv.Itoa(resp.StatusCode)
		wait = state.Backoff.Duration()
		lost = true
	case err != nil && resp == nil:
		reason = errText(err)
		wait = state.Backoff.Duration()
		lost = !notSent(err)
	default:
		return false, 0
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
		return false, 0
	}
	method := p.method(req)
	level := slog.LevelDebug
	if state.Attempt == 0 {
		level = slog.LevelWarn
	}
	p.log.Log(ctx, level, "slack call failed, retrying", "method", method, "reason", reason,
		"attempt", state.Attempt+1, "retry_in", wait.Round(time.Millisecond))
	if l := lookBackOf(ctx); lost && l != nil && p.looks != nil && method == "chat.postMessage" {
		// Look after the wait, when a post that went through has had
		// the most time to show; then post again (at once) only if it
		// did not.
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, 0
		case <-t.C:
		}
		if p.looks.check(ctx, method, l) {
			return false, 0
		}
		return true, 0
	}
	return true, wait
}

// errText is err's message without the URL a *url.Error starts with: a
// response URL is a credential for its conversation.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// retryConfig is slack-go's retry configuration with the bot's policy.
func retryConfig(p retryPolicy) slack.RetryConfig {
	return slack.RetryConfig{
		MaxRetries:     maxRetries,
		Handlers:       []slack.RetryHandler{p},
		BackoffInitial: 250 * time.Millisecond,
		BackoffMax:     15 * time.Second,
		BackoffJitter:  250 * time.Millisecond,
	}
}
