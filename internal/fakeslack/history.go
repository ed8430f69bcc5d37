package fakeslack

import (
	"encoding/json"
	"maps"
	"sort"
	"strconv"
	"strings"
)

// History: conversations.history and conversations.replies over the
// messages posted through the fake, with the message metadata
// chat.postMessage was given (Slack returns it with include_all_metadata=1),
// so a bot can find a message it posted before it learned the message's
// ts. As with Slack, the bot token needs a history scope: WithoutHistory
// makes both methods answer missing_scope.
//
// Builtin runs a built-in method for a handler added with Handle, so a test
// can act at an exact point of a call, for example SIGKILL a bot process
// after its post is stored and before the answer reaches it:
//
//	srv.Handle("chat.postMessage", func(c fakeslack.Call) map[string]any {
//		resp := srv.Builtin(c) // the message is in the channel now
//		kill()
//		return resp // answered to a dead process
//	})

func init() {
	post := builtins["chat.postMessage"]
	builtins["chat.postMessage"] = func(s *Server, c Call) map[string]any {
		resp := post(s, c)
		if ok, _ := resp["ok"].(bool); ok {
			s.keepMetadataLocked(c, resp)
		}
		return resp
	}
	builtins["conversations.history"] = (*Server).historyLocked
	builtins["conversations.replies"] = (*Server).repliesLocked
}

// WithoutHistory makes conversations.history and conversations.replies
// answer missing_scope, as for an app installed without channels:history.
func WithoutHistory() Option { return func(c *config) { c.noHistory = true } }

// Builtin answers c with the fake's own implementation of c.Method, for a
// handler added with Handle that wraps it. It takes the server's lock, so
// call it from a handler, never with the lock held.
func (s *Server) Builtin(c Call) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn := builtins[c.Method]
	if fn == nil {
		return map[string]any{"ok": false, "error": "unknown_method", "req_method": c.Method}
	}
	return fn(s, c)
}

// Posted returns a message posted through the fake as Slack would list
// it, and whether it exists.
func (s *Server) Posted(channel, ts string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[channel+"/"+ts]
	if !ok {
		return nil, false
	}
	return maps.Clone(m), true
}

// keepMetadataLocked stores the metadata of a posted message with it.
func (s *Server) keepMetadataLocked(c Call, resp map[string]any) {
	raw := c.Param("metadata")
	if raw == "" {
		return
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(raw), &md); err != nil {
		return
	}
	ts, _ := resp["ts"].(string)
	if m, ok := s.messages[c.Param("channel")+"/"+ts]; ok {
		m["metadata"] = md
	}
}

// keepEventMessageLocked stores the user's message an events_api envelope
// carries (an app_mention or a plain message), as Slack has it in the
// channel's history: a thread's parent can then be read with
// conversations.replies, and a DM's history holds both sides.
func (s *Server) keepEventMessageLocked(env Envelope) {
	if env.Type != TypeEventsAPI {
		return
	}
	ev, _ := env.Payload["event"].(map[string]any)
	typ, _ := ev["type"].(string)
	channel, _ := ev["channel"].(string)
	ts, _ := ev["ts"].(string)
	if (typ != "app_mention" && typ != "message") || channel == "" || ts == "" {
		return
	}
	if sub, _ := ev["subtype"].(string); sub != "" {
		return
	}
	key := channel + "/" + ts
	if _, ok := s.messages[key]; ok {
		return
	}
	m := map[string]any{"type": "message", "ts": ts}
	for _, k := range []string{"user", "text", "thread_ts", "team", "bot_id"} {
		if v, ok := ev[k]; ok {
			m[k] = v
		}
	}
	s.messages[key] = m
}

// channelMessagesLocked returns the messages of a channel, newest first.
func (s *Server) channelMessagesLocked(channel string) []map[string]any {
	var out []map[string]any
	for k, m := range s.messages {
		if ch, _, _ := strings.Cut(k, "/"); ch == channel {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return tsLess(out[j]["ts"].(string), out[i]["ts"].(string)) })
	return out
}

func tsLess(a, b string) bool {
	x, _ := strconv.ParseFloat(a, 64)
	y, _ := strconv.ParseFloat(b, 64)
	return x < y
}

// listed is how a message is listed: metadata only when asked for.
func listed(m map[string]any, withMetadata bool) map[string]any {
	m = maps.Clone(m)
	if !withMetadata {
		delete(m, "metadata")
	}
	return m
}

// page cuts msgs to the call's limit and cursor (an offset).
func page(c Call, msgs []map[string]any, withMetadata bool) map[string]any {
	limit, _ := strconv.Atoi(c.Param("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start, _ := strconv.Atoi(c.Param("cursor"))
	start = min(max(start, 0), len(msgs))
	end := min(start+limit, len(msgs))
	out := make([]any, 0, end-start)
	for _, m := range msgs[start:end] {
		out = append(out, listed(m, withMetadata))
	}
	resp := map[string]any{"ok": true, "messages": out, "has_more": end < len(msgs)}
	if end < len(msgs) {
		resp["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	return resp
}

func (s *Server) historyLocked(c Call) map[string]any {
	if s.cfg.noHistory {
		return map[string]any{"ok": false, "error": "missing_scope", "needed": "channels:history,groups:history"}
	}
	channel := c.Param("channel")
	if channel == "" {
		return fail("channel_not_found")
	}
	oldest, latest := c.Param("oldest"), c.Param("latest")
	var msgs []map[string]any
	for _, m := range s.channelMessagesLocked(channel) {
		ts := m["ts"].(string)
		if thread, _ := m["thread_ts"].(string); thread != "" && thread != ts {
			continue // replies are listed by conversations.replies
		}
		if (oldest != "" && !tsLess(oldest, ts)) || (latest != "" && !tsLess(ts, latest)) {
			continue
		}
		msgs = append(msgs, m)
	}
	return page(c, msgs, c.Param("include_all_metadata") == "1")
}

func (s *Server) repliesLocked(c Call) map[string]any {
	if s.cfg.noHistory {
		return map[string]any{"ok": false, "error": "missing_scope", "needed": "channels:history,groups:history"}
	}
	channel, parent := c.Param("channel"), c.Param("ts")
	if _, ok := s.messages[channel+"/"+parent]; !ok {
		return fail("thread_not_found")
	}
	oldest, latest := c.Param("oldest"), c.Param("latest")
	within := func(ts string) bool {
		return (oldest == "" || tsLess(oldest, ts)) && (latest == "" || tsLess(ts, latest))
	}
	var msgs []map[string]any
	if within(parent) {
		msgs = append(msgs, s.messages[channel+"/"+parent])
	}
	all := s.channelMessagesLocked(channel)
	for i := len(all) - 1; i >= 0; i-- { // oldest first, as Slack lists a thread
		ts, _ := all[i]["ts"].(string)
		if thread, _ := all[i]["thread_ts"].(string); thread == parent && ts != parent && within(ts) {
			msgs = append(msgs, all[i])
		}
	}
	return page(c, msgs, c.Param("include_all_metadata") == "1")
}

// Messages returns the messages posted to a channel through the fake,
// thread replies included, oldest first, as conversations.history lists
// them with include_all_metadata.
func (s *Server) Messages(channel string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.channelMessagesLocked(channel)
	out := make([]map[string]any, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, maps.Clone(all[i]))
	}
	return out
}
