package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/coder/websocket"
)

// POST /v3/watch: etcd's Watch stream as its gateway serves it. The body is
// a sequence of etcdserverpb.WatchRequest values (usually one); the response
// is a stream of {"result": WatchResponse} lines, each written and flushed
// as its own HTTP chunk as it comes (never two in one chunk: clients such as
// python etcd3gw decode each chunk as one message). The same path takes a websocket upgrade, as etcd's gateway
// websocket proxy: each text message in is fed to the same request decoder,
// each response line goes out as one text message. docs/api.md ("Watch")
// shows both.
//
// What etcd 3.4 does and cairn does too: the response headers go out with
// the first response (an empty body gets nothing until the client leaves);
// a first request that does not decode is answered with the gateway's error
// (gRPC Unknown, HTTP 500; on a websocket, the error body as a message, then
// the connection is closed) once the rest of the body is read, so that the
// connection takes the next request (stream_body.go); a later request that
// does not decode stops the reading of requests silently, the watches going
// on; the stream ends when the client goes away.

// serveWatch serves POST /v3/watch, and GET /v3/watch for a websocket
// upgrade or, with Accept: text/event-stream, an SSE stream (anything else
// on GET is 405, as etcd).
func (a *api) serveWatch(w http.ResponseWriter, r *http.Request) {
	if isWebsocketUpgrade(r) {
		a.serveWatchWebsocket(w, r)
		return
	}
	if r.Method == http.MethodGet && acceptsEventStream(r) {
		a.serveWatchSSE(w, r) // watch_sse.go
		return
	}
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rc := http.NewResponseController(w)
	// Requests may keep coming while responses go out (HTTP/1.1 needs
	// asking for that).
	_ = rc.EnableFullDuplex()

	rd := newWatchRequestReader(r.Body, a.bodyLimit)
	first, err := rd.next()
	if err != nil && err != io.EOF {
		finishBody(w, r.Body) // stream_body.go
		a.writeV3Error(w, r, firstRequestError(err))
		return
	}
	st, serr := a.watcher.Watch(ctx)
	if serr != nil {
		closeAfterAnswer(w)
		a.writeV3Error(w, r, serr)
		return
	}
	defer st.Close()
	if a.authz != nil {
		go a.endWhenUserGone(ctx, r, cancel)
	}
	var readers sync.WaitGroup
	if err == nil {
		a.applyWatchRequest(ctx, st, first)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				req, err := rd.next()
				switch {
				case err == nil:
					a.applyWatchRequest(ctx, st, req)
					continue
				case err == io.EOF, isBadRequest(err):
					// The end of the requests, not of the stream.
				default:
					cancel() // the connection is gone
				}
				return
			}
		}()
	}
	defer func() {
		// Unblock a reader still waiting for the body, and wait for it.
		_ = rc.SetReadDeadline(time.Now())
		readers.Wait()
	}()

	x := getWatchOut()
	defer putWatchOut(x)
	started := false
	for {
		x.resps, err = st.Next(ctx, x.resps[:0])
		if len(x.resps) > 0 && !started {
			w.Header()["Content-Type"] = headerJSON
			w.WriteHeader(http.StatusOK)
			started = true
		}
		// Each message is its own HTTP chunk, as etcd's gateway writes
		// it: clients such as python etcd3gw parse chunk by chunk.
		for _, resp := range x.resps {
			x.buf = appendWatchResponse(x.buf[:0], resp)
			x.buf = append(x.buf, '\n')
			if _, werr := w.Write(x.buf); werr != nil {
				return
			}
			if ferr := rc.Flush(); ferr != nil {
				return
			}
		}
		clear(x.resps)
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, cairn.ErrStopped) {
				a.log.Error("watch stream failed", "err", err)
			}
			return
		}
	}
}

// firstRequestError is what the gateway answers for a first request that
// does not decode: its own error (gRPC Unknown), except for the size limit.
func firstRequestError(err error) error {
	var pe *parseError
	if errors.As(err, &pe) {
		return &gatewayError{msg: pe.msg}
	}
	return err
}

// applyWatchRequest hands one decoded request to the stream; a create on
// keys the requester may not read is refused (etcd: "permission denied").
func (a *api) applyWatchRequest(ctx context.Context, st cairn.WatchStream, req watchRequest) {
	switch {
	case req.create != nil:
		req.create.Refuse = a.watchRefusal(ctx, req.create)
		st.Create(req.create)
	case req.cancel:
		st.Cancel(req.cancelID)
	case req.progress:
		st.RequestProgress()
	}
}

// isWebsocketUpgrade reports whether r asks for a websocket.
func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHasToken(r.Header.Get("Connection"), "upgrade")
}

