package httpapi

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/coder/websocket"
)

// POST /v3/lease/keepalive: etcd's Lease.LeaseKeepAlive, a bidirectional
// stream, as etcd 3.4's gateway serves it over HTTP.
//
// The request body is a stream of LeaseKeepAliveRequest objects ({"ID":...}),
// separated by optional white space; each one gets one line in the answer,
//
//	{"result":{"header":{...},"ID":"7","TTL":"60"}}
//
// written and flushed as soon as the lease is renewed, so a client may keep
// the request open and send a request each TTL/3, or send one and close (a
// one-shot curl -d works). A lease that does not exist is answered without a
// TTL (TTL 0), as etcd does. The rules of the end of the stream are the
// gateway's:
//
//   - an empty body: 200 with no lines;
//   - a first request that is not valid (bad JSON, wrong types): the unary
//     error body, {"error","message","code":2} (gRPC Unknown), HTTP 500;
//   - a later request that is not valid: the stream ends after the answers
//     to the requests before it, without an error line;
//   - either way the rest of the body is read before the stream ends, so
//     that the connection takes the next request (stream_body.go);
//   - a renewal that fails (no leader, timeout, shutdown): the gateway's
//     stream error object {"error":{"grpc_code","http_code","message",
//     "http_status"}} ends the stream (with that HTTP status if nothing was
//     written yet); it has no newline after it.
//
// GET on the same path with a websocket upgrade is etcd's websocket proxy
// (github.com/tmc/grpc-websocket-proxy) over the same stream: each text (or
// binary) frame from the client is appended to the request stream followed
// by a newline, and each answer line is sent as one text frame. Any origin
// may connect when --cors allows every origin, as etcd's proxy allows any;
// otherwise the Origin must be one of the --cors origins or this host.

// keepAliveReader reads the LeaseKeepAliveRequest objects of a stream
// (with watch_decode.go's countingReader: one request may be no longer than
// a unary body).
type keepAliveReader struct {
	in  *countingReader
	dec *stdjson.Decoder
	raw stdjson.RawMessage
	d   decoder
}

func newKeepAliveReader(r io.Reader, limit int64) *keepAliveReader {
	in := &countingReader{r: r, limit: limit}
	k := &keepAliveReader{in: in, dec: stdjson.NewDecoder(in)}
	in.dec = k.dec
	return k
}

// next decodes the next request. It returns io.EOF at the end of the
// stream, cairn.ErrRequestTooLarge, the error of the underlying reader, or
// a *parseError with etcd's message for a request that does not decode.
func (k *keepAliveReader) next() (*cairn.LeaseKeepAliveRequest, error) {
	k.raw = k.raw[:0]
	if err := k.dec.Decode(&k.raw); err != nil {
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, cairn.ErrRequestTooLarge):
			return nil, err
		case k.in.err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
			return nil, k.in.err
		}
		return nil, &parseError{msg: err.Error()}
	}
	k.d = decoder{b: k.raw}
	id, err := parseLeaseID(&k.d)
	if err != nil {
		return nil, err
	}
	return &cairn.LeaseKeepAliveRequest{ID: id}, nil
}

// keepAliveOut is where a keepalive stream's answers go: HTTP chunks or
// websocket frames.
type keepAliveOut interface {
	// result sends one {"result":...} line.
	result(line []byte) error
	// openError answers a first request that could not be decoded.
	openError(err error)
	// badRequest is told that a later request could not be decoded: no
	// more are read, the stream ends.
	badRequest()
	// streamError ends the stream with the gateway's stream error object.
	streamError(code grpcCode, msg string)
}

// errStreamsClosed ends the reading of a websocket keepalive stream when
// the member closes its streams.
var errStreamsClosed = errors.New("keepalive streams closed")

