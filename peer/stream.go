package peer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// outStream is one open stream: a connection of its own to the peer, on
// which the writer sends the request head and then the body, one chunk per
// write, straight from its own goroutine. (net/http's client would copy the
// body from a pipe on a goroutine of its own: one more hand-off for every
// write, which this path makes a few thousand times a second.)
type outStream struct {
	conn  net.Conn      // nil when the dial failed
	ended chan struct{} // closed when the stream is over
	err   error         // why; valid after ended is closed
}

// open connects a stream to url and sends the request head. A goroutine
// reads the answer: the receiver answers 200 at once when it accepts the
// stream (then the peer counts as connected), and ends the answer when the
// stream ends; a refusal is read into a peerError. The stream also ends
// when the connection breaks or is closed (close).
func (p *peer) open(rawURL string) *outStream {
	st := &outStream{ended: make(chan struct{})}
	conn, err := p.dialStream(rawURL)
	if err != nil {
		st.err = err
		close(st.ended)
		return st
	}
	st.conn = conn
	go func() {
		defer close(st.ended)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = peerResponseError(resp)
		}
		if err != nil {
			st.err = fmt.Errorf("stream to %s: %w", rawURL, err)
			conn.Close()
			return
		}
		p.connected(rawURL)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		st.err = errors.New("the peer ended the stream")
		conn.Close()
	}()
	return st
}

// stopContext returns a context that ends after timeout or when the peer
// is stopped, whichever comes first; cancel it when done.
func (p *peer) stopContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	go func() {
		select {
		case <-p.stopc:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// dialStream connects to the peer at rawURL (http or https) and writes the
// head of a POST /raft/stream request whose body is chunked. The dial gives
// up when the peer is stopped.
func (p *peer) dialStream(rawURL string) (net.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("peer URL %q: want http(s)://host:port", rawURL)
	}
	ctx, cancel := p.stopContext(2 * peerDialTimeout) // the dial, then the TLS handshake
	defer cancel()
	conn, err := p.t.dialer.dialURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("stream to %s: %w", rawURL, err)
	}
	t := p.t
	head := fmt.Sprintf("POST /raft/stream HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n"+
		"Transfer-Encoding: chunked\r\n%s: %x\r\n%s: %x\r\n%s: %x\r\n\r\n",
		u.Host, hdrClusterID, t.clusterID, hdrFrom, t.memberID, hdrTo, p.id)
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, fmt.Errorf("stream to %s: %w", rawURL, err)
	}
	return conn, nil
}

// write sends one chunk.
func (st *outStream) write(b []byte) error {
	if st.conn == nil {
		return st.err
	}
	_, err := st.conn.Write(b)
	return err
}

// connected notes an accepted stream.
func (p *peer) connected(url string) {
	p.mu.Lock()
	was := p.active.Swap(true)
	p.failures, p.lastErr = 0, ""
	p.backoffUntil = time.Time{}
	p.mu.Unlock()
	if !was {
		p.t.log.Info("peer stream connected", "peer", fmt.Sprintf("%x", p.id), "url", url)
	}
}

// peerResponseError reads a failed peer response into an error; nil for
// a 2xx answer. The body is closed either way.
func peerResponseError(resp *http.Response) error {
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &peerError{status: resp.StatusCode, msg: strings.TrimSpace(string(msg))}
}

// peerError is a peer's refusal.
type peerError struct {
	status int
	msg    string
}

func (e *peerError) Error() string { return fmt.Sprintf("peer answered %d: %s", e.status, e.msg) }

func (st *outStream) close() {
	if st.conn != nil {
		st.conn.Close()
	}
}
