package bot

import (
	"context"
	"net"
	"sync"
	"time"
)

// readErrorHold is how long a socket's read error is held back.
const readErrorHold = 500 * time.Millisecond

// lingerConn holds back a read error (the server closing the socket) until
// the connection is closed from this side, or readErrorHold passes.
//
// slack-go's socket mode client reads frames in one goroutine and decodes
// them in another; the moment a read fails it cancels the connection, and
// a frame read just before — a slash command followed by Slack's
// "disconnect" and the close — is then dropped without a word if the
// decoder has not passed it on yet. Holding the error back lets the frames
// already read reach the bot (the decoder handles "disconnect" by closing
// the connection itself, which ends the wait at once).
type lingerConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *lingerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && n == 0 {
		t := time.NewTimer(readErrorHold)
		select {
		case <-c.closed:
		case <-t.C:
		}
		t.Stop()
	}
	return n, err
}

func (c *lingerConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// lingerDial dials like net.Dialer and wraps the connection in a lingerConn.
func lingerDial(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &lingerConn{Conn: conn, closed: make(chan struct{})}, nil
	}
}
