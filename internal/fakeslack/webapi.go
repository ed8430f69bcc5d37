package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/json/jsontext"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MethodResponseURL is the Call.Method of a post to a response URL.
const MethodResponseURL = "response_url"

const maxBody = 10 << 20

// Call is one HTTP request the server answered.
type Call struct {
	Method  string         // Web API method ("chat.postMessage"), or MethodResponseURL
	Path    string         // request path, e.g. "/api/chat.postMessage" or "/response/7"
	Token   string         // from the Authorization header or the token field
	Params  url.Values     // query, form and multipart fields
	JSON    map[string]any // the body, when it was a JSON object
	Body    []byte         // the raw body
	Time    time.Time      // when it arrived, by the server's clock
	Status  int            // HTTP status answered
	Error   string         // the "error" answered, "" when ok
	Limited bool           // answered 429 because of RateLimit, WithChannelLimit or a 429 Fault
	// Fault is set when an injected Fault hit the call. With
	// AfterProcessing the call took effect (Error is ""), but the client got
	// a late answer, a failure or none.
	Fault *Fault

	// parts is the content of a chat.* call, read when the call arrives,
	// before the server's lock is taken for it.
	parts *parts
}

// parts is what messageParts makes of a chat.* call.
type parts struct {
	text    string
	blocks  []json.RawMessage
	errCode string
}

// Param returns a parameter by name: a query or form field, or a field of the
// JSON body (strings as they are, other values as JSON).
func (c Call) Param(name string) string {
	if v, ok := c.Params[name]; ok && len(v) > 0 {
		return v[0]
	}
	v, ok := c.JSON[name]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Calls returns every call so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo returns the calls to one method, oldest first.
func (s *Server) CallsTo(method string) []Call {
	return filterCalls(s.Calls(), method)
}

func filterCalls(calls []Call, method string) []Call {
	var out []Call
	for _, c := range calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitFor waits until cond holds for the calls so far. cond is called on a
// copy, without locks held, after every recorded change.
func (s *Server) WaitFor(ctx context.Context, cond func([]Call) bool) error {
	return s.wait(ctx, func() bool { return cond(s.Calls()) })
}

// WaitCalls waits until method has been called at least n times and returns
// those calls (rate-limited ones included).
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	var got []Call
	err := s.wait(ctx, func() bool {
		got = s.CallsTo(method)
		return len(got) >= n
	})
	return got, err
}

type rateLimit struct {
	n          int
	retryAfter time.Duration
}

// RateLimit makes the next n calls to method (a Web API method or
// MethodResponseURL) answer HTTP 429 with Retry-After set to retryAfter,
// rounded up to whole seconds as Slack sends it. It replaces any earlier limit
// on method; n of zero lifts it.
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.limits, method)
		return
	}
	s.limits[method] = &rateLimit{n: n, retryAfter: retryAfter}
}

// takeLimitLocked reports whether this call to method is rate-limited.
func (s *Server) takeLimitLocked(method string) (time.Duration, bool) {
	l := s.limits[method]
	if l == nil {
		return 0, false
	}
	l.n--
	if l.n <= 0 {
		delete(s.limits, method)
	}
	return l.retryAfter, true
}

// HandlerFunc answers a Web API method added with Handle. It runs after the
// token was checked and returns the response object; a missing "ok" is set
// to true.
type HandlerFunc func(c Call) map[string]any

// Handle adds or replaces a Web API method, for methods the fake lacks.
// The handler is called with the bot token already checked.
func (s *Server) Handle(method string, fn HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[method] = fn
}

// readCall reads the request into a Call; a non-empty error is the Slack
// error to answer.
func (s *Server) readCall(r *http.Request, method string) (Call, string) {
	c := Call{Method: method, Path: r.URL.Path, Params: r.URL.Query(), Time: s.cfg.now()}
	body, err := readBody(r)
	if err != nil {
		return c, "request_timeout"
	}
	c.Body = body
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var slackErr string
	switch ct {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			slackErr = "invalid_form_data"
		}
		// A key or value that needed no unescaping is a slice of the body's
		// text: each is copied, so that what a record or a stored message keeps
		// of a call does not keep its whole body.
		for k, v := range form {
			k = strings.Clone(k)
			for _, x := range v {
				c.Params[k] = append(c.Params[k], strings.Clone(x))
			}
		}
	case "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"]).ReadForm(maxBody)
		if err != nil {
			slackErr = "invalid_form_data"
			break
		}
		for k, v := range form.Value {
			c.Params[k] = append(c.Params[k], v...)
		}
		_ = form.RemoveAll()
	case "application/json":
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &c.JSON); err != nil {
				slackErr = "invalid_json"
			}
		}
	}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		c.Token = strings.TrimSpace(auth)
	} else {
		c.Token = c.Params.Get("token")
	}
	if strings.HasPrefix(method, "chat.") {
		// Read here, not under the lock every call is answered with: a
		// reply's blocks are kilobytes of JSON.
		p := s.readParts(c)
		c.parts = &p
	}
	return c, slackErr
}

