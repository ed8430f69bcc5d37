package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestLingerConnOverTLS: over wss the dialer does TLS itself and follows
// the frames above it: messages come through, and the close frame after
// them too once the client closes (or the hold passes).
func TestLingerConnOverTLS(t *testing.T) {
	t.Parallel()
	up := websocket.Upgrader{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello"}`))
		ws.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 70_000)))
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"disconnect"}`))
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		ws.ReadMessage() // until the client goes
	}))
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	dial, dialTLS := socketDialerTLS(5*time.Second, roots)
	if dialTLS == nil {
		t.Skip("an HTTPS proxy is configured: TLS is left to gorilla")
	}
	d := &websocket.Dialer{NetDialContext: dial, NetDialTLSContext: dialTLS, HandshakeTimeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := d.DialContext(ctx, "wss"+strings.TrimPrefix(srv.URL, "https"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{"type":"hello"}`, strings.Repeat("x", 70_000), `{"type":"disconnect"}`} {
		_, msg, err := ws.ReadMessage()
		if err != nil || string(msg) != want {
			t.Fatalf("ReadMessage = %.40q, %v; want %.40q", msg, err, want)
		}
	}
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after the messages: %v, want the close frame", err)
	}
	ws.Close()
}
