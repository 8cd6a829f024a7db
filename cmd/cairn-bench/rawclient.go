package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The raw client (--http-client raw) is a minimal HTTP/1.1 keep-alive
// client for the request/answer workloads: one request at a time per
// connection, the request written with one Write from a reused buffer, the
// answer parsed from a reused bufio.Reader straight into the caller's
// buffer. It spends a fraction of net/http's CPU per request (no goroutines
// per connection, no header maps, no per-request allocations besides the
// ones the workloads make), which matters because the load tool shares the
// machine with the server it measures. Streams (watch, websockets) keep
// net/http.

// rawReadBufferSize is the size of each connection's read buffer; a status
// or header line longer than it is an error.
const rawReadBufferSize = 16 << 10

// maxRawBody bounds the body of one answer (Content-Length or one chunk),
// against a broken server.
const maxRawBody = 1 << 30

// errHeaderTimeout is the failure of an answer whose status and headers did
// not arrive within --timeout; the text is net/http's, so both clients
// count it under the same message.
var errHeaderTimeout = errors.New("net/http: timeout awaiting response headers")

// rawPool is the raw client's connections to one endpoint: at most
// cap(slots) of them, kept alive and reused. A request holds a slot for its
// whole round trip, so a client waits for a free connection when all are
// busy, as net/http's MaxConnsPerHost makes it.
type rawPool struct {
	addr    string        // host:port to dial
	host    string        // the Host header
	token   string        // the Authorization header, if any
	tls     *tls.Config   // for an https endpoint; else nil
	timeout time.Duration // response-header timeout; 0 = none
	dialer  net.Dialer
	slots   chan struct{} // one token per connection in use
	idle    chan *rawConn // open connections not in use
}

// newRawPool makes the pool of conns connections to base (http(s)://host:port
// or http(s)://host), each waiting at most timeout (0 = no bound) for the
// status and headers of an answer. An https base is reached with tlsConfig.
func newRawPool(base string, conns int, timeout time.Duration, tlsConfig *tls.Config) *rawPool {
	scheme, host, _ := strings.Cut(base, "://")
	addr, port := host, "80"
	if scheme == "https" {
		port = "443"
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, port)
	}
	var tc *tls.Config
	if scheme == "https" {
		tc = tlsConfig.Clone()
		tc.ServerName, _, _ = net.SplitHostPort(addr)
	}
	return &rawPool{
		tls:     tc,
		addr:    addr,
		host:    host,
		timeout: timeout,
		dialer:  net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		slots:   make(chan struct{}, conns),
		idle:    make(chan *rawConn, conns),
	}
}

// close closes the idle connections. Requests in flight keep theirs, and
// close them if they come back after this.
func (p *rawPool) close() {
	for {
		select {
		case c := <-p.idle:
			c.nc.Close()
		default:
			return
		}
	}
}

// rawConn is one keep-alive connection with its reused buffers.
type rawConn struct {
	nc   net.Conn
	br   *bufio.Reader
	wbuf []byte

	// mu orders the deadline changes of a round trip against the context's
	// abort, so that clearing the header deadline cannot undo an abort.
	mu      sync.Mutex
	aborted bool
}

// abort makes every blocked or later read and write of c fail at once; it
// runs when the request's context is done.
func (c *rawConn) abort() {
	c.mu.Lock()
	c.aborted = true
	c.nc.SetDeadline(time.Unix(1, 0))
	c.mu.Unlock()
}

// setReadDeadline sets the read deadline unless the round trip was aborted.
func (c *rawConn) setReadDeadline(t time.Time) {
	c.mu.Lock()
	if !c.aborted {
		c.nc.SetReadDeadline(t)
	}
	c.mu.Unlock()
}

