package fakeslack

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeTimeout = 5 * time.Second
	debugHost    = "applink-fakeslack"
)

// slack-go dials with "Origin: https://api.slack.com", which the default
// same-origin check would refuse.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// conn is one socket-mode websocket.
type conn struct {
	id     int
	ws     *websocket.Conn
	closed chan struct{} // closed when the reader has stopped

	writeMu sync.Mutex

	// Guarded by Server.mu.
	live bool // hello sent, not dropped, not told to disconnect
	gone bool // dropped or told to disconnect: never live again
}

func (c *conn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write(b)
}

func (c *conn) write(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (s *Server) handleSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid, closed := s.tickets[ticket], s.closed
	delete(s.tickets, ticket) // tickets are good for one connection
	if valid && !closed {
		// Once hijacked, the connection is no longer tracked by httptest, so
		// Close waits for this handler (and its pinger) through s.wg.
		s.wg.Add(1)
	}
	s.mu.Unlock()
	switch {
	case closed:
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	case !valid:
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	defer s.wg.Done()
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.connSeq++
	c := &conn{id: s.connSeq, ws: ws, closed: make(chan struct{})}
	s.conns[c.id] = c
	s.wg.Add(1) // the pinger
	s.mu.Unlock()

	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.pongs++
		s.notifyLocked()
		s.mu.Unlock()
		return nil
	})
	go s.ping(c)
	defer s.forget(c)

	if !s.hello(c) {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		s.receive(c, data)
	}
}

// hello greets c as Slack does and counts it as live.
func (s *Server) hello(c *conn) bool {
	s.mu.Lock()
	n := s.statsLocked().Live + 1
	s.mu.Unlock()
	err := c.writeJSON(map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info": map[string]any{
			"host":                        debugHost,
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": AppID},
	})
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gone {
		return false // dropped while greeting
	}
	c.live = true
	s.total++
	s.notifyLocked()
	return true
}

// forget closes c and removes it once its reader has stopped.
func (s *Server) forget(c *conn) {
	_ = c.ws.Close()
	close(c.closed)
	s.mu.Lock()
	delete(s.conns, c.id)
	c.live, c.gone = false, true
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) ping(c *conn) {
	defer s.wg.Done()
	if s.cfg.pingInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-t.C:
		case <-c.closed:
			return
		case <-s.done:
			return
		}
		// WriteControl may be called concurrently with the other writers.
		if err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), time.Now().Add(writeTimeout)); err != nil {
			return
		}
		s.mu.Lock()
		s.pings++
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// Disconnect sends {"type":"disconnect","reason":reason} to every live
// connection, stops sending envelopes on them, and closes each one
// DisconnectGrace later unless the client closed it first. Slack uses the
// reasons "warning", "refresh_requested", "too_many_websockets" and
// "link_disabled". It returns how many connections were told.
func (s *Server) Disconnect(reason string) int {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0
	}
	var told []*conn
	for _, c := range s.connList() {
		if c.live {
			c.live, c.gone = false, true
			told = append(told, c)
		}
	}
	s.disconnect += len(told)
	s.wg.Add(len(told))
	s.notifyLocked()
	s.mu.Unlock()

	msg := map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": debugHost},
	}
	for _, c := range told {
		_ = c.writeJSON(msg)
		go s.closeAfterGrace(c)
	}
	return len(told)
}

func (s *Server) closeAfterGrace(c *conn) {
	defer s.wg.Done()
	t := time.NewTimer(s.cfg.disconnectGrace)
	defer t.Stop()
	select {
	case <-t.C:
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeTimeout))
		_ = c.ws.Close()
	case <-c.closed:
	case <-s.done:
	}
}

// DropConnections closes every socket at once without a close frame, as a
// network failure would. It returns how many were dropped.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	conns := s.connList()
	for _, c := range conns {
		c.live, c.gone = false, true
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	return len(conns)
}
