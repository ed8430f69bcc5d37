package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Views, App Home and message shortcuts:
//
//   - views.publish stores the user's App Home (type "home"); views.open
//     opens a modal (type "modal") for a trigger_id the fake handed out.
//     Both check the view as Slack does: a JSON object with a known type
//     and at most 100 blocks (invalid_arguments otherwise), and answer
//     {"ok":true,"view":{…,"id":"V…"}}. HomeView and Modals return them.
//   - AppHomeOpened, MessageShortcut and ViewSubmission build the events
//     and payloads Slack sends for them.

// maxViewBlocks is Slack's limit on the blocks of a modal or App Home.
const maxViewBlocks = 100

// viewBuiltins are the Web API methods of this file.
var viewBuiltins = map[string]func(*Server, Call) map[string]any{
	"views.publish": (*Server).viewsPublishLocked,
	"views.open":    (*Server).viewsOpenLocked,
}

// Modal is a modal opened with views.open.
type Modal struct {
	TriggerID string
	View      map[string]any
}

func (s *Server) readViewLocked(c Call, wantType string) (map[string]any, string) {
	var view map[string]any
	if raw := c.Param("view"); raw == "" || json.Unmarshal([]byte(raw), &view) != nil {
		return nil, "invalid_arguments"
	}
	if view["type"] != wantType {
		return nil, "invalid_arguments"
	}
	if bs, _ := view["blocks"].([]any); len(bs) > maxViewBlocks {
		return nil, "invalid_arguments"
	}
	view = maps.Clone(view)
	view["id"] = fmt.Sprintf("V%08d", s.nextIDLocked())
	view["team_id"] = TeamID
	view["app_id"] = AppID
	return view, ""
}

func (s *Server) viewsPublishLocked(c Call) map[string]any {
	user := c.Param("user_id")
	if user == "" {
		return fail("invalid_arguments")
	}
	view, errCode := s.readViewLocked(c, "home")
	if errCode != "" {
		return fail(errCode)
	}
	if s.homes == nil {
		s.homes = map[string]map[string]any{}
	}
	s.homes[user] = view
	return map[string]any{"ok": true, "view": maps.Clone(view)}
}

func (s *Server) viewsOpenLocked(c Call) map[string]any {
	trigger := c.Param("trigger_id")
	if trigger == "" || !s.triggers[trigger] {
		return fail("invalid_trigger_id")
	}
	view, errCode := s.readViewLocked(c, "modal")
	if errCode != "" {
		return fail(errCode)
	}
	s.modals = append(s.modals, Modal{TriggerID: trigger, View: view})
	return map[string]any{"ok": true, "view": maps.Clone(view)}
}

// HomeView returns the App Home last published for user, nil if none.
func (s *Server) HomeView(user string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.homes[user])
}

// WaitHome waits until the App Home published for user satisfies cond and
// returns it.
func (s *Server) WaitHome(ctx context.Context, user string, cond func(view map[string]any) bool) (map[string]any, error) {
	var v map[string]any
	err := s.wait(ctx, func() bool {
		v = s.HomeView(user)
		return v != nil && cond(v)
	})
	return v, err
}

// Modals returns the modals opened so far, oldest first.
func (s *Server) Modals() []Modal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.modals)
}

// AppHomeOpened builds an app_home_opened event for user's Home tab.
func (s *Server) AppHomeOpened(user string) map[string]any {
	return map[string]any{
		"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home",
		"event_ts": s.NextTS(),
	}
}

// MessageShortcut builds the interactive envelope of a message shortcut
// (callbackID) used by user on message (an event from Message), with a
// fresh response_url and trigger_id, as Slack sends it.
func (s *Server) MessageShortcut(callbackID, user string, message map[string]any) Envelope {
	channel, _ := message["channel"].(string)
	msg := maps.Clone(message)
	delete(msg, "channel")
	delete(msg, "channel_type")
	delete(msg, "event_ts")
	return s.InteractiveEnvelope(map[string]any{
		"type":         "message_action",
		"callback_id":  callbackID,
		"user":         map[string]any{"id": user, "username": user, "name": user, "team_id": TeamID},
		"channel":      map[string]any{"id": channel, "name": "general"},
		"message":      msg,
		"message_ts":   msg["ts"],
		"response_url": s.ResponseURL(),
	})
}

// ViewSubmission builds the envelope of user submitting a modal that was
// opened: values maps block id → action id → the input's value.
func (s *Server) ViewSubmission(user string, m Modal, values map[string]map[string]string) Envelope {
	state := map[string]any{}
	for block, actions := range values {
		acts := map[string]any{}
		for id, v := range actions {
			acts[id] = map[string]any{"type": "plain_text_input", "value": v}
		}
		state[block] = acts
	}
	view := maps.Clone(m.View)
	view["state"] = map[string]any{"values": state}
	view["hash"] = "hash"
	return s.InteractiveEnvelope(map[string]any{
		"type": "view_submission",
		"user": map[string]any{"id": user, "username": user, "name": user, "team_id": TeamID},
		"view": view,
	})
}
