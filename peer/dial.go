package peer

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// dialer opens connections to peers: TCP with a write deadline on every
// write, then TLS for an https peer URL.
type dialer struct {
	tls func(serverName string) *tls.Config // nil: no https peers
}

// dialURL connects to the peer at u (http or https); for https the TLS
// handshake is done when it returns. It gives up when ctx ends.
func (d *dialer) dialURL(ctx context.Context, u *url.URL) (net.Conn, error) {
	switch u.Scheme {
	case "http":
		return d.dialTCP(ctx, u.Host)
	case "https":
		return d.dialTLS(ctx, "tcp", u.Host)
	}
	return nil, fmt.Errorf("peer URL %q: want http:// or https://", u)
}

func (d *dialer) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: peerDialTimeout, KeepAlive: 15 * time.Second}
	c, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c}, nil
}

// dialTLS is dialTCP and a TLS handshake with the peer's certificate
// checked as the configuration says (the peer CA, or the system's roots).
func (d *dialer) dialTLS(ctx context.Context, _, addr string) (net.Conn, error) {
	if d.tls == nil {
		return nil, fmt.Errorf("peer %s is https but this member has no peer TLS (--peer-cert-file, --peer-trusted-ca-file or --peer-auto-tls)", addr)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	raw, err := d.dialTCP(ctx, addr)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, peerDialTimeout)
	defer cancel()
	c := tls.Client(raw, d.tls(host))
	if err := c.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake with peer %s: %w", addr, err)
	}
	return c, nil
}

// client is an HTTP client over the dialer, for the requests that are not
// streams; timeout 0 means none (the request's context bounds it).
func (d *dialer) client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.dialTCP(ctx, addr)
		},
		DialTLSContext:      d.dialTLS,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// deadlineConn gives every write a deadline, so a write to a peer that
// stopped reading fails instead of hanging.
type deadlineConn struct{ net.Conn }

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(peerWriteTimeout))
	return c.Conn.Write(b)
}