// readBody reads a request's body, at most maxBody of it, in one buffer of
// the size the request announces.
func readBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that finds EOF
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody))
	return buf.Bytes(), err
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	c, slackErr := s.readCall(r, method)
	s.serve(w, r, &c, func() (map[string]any, http.Header) { return s.answerLocked(&c, slackErr) })
}

// serve answers a call with answer (run with s.mu held), applying the
// fault that matches it, and records it. A call is recorded before its
// answer is written, so a client call that has returned is always visible
// in Calls.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, c *Call, answer func() (map[string]any, http.Header)) {
	s.mu.Lock()
	f := s.takeFaultLocked(c)
	s.mu.Unlock()
	c.Fault = f
	if f != nil && !f.AfterProcessing {
		if !s.hold(r, f) {
			c.Error = "fault:hung"
			s.record(*c)
			return
		}
		if f.Status != 0 || f.Reset {
			c.Status, c.Error, c.Limited = f.Status, faultError(f), f.Status == http.StatusTooManyRequests
			s.record(*c)
			failAnswer(w, f)
			return
		}
	}
	s.mu.Lock()
	resp, header := answer()
	s.calls = append(s.calls, s.slimLocked(*c))
	s.notifyLocked()
	s.mu.Unlock()
	if f != nil && f.AfterProcessing && (!s.hold(r, f) || failAnswer(w, f)) {
		return
	}
	if resp == nil {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(c.Status)
		_, _ = io.WriteString(w, c.Error)
		return
	}
	writeJSON(w, c.Status, header, resp)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, s.slimLocked(c))
	s.notifyLocked()
}

// slimLocked drops a call's bulk under WithSlimRecords.
func (s *Server) slimLocked(c Call) Call {
	if !s.cfg.slim {
		return c
	}
	c.Body, c.JSON, c.parts = nil, nil, nil
	p := make(url.Values, len(c.Params))
	for k, v := range c.Params {
		if k != "blocks" && k != "text" && k != "attachments" {
			p[k] = v
		}
	}
	c.Params = p
	return c
}

func (s *Server) answerLocked(c *Call, slackErr string) (map[string]any, http.Header) {
	c.Status = http.StatusOK
	if after, ok := s.takeLimitLocked(c.Method); ok {
		c.Status, c.Limited, c.Error = http.StatusTooManyRequests, true, "ratelimited"
		h := http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(after.Seconds())))}}
		return fail(c.Error), h
	}
	if c.Method == "chat.postMessage" && slackErr == "" && s.channelLimitedLocked(c.Param("channel")) {
		c.Status, c.Limited, c.Error = http.StatusTooManyRequests, true, "ratelimited"
		var h http.Header
		if !s.cfg.channelLimit.NoRetryAfter {
			h = http.Header{"Retry-After": {"1"}}
		}
		return fail(c.Error), h
	}
	resp := s.dispatchLocked(*c, slackErr)
	if ok, _ := resp["ok"].(bool); !ok {
		c.Error, _ = resp["error"].(string)
	}
	return resp, nil
}

