package bot

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// readErrorHold is how long the end of a socket is held back.
const readErrorHold = 500 * time.Millisecond

// lingerConn holds back the end of the socket from Slack — a close frame,
// or a read error when the connection drops — until the connection is
// closed from this side, or readErrorHold passes.
//
// slack-go's socket mode client reads frames in one goroutine and decodes
// them in another; the moment the read side ends it cancels the
// connection, and a frame read just before — a slash command followed by
// Slack's "disconnect" and the close — is then dropped without a word if
// the decoder has not passed it on yet. Holding the end back lets the
// frames already read reach the bot; the decoder handles "disconnect" by
// closing the connection itself, which ends the wait at once.
//
// To see close frames, lingerConn follows the websocket framing of what it
// reads, so it must sit above TLS (see socketDialer).
type lingerConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}

	// Read side, used by one goroutine at a time (gorilla reads from one).
	pending []byte // read from the wire, not yet returned
	left    int    // bytes of the current frame not yet returned; 0 at a frame boundary
	err     error  // read error to return once pending is drained
	pass    bool   // the end was held once: pass everything on
	frames  bool   // follow the framing (false: only read errors are held)
	upgrade bool   // the HTTP upgrade response is still being read
	buf     [32 << 10]byte
}

func newLingerConn(c net.Conn, frames bool) *lingerConn {
	return &lingerConn{Conn: c, closed: make(chan struct{}), frames: frames, upgrade: frames}
}

func (c *lingerConn) Read(p []byte) (int, error) {
	for {
		if c.pass {
			if len(c.pending) > 0 {
				n := copy(p, c.pending)
				c.pending = c.pending[n:]
				return n, nil
			}
			if c.err != nil {
				return 0, c.err
			}
			return c.Conn.Read(p)
		}
		if n := c.ready(); n > 0 {
			n = copy(p, c.pending[:n])
			c.pending = c.pending[n:]
			c.left = max(c.left-n, 0)
			return n, nil
		}
		// Nothing can be returned yet: either the end is here (a close
		// frame, a read error) or more bytes are needed.
		if c.atClose() || c.err != nil {
			c.linger()
			c.pass = true
			continue
		}
		n, err := c.Conn.Read(c.buf[:])
		c.pending = append(c.pending, c.buf[:n]...)
		if err != nil {
			c.err = err
		}
	}
}

// ready is how many pending bytes may be returned now: up to the start of
// a close frame or of an incomplete header (all of them when not
// following frames).
func (c *lingerConn) ready() int {
	if !c.frames {
		return len(c.pending)
	}
	if c.upgrade {
		// Frames start after the HTTP response to the upgrade request.
		i := bytes.Index(c.pending, []byte("\r\n\r\n"))
		if i < 0 {
			return 0
		}
		c.upgrade = false
		c.left = i + 4
		return c.left
	}
	if c.left == 0 {
		opcode, size, ok := frameHeader(c.pending)
		if !ok || opcode == opClose {
			return 0
		}
		c.left = size
	}
	return min(c.left, len(c.pending))
}

// atClose reports whether a close frame starts the pending bytes.
func (c *lingerConn) atClose() bool {
	if !c.frames || c.upgrade || c.left != 0 {
		return false
	}
	opcode, _, ok := frameHeader(c.pending)
	return ok && opcode == opClose
}

func (c *lingerConn) linger() {
	t := time.NewTimer(readErrorHold)
	defer t.Stop()
	select {
	case <-c.closed:
	case <-t.C:
	}
}

func (c *lingerConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

const opClose = 8

// frameHeader reads the header of the websocket frame b starts with: its
// opcode and its whole size (header and payload). ok is false until the
// header is complete.
func frameHeader(b []byte) (opcode byte, size int, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	opcode = b[0] & 0x0f
	n, hdr := int(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, 0, false
		}
		n, hdr = int(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return 0, 0, false
		}
		n, hdr = int(binary.BigEndian.Uint64(b[2:10])&(1<<62-1)), 10
	}
	if b[1]&0x80 != 0 {
		hdr += 4 // masked (a server does not mask, but be exact)
	}
	return opcode, hdr + n, true
}

// socketDialer returns the websocket dial functions: for wss the TLS
// handshake is done here, so lingerConn sits above TLS and sees frames;
// behind an HTTPS proxy gorilla must do TLS itself, and lingerConn then
// only holds read errors.
func socketDialer(timeout time.Duration) (dial, dialTLS func(ctx context.Context, network, addr string) (net.Conn, error)) {
	return socketDialerTLS(timeout, nil)
}

// socketDialerTLS is socketDialer with the root CAs to trust (nil: the
// system's).
func socketDialerTLS(timeout time.Duration, roots *x509.CertPool) (dial, dialTLS func(ctx context.Context, network, addr string) (net.Conn, error)) {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	proxy, _ := http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: "https", Host: "wss-primary.slack.com"}})
	proxied := proxy != nil
	dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// Plain ws (a test server) is framed in the clear; through a
		// proxy the bytes here may be TLS.
		return newLingerConn(conn, !proxied), nil
	}
	if proxied {
		return dial, nil
	}
	dialTLS = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		tc := tls.Client(raw, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: roots})
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return newLingerConn(tc, true), nil
	}
	return dial, dialTLS
}