// serveKeepAlives answers the requests read from in until the stream ends.
// When the member closes its streams (closed, shutting down), the caller
// makes the blocked read fail; the stream then ends with the stream error
// of a stopped member.
func (a *api) serveKeepAlives(ctx context.Context, in *keepAliveReader, out keepAliveOut, closed <-chan struct{}) {
	isClosed := func() bool {
		select {
		case <-closed:
			return true
		default:
			return false
		}
	}
	stopped := func() {
		code, msg, _ := v3Status(cairn.ErrStopped)
		out.streamError(code, msg)
	}
	req, err := in.next()
	if err == io.EOF {
		return
	}
	if err != nil {
		if isClosed() {
			stopped()
			return
		}
		out.openError(err)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	for {
		if isClosed() {
			stopped()
			return
		}
		resp, err := a.b.LeaseKeepAlive(ctx, req)
		if err != nil {
			code, msg, known := v3Status(err)
			if !known {
				a.log.Error("lease keepalive failed", "err", err)
			}
			out.streamError(code, msg)
			return
		}
		b := append((*buf)[:0], `{"result":`...)
		b = (*leaseKeepAliveResponse)(resp).appendJSON(b)
		b = append(b, '}')
		*buf = b
		if out.result(b) != nil {
			return
		}
		if req, err = in.next(); err != nil {
			switch {
			case isClosed():
				stopped()
			case isBadRequest(err):
				out.badRequest()
			}
			return // EOF, a bad request or a broken connection: the stream ends
		}
	}
}

// appendStreamError appends the gateway's stream error object.
func appendStreamError(b []byte, code grpcCode, msg string) []byte {
	status := code.httpStatus()
	b = append(b, `{"error":{"grpc_code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"http_code":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"http_status":`...)
	b = appendString(b, http.StatusText(status))
	return append(b, "}}"...)
}

// serveLeaseKeepAlive serves POST /v3/lease/keepalive, and its websocket
// form on GET.
func (a *api) serveLeaseKeepAlive(w http.ResponseWriter, r *http.Request) {
	if isWebsocketUpgrade(r) {
		a.leaseKeepAliveWebSocket(w, r)
		return
	}
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return
	}
	// Answers go out while the request body is still arriving.
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	w.Header()["Content-Type"] = headerJSON
	// When the member closes its streams, a read deadline in the past
	// makes the blocked read of the next request fail.
	closed := a.b.LeaseStreamsClosed()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-closed:
			_ = rc.SetReadDeadline(time.Now())
		case <-done:
		}
	}()
	out := &httpKeepAliveOut{a: a, w: w, r: r, rc: rc}
	a.serveKeepAlives(r.Context(), newKeepAliveReader(r.Body, a.bodyLimit), out, closed)
}

// httpKeepAliveOut writes a keepalive stream as HTTP chunks.
type httpKeepAliveOut struct {
	a     *api
	w     http.ResponseWriter
	r     *http.Request
	rc    *http.ResponseController
	wrote bool
}

func (o *httpKeepAliveOut) result(line []byte) error {
	o.wrote = true
	line = append(line, '\n')
	if _, err := o.w.Write(line); err != nil {
		return err
	}
	return o.rc.Flush()
}

func (o *httpKeepAliveOut) openError(err error) {
	finishBody(o.w, o.r.Body)
	o.a.writeV3Error(o.w, o.r, firstRequestError(err))
}

func (o *httpKeepAliveOut) badRequest() { finishBody(o.w, o.r.Body) }

func (o *httpKeepAliveOut) streamError(code grpcCode, msg string) {
	if !o.wrote {
		closeAfterAnswer(o.w)
		o.w.WriteHeader(code.httpStatus())
	}
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = appendStreamError((*buf)[:0], code, msg)
	_, _ = o.w.Write(*buf)
}

// leaseKeepAliveWebSocket serves the keepalive stream over a websocket.
func (a *api) leaseKeepAliveWebSocket(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, a.websocketOptions())
	if err != nil {
		return // Accept answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(a.bodyLimit)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Frames from the client become the request stream, each followed by a
	// newline, as etcd's proxy writes them.
	pr, pw := io.Pipe()
	closed := a.b.LeaseStreamsClosed()
	go func() {
		select {
		case <-closed:
			pr.CloseWithError(errStreamsClosed)
		case <-ctx.Done():
		}
	}()
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel() // the client went away: stop waiting for renewals
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				pw.CloseWithError(io.EOF)
				return
			}
			if _, err := pw.Write(append(data, '\n')); err != nil {
				return
			}
		}
	}()
	out := &wsKeepAliveOut{ctx: ctx, c: c}
	a.serveKeepAlives(ctx, newKeepAliveReader(pr, a.bodyLimit), out, closed)
	pr.Close() // unblocks the frame reader if it is writing
	select {
	case <-closed:
		c.Close(websocket.StatusGoingAway, "member stopping")
	default:
		c.Close(websocket.StatusNormalClosure, "")
	}
	cancel()
	<-readerDone
}

// wsKeepAliveOut sends a keepalive stream as websocket text frames.
type wsKeepAliveOut struct {
	ctx context.Context
	c   *websocket.Conn
}

func (o *wsKeepAliveOut) result(line []byte) error {
	return o.c.Write(o.ctx, websocket.MessageText, line)
}

func (o *wsKeepAliveOut) openError(err error) {
	code, msg, _ := v3Status(firstRequestError(err))
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = appendV3Error((*buf)[:0], code, msg)
	_ = o.c.Write(o.ctx, websocket.MessageText, *buf)
}

// badRequest has nothing to do: the frames of a websocket are read until it
// closes.
func (o *wsKeepAliveOut) badRequest() {}

func (o *wsKeepAliveOut) streamError(code grpcCode, msg string) {
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = appendStreamError((*buf)[:0], code, msg)
	_ = o.c.Write(o.ctx, websocket.MessageText, *buf)
}