// do sends r on a connection of the pool and reads the whole answer into
// buf (reset first). It returns the status code and the body, which aliases
// buf. An error closes the connection it happened on.
//
// Retry: a request whose write fails, or whose answer ends (EOF, connection
// reset) before its first byte, on a connection that had already served a
// request is sent once more on a new connection. That is the case of a
// server closing an idle keep-alive connection while the request was on its
// way (net/http notices those closes in the background; this client only
// when it next uses the connection). Nothing of an answer had arrived, and
// a server that closes a connection cleanly does so between requests, so
// the request had not been applied: the retry loses no request and, short
// of a server crashing after applying a write and before answering it,
// doubles none. Timeouts, cancellation, and failures on a new connection or
// after part of the answer are never retried: they are failures.
func (p *rawPool) do(ctx context.Context, r request, buf *bytes.Buffer) (int, []byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	defer func() { <-p.slots }()
	for retried := false; ; retried = true {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		var c *rawConn
		reused := false
		select {
		case c = <-p.idle:
			reused = true
		default:
			nc, err := p.dial(ctx)
			if err != nil {
				return 0, nil, err
			}
			c = &rawConn{nc: nc, br: bufio.NewReaderSize(nc, rawReadBufferSize)}
		}
		status, body, keep, started, err := p.roundTrip(ctx, c, r, buf)
		if err != nil {
			c.nc.Close()
			if reused && !started && !retried && retryable(err) && ctx.Err() == nil {
				continue
			}
			return status, nil, err
		}
		if keep {
			p.idle <- c // never blocks: at most cap(idle) connections exist
		} else {
			c.nc.Close()
		}
		return status, body, nil
	}
}

// dial opens a connection: TCP, then TLS for an https endpoint.
func (p *rawPool) dial(ctx context.Context) (net.Conn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil || p.tls == nil {
		return nc, err
	}
	tc := tls.Client(nc, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// retryable reports whether err is a connection the server had closed: a
// failed write, or an end of the answer before its first byte.
func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// roundTrip writes r on c and reads its answer. keep reports whether c may
// serve another request; started whether any byte of the answer arrived.
func (p *rawPool) roundTrip(ctx context.Context, c *rawConn, r request, buf *bytes.Buffer) (status int, body []byte, keep, started bool, err error) {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, c.abort)
		defer func() {
			if !stop() {
				// The abort ran or is running: the connection's deadline
				// is in the past, so it cannot be reused.
				keep = false
				if err != nil {
					err = ctx.Err()
				}
			}
		}()
	}

	c.wbuf = appendRequest(c.wbuf[:0], p.host, p.token, r)
	if _, err := c.nc.Write(c.wbuf); err != nil {
		return 0, nil, false, false, err
	}
	if p.timeout > 0 {
		c.setReadDeadline(time.Now().Add(p.timeout))
	}
	head, err := readHead(c.br)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && p.timeout > 0 {
			err = errHeaderTimeout
		}
		return 0, nil, false, head.started, err
	}
	if p.timeout > 0 {
		c.setReadDeadline(time.Time{})
	}
	buf.Reset()
	keep = !head.close
	switch {
	case r.method == "HEAD" || head.status == 204 || head.status == 304:
		// no body
	case head.chunked:
		err = readChunked(c.br, buf)
	case head.length >= 0:
		err = readBody(c.br, buf, head.length)
	default:
		// No length: the body ends when the server closes.
		_, err = buf.ReadFrom(c.br)
		keep = false
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return head.status, nil, false, true, err
	}
	return head.status, buf.Bytes(), keep, true, nil
}

// appendRequest appends the request line, headers and body of r for host:
// the method ("" is POST), the path, Host, Content-Type (application/json
// unless r names one), Authorization (token, if any) and Content-Length, which net/http leaves out of a
// bodiless request other than POST, PUT and PATCH, and so does this.
func appendRequest(b []byte, host, token string, r request) []byte {
	method := r.method
	if method == "" {
		method = "POST"
	}
	ct := r.contentType
	if ct == "" {
		ct = "application/json"
	}
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, r.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, ct...)
	if token != "" {
		b = append(b, "\r\nAuthorization: "...)
		b = append(b, token...)
	}
	if len(r.body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(r.body)), 10)
	}
	b = append(b, "\r\n\r\n"...)
	return append(b, r.body...)
}

// responseHead is what readHead takes from a status line and headers.
type responseHead struct {
	status  int
	length  int64 // Content-Length, -1 if absent
	chunked bool  // Transfer-Encoding ends in chunked
	close   bool  // the connection ends after this answer
	started bool  // at least one byte of the answer arrived
}