func headerHasToken(v, token string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// serveWatchWebsocket serves a watch stream over a websocket: the messages
// in are concatenated, each followed by a newline, into the request stream
// (as etcd's websocket proxy feeds its gateway), each response is one text
// message out.
func (a *api) serveWatchWebsocket(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, a.websocketOptions())
	if err != nil {
		return // Accept answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(a.bodyLimit)
	ctx, cancel := context.WithCancel(r.Context())

	// The reader feeds the messages into a pipe for the request decoder.
	// Once the decoder stops (a request that does not decode), it goes on
	// reading and dropping messages, so that the connection's control
	// frames are still answered.
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		feeding := true
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				pw.CloseWithError(err)
				cancel()
				return
			}
			if feeding {
				if _, err := pw.Write(append(data, '\n')); err != nil {
					feeding = false
				}
			}
		}
	}()
	defer func() {
		cancel() // ends the reader's c.Read
		pr.Close()
		wg.Wait()
	}()

	rd := newWatchRequestReader(pr, a.bodyLimit)
	first, err := rd.next()
	if err != nil {
		if isBadRequest(err) {
			code, msg, _ := v3Status(firstRequestError(err))
			_ = c.Write(ctx, websocket.MessageText, appendV3Error(nil, code, msg))
		}
		return
	}
	st, err := a.watcher.Watch(ctx)
	if err != nil {
		code, msg, _ := v3Status(err)
		_ = c.Write(ctx, websocket.MessageText, appendV3Error(nil, code, msg))
		return
	}
	defer st.Close()
	if a.authz != nil {
		go a.endWhenUserGone(ctx, r, cancel)
	}
	a.applyWatchRequest(ctx, st, first)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			req, err := rd.next()
			if err != nil {
				pr.CloseWithError(err)
				return
			}
			a.applyWatchRequest(ctx, st, req)
		}
	}()

	x := getWatchOut()
	defer putWatchOut(x)
	for {
		x.resps, err = st.Next(ctx, x.resps[:0])
		for _, resp := range x.resps {
			x.buf = appendWatchResponse(x.buf[:0], resp)
			if werr := c.Write(ctx, websocket.MessageText, x.buf); werr != nil {
				cancel()
				return
			}
		}
		clear(x.resps)
		if err != nil {
			if errors.Is(err, cairn.ErrStopped) {
				c.Close(websocket.StatusGoingAway, "member stopping")
			}
			return
		}
	}
}

// websocketOptions allows the origins --cors allows.
func (a *api) websocketOptions() *websocket.AcceptOptions {
	if a.origins.anyOrigin {
		return &websocket.AcceptOptions{InsecureSkipVerify: true}
	}
	var hosts []string
	for o := range a.origins.origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return &websocket.AcceptOptions{OriginPatterns: hosts}
}

// watchOut is the reusable output state of one watch stream.
type watchOut struct {
	resps []*cairn.WatchResponse
	buf   []byte
}

var watchOutPool = sync.Pool{New: func() any {
	return &watchOut{resps: make([]*cairn.WatchResponse, 0, 64), buf: make([]byte, 0, 4096)}
}}

func getWatchOut() *watchOut { return watchOutPool.Get().(*watchOut) }

func putWatchOut(x *watchOut) {
	if cap(x.buf) > maxPooledBuffer {
		x.buf = make([]byte, 0, 4096)
	}
	clear(x.resps[:cap(x.resps)])
	x.resps = x.resps[:0]
	watchOutPool.Put(x)
}

// appendWatchResponse appends {"result": WatchResponse} as etcd's gateway
// prints it. Events are encoded once for every watcher that receives them
// (cairn.WatchEvent.Memo, slot 0).
func appendWatchResponse(b []byte, r *cairn.WatchResponse) []byte {
	b = append(b, `{"result":{`...)
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendInt64(b, &f, "watch_id", r.WatchID)
	b = appendBool(b, &f, "created", r.Created)
	b = appendBool(b, &f, "canceled", r.Canceled)
	b = appendInt64(b, &f, "compact_revision", r.CompactRevision)
	if r.CancelReason != "" {
		b = appendName(b, &f, "cancel_reason")
		b = appendString(b, r.CancelReason)
	}
	b = appendBool(b, &f, "fragment", r.Fragment)
	b = appendEvents(b, &f, len(r.Events), func(i int) []byte { return r.Events[i].Memo(memoV3JSON, encodeEvent) })
	return append(b, '}', '}')
}

// appendEvents appends the field "events": the n encoded events event(i),
// or nothing when n is 0.
func appendEvents(b []byte, first *bool, n int, event func(i int) []byte) []byte {
	if n == 0 {
		return b
	}
	b = appendName(b, first, "events")
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, event(i)...)
	}
	return append(b, ']')
}

// memoV3JSON is the cairn.WatchEvent memo slot of an event's v3 JSON.
const memoV3JSON = 0

// encodeEvent returns the JSON of an mvccpb.Event.
func encodeEvent(ev *cairn.Event) []byte {
	b := make([]byte, 0, 96+2*(len(ev.Kv.Key)+len(ev.Kv.Value)))
	b = append(b, '{')
	f := true
	if ev.Type == cairn.EventDelete {
		b = appendName(b, &f, "type")
		b = append(b, `"DELETE"`...)
	}
	b = appendName(b, &f, "kv")
	b = appendKeyValue(b, ev.Kv)
	if ev.PrevKv != nil {
		b = appendName(b, &f, "prev_kv")
		b = appendKeyValue(b, ev.PrevKv)
	}
	return append(b, '}')
}