func (s *Server) dispatchLocked(c Call, slackErr string) map[string]any {
	if slackErr != "" {
		return fail(slackErr)
	}
	if c.Token == "" {
		return fail("not_authed")
	}
	if c.Token != s.cfg.botToken && c.Token != s.cfg.appToken {
		return fail("invalid_auth")
	}
	if c.Method == "apps.connections.open" {
		if c.Token != s.cfg.appToken {
			return fail("not_allowed_token_type")
		}
		return s.connectionsOpenLocked()
	}
	handler := s.handlers[c.Method]
	builtin := builtins[c.Method]
	if builtin == nil {
		builtin = viewBuiltins[c.Method]
	}
	if handler == nil && builtin == nil {
		return map[string]any{"ok": false, "error": "unknown_method", "req_method": c.Method}
	}
	if c.Token != s.cfg.botToken {
		return fail("not_allowed_token_type")
	}
	if handler != nil {
		// A user handler may call back into the server, so it runs unlocked.
		s.mu.Unlock()
		resp := handler(c)
		s.mu.Lock()
		if resp == nil {
			resp = map[string]any{}
		}
		if _, ok := resp["ok"]; !ok {
			resp["ok"] = true
		}
		return resp
	}
	return builtin(s, c)
}

var builtins = map[string]func(*Server, Call) map[string]any{
	"auth.test":          (*Server).authTestLocked,
	"chat.postMessage":   (*Server).postMessageLocked,
	"chat.postEphemeral": (*Server).postEphemeralLocked,
	"chat.update":        (*Server).updateLocked,
	"chat.delete":        (*Server).deleteLocked,
}

func fail(err string) map[string]any { return map[string]any{"ok": false, "error": err} }