// readHead reads the status line and headers of an answer, skipping
// interim 1xx answers. It knows Content-Length, Transfer-Encoding and
// Connection; an HTTP/1.0 answer closes the connection unless it says
// keep-alive. On error, head.started tells whether any byte had arrived.
func readHead(br *bufio.Reader) (head responseHead, err error) {
	for {
		head = responseHead{length: -1, started: head.started}
		line, err := readLine(br)
		if len(line) > 0 || br.Buffered() > 0 {
			head.started = true
		}
		if err != nil {
			if !head.started && errors.Is(err, io.EOF) {
				return head, fmt.Errorf("server closed the connection without answering: %w", err)
			}
			return head, err
		}
		// HTTP/1.x SSS reason
		if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
			return head, fmt.Errorf("malformed HTTP status line %.80q", line)
		}
		minor := line[7]
		head.status, err = strconv.Atoi(string(line[9:12]))
		if err != nil || head.status < 100 {
			return head, fmt.Errorf("malformed HTTP status line %.80q", line)
		}
		closeSaid, keepAliveSaid := false, false
		for {
			line, err := readLine(br)
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return head, err
			}
			if len(line) == 0 {
				break
			}
			colon := bytes.IndexByte(line, ':')
			if colon <= 0 || line[0] == ' ' || line[0] == '\t' {
				return head, fmt.Errorf("malformed HTTP header line %.80q", line)
			}
			name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 || (head.length >= 0 && n != head.length) {
					return head, fmt.Errorf("bad Content-Length %.40q", value)
				}
				head.length = n
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				head.chunked = hasLastToken(value, "chunked")
				if !head.chunked && !bytes.EqualFold(value, []byte("identity")) {
					return head, fmt.Errorf("unsupported Transfer-Encoding %.40q", value)
				}
			case bytes.EqualFold(name, []byte("Connection")):
				closeSaid = closeSaid || hasToken(value, "close")
				keepAliveSaid = keepAliveSaid || hasToken(value, "keep-alive")
			}
		}
		head.close = closeSaid || (minor == '0' && !keepAliveSaid)
		if head.chunked {
			head.length = -1 // chunked wins over a length (RFC 9112 6.3)
		}
		if head.status == 101 {
			return head, errors.New("unexpected 101 Switching Protocols")
		}
		if head.status >= 200 {
			return head, nil
		}
		// 1xx: an interim answer; the real one follows.
	}
}

// readLine reads one line without its CRLF (or LF). The line aliases br's
// buffer until the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return line, fmt.Errorf("HTTP header line longer than %d bytes", rawReadBufferSize)
	}
	if err != nil {
		return line, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// hasToken reports whether the comma list value holds token, ignoring case.
func hasToken(value []byte, token string) bool {
	for len(value) > 0 {
		var t []byte
		if i := bytes.IndexByte(value, ','); i >= 0 {
			t, value = value[:i], value[i+1:]
		} else {
			t, value = value, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}

// hasLastToken reports whether the last element of the comma list value is
// token, ignoring case.
func hasLastToken(value []byte, token string) bool {
	if i := bytes.LastIndexByte(value, ','); i >= 0 {
		value = value[i+1:]
	}
	return bytes.EqualFold(bytes.TrimSpace(value), []byte(token))
}

// readBody appends exactly n bytes of br to buf.
func readBody(br *bufio.Reader, buf *bytes.Buffer, n int64) error {
	if n > maxRawBody {
		return fmt.Errorf("answer body of %d bytes is over the %d-byte bound", n, maxRawBody)
	}
	buf.Grow(int(n))
	b := buf.AvailableBuffer()[:n]
	if _, err := io.ReadFull(br, b); err != nil {
		return err
	}
	buf.Write(b) // b is buf's own free space: this only extends buf
	return nil
}

// readChunked appends a chunked body (RFC 9112 7.1) of br to buf; chunk
// extensions and trailers are skipped.
func readChunked(br *bufio.Reader, buf *bytes.Buffer) error {
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			return errors.New("malformed chunk size line")
		}
		var size int64
		for _, ch := range line {
			var d byte
			switch {
			case '0' <= ch && ch <= '9':
				d = ch - '0'
			case 'a' <= ch && ch <= 'f':
				d = ch - 'a' + 10
			case 'A' <= ch && ch <= 'F':
				d = ch - 'A' + 10
			default:
				return fmt.Errorf("malformed chunk size %.20q", line)
			}
			size = size<<4 | int64(d)
			if size > maxRawBody {
				return fmt.Errorf("chunk size %.20q is over the %d-byte bound", line, maxRawBody)
			}
		}
		if size == 0 {
			for { // trailers, up to the blank line
				line, err := readLine(br)
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if err := readBody(br, buf, size); err != nil {
			return err
		}
		line, err = readLine(br)
		if err != nil {
			return err
		}
		if len(line) != 0 {
			return errors.New("chunk not followed by CRLF")
		}
	}
}