func writeJSON(w http.ResponseWriter, status int, header http.Header, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"ok":false,"error":"internal_error"}`)
	}
	maps.Copy(w.Header(), header)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) authTestLocked(Call) map[string]any {
	return map[string]any{
		"ok":                    true,
		"url":                   "https://" + TeamDomain + ".slack.com/",
		"team":                  TeamName,
		"user":                  BotName,
		"team_id":               TeamID,
		"user_id":               BotUserID,
		"bot_id":                BotID,
		"is_enterprise_install": false,
	}
}

func (s *Server) connectionsOpenLocked() map[string]any {
	ticket := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.nextIDLocked(), s.seq)
	s.tickets[ticket] = true
	u := "ws" + strings.TrimPrefix(s.hs.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + AppID
	return map[string]any{"ok": true, "url": u}
}

// messageParts validates the content of a chat.* call, returning the Slack
// error if it is unusable.
// Blocks are checked to be a JSON array of at most 50 values and kept as
// they came (json.RawMessage): a load run posts thousands of them. Under
// WithSlimRecords they are checked and counted, not kept.
func (s *Server) messageParts(c Call) (text string, blocks []json.RawMessage, errCode string) {
	p := c.parts
	if p == nil {
		q := s.readParts(c)
		p = &q
	}
	return p.text, p.blocks, p.errCode
}

func (s *Server) readParts(c Call) parts {
	text := c.Param("text")
	var blocks []json.RawMessage
	n := 0
	if raw := c.Param("blocks"); raw != "" {
		var ok bool
		if blocks, n, ok = splitArray([]byte(raw), !s.cfg.slim); !ok || n > 50 {
			return parts{errCode: "invalid_blocks"}
		}
	}
	if text == "" && n == 0 && c.Param("attachments") == "" {
		return parts{errCode: "no_text"}
	}
	return parts{text: text, blocks: blocks}
}

// decoders are the JSON decoders splitArray reads with, reused.
var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewReader(nil)) }}

// splitArray splits a JSON array into its elements without decoding them,
// and counts them; with keep false it only counts.
func splitArray(b []byte, keep bool) ([]json.RawMessage, int, bool) {
	dec := decoders.Get().(*jsontext.Decoder)
	dec.Reset(bytes.NewReader(b))
	defer func() {
		dec.Reset(bytes.NewReader(nil)) // not to keep b
		decoders.Put(dec)
	}()
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, 0, false
	}
	var out []json.RawMessage
	n := 0
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, 0, false
		}
		n++
		if keep {
			out = append(out, json.RawMessage(v.Clone()))
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, 0, false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, 0, false // trailing data
	}
	return out, n, true
}

func (s *Server) botMessage(text string, blocks []json.RawMessage, ts string) map[string]any {
	m := map[string]any{
		"type":   "message",
		"text":   text,
		"user":   BotUserID,
		"bot_id": BotID,
		"app_id": AppID,
		"team":   TeamID,
		"ts":     ts,
		"bot_profile": map[string]any{
			"id": BotID, "app_id": AppID, "name": BotName, "team_id": TeamID, "deleted": false,
		},
	}
	if len(blocks) > 0 && !s.cfg.slim {
		m["blocks"] = blocks
	}
	return m
}

func (s *Server) postMessageLocked(c Call) map[string]any {
	channel := c.Param("channel")
	if channel == "" {
		return fail("channel_not_found")
	}
	text, blocks, errCode := s.messageParts(c)
	if errCode != "" {
		return fail(errCode)
	}
	ts := s.nextTSLocked()
	msg := s.botMessage(text, blocks, ts)
	if thread := c.Param("thread_ts"); thread != "" {
		msg["thread_ts"] = thread
	}
	if raw := c.Param("metadata"); raw != "" {
		var md map[string]any
		if json.Unmarshal([]byte(raw), &md) != nil {
			return fail("invalid_metadata_format")
		}
		msg["metadata"] = md // stored; Slack returns it only to history reads
	}
	s.messages[channel+"/"+ts] = msg
	return map[string]any{"ok": true, "channel": channel, "ts": ts, "message": maps.Clone(msg)}
}

func (s *Server) postEphemeralLocked(c Call) map[string]any {
	if c.Param("channel") == "" {
		return fail("channel_not_found")
	}
	if c.Param("user") == "" {
		return fail("user_not_in_channel")
	}
	if _, _, errCode := s.messageParts(c); errCode != "" {
		return fail(errCode)
	}
	// Ephemeral messages are not stored: Slack cannot update or delete them.
	return map[string]any{"ok": true, "message_ts": s.nextTSLocked()}
}

func (s *Server) updateLocked(c Call) map[string]any {
	channel, ts := c.Param("channel"), c.Param("ts")
	if channel == "" {
		return fail("channel_not_found")
	}
	msg, ok := s.messages[channel+"/"+ts]
	if !ok {
		return fail("message_not_found")
	}
	text, blocks, errCode := s.messageParts(c)
	if errCode != "" {
		return fail(errCode)
	}
	msg["text"] = text
	delete(msg, "blocks")
	if len(blocks) > 0 {
		msg["blocks"] = blocks
	}
	msg["edited"] = map[string]any{"user": BotUserID, "ts": s.nextTSLocked()}
	return map[string]any{"ok": true, "channel": channel, "ts": ts, "text": text, "message": maps.Clone(msg)}
}

func (s *Server) deleteLocked(c Call) map[string]any {
	channel, ts := c.Param("channel"), c.Param("ts")
	if channel == "" {
		return fail("channel_not_found")
	}
	if _, ok := s.messages[channel+"/"+ts]; !ok {
		return fail("message_not_found")
	}
	delete(s.messages, channel+"/"+ts)
	return map[string]any{"ok": true, "channel": channel, "ts": ts}
}

// Slack's documented response_url limits.
const (
	responseURLUses = 5
	responseURLLife = 30 * time.Minute
)

type responseURL struct {
	created time.Time
	uses    int
}

// ResponseURL returns a new response URL on the server; posts to it are
// recorded as calls with Method MethodResponseURL.
func (s *Server) ResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.responseURLLocked()
}

func (s *Server) responseURLLocked() string {
	id := strconv.Itoa(s.nextIDLocked())
	s.respURLs[id] = &responseURL{created: s.cfg.now()}
	return s.hs.URL + "/response/" + id
}

func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	c, slackErr := s.readCall(r, MethodResponseURL)
	s.serve(w, r, &c, func() (map[string]any, http.Header) {
		return s.answerResponseURLLocked(&c, r.PathValue("id"), slackErr)
	})
}

// answerResponseURLLocked returns nil for a plain-text answer.
func (s *Server) answerResponseURLLocked(c *Call, id, slackErr string) (map[string]any, http.Header) {
	c.Status = http.StatusOK
	if after, ok := s.takeLimitLocked(MethodResponseURL); ok {
		c.Status, c.Limited, c.Error = http.StatusTooManyRequests, true, "ratelimited"
		return fail(c.Error), http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(after.Seconds())))}}
	}
	u := s.respURLs[id]
	switch {
	case u == nil:
		c.Status, c.Error = http.StatusNotFound, "no_service"
		return nil, nil
	case slackErr != "":
		c.Error = slackErr
	case s.cfg.now().Sub(u.created) > responseURLLife:
		c.Error = "expired_url"
	case u.uses >= responseURLUses:
		c.Error = "used_url"
	default:
		u.uses++
		return map[string]any{"ok": true}, nil
	}
	return fail(c.Error), nil
}
