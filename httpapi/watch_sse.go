package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairnkv/cairn"
)

// GET /v3/watch with Accept: text/event-stream: one watcher as a
// Server-Sent Events stream (no etcd has it), for EventSource in a browser
// and `curl -N`. The watcher is created on the same watch hub as POST
// /v3/watch, with the same limits and metrics; the query names it:
//
//	key, range_end   base64 (standard, padded), as in WatchCreateRequest
//	start_revision   a decimal revision (0 or absent: from the next one)
//	prev_kv          a boolean: each event carries the previous key-value
//	filters          NOPUT, NODELETE (or 0, 1); repeated or comma-separated
//
// Each watch event is one SSE event:
//
//	id: <its mod_revision>
//	event: put | delete
//	data: <the mvccpb.Event in v3 JSON, as in a watch response's events>
//
// All events of one revision go out in one write. A client that reconnects
// with Last-Event-ID: R (EventSource does so by itself) starts at R+1,
// whatever start_revision says. A start revision that is compacted gets one
// `event: compacted` whose data is {"compact_revision": "<n>"}, and the
// stream ends. A comment line (": heartbeat") goes out when nothing else did
// for Config.SSEHeartbeat, so that proxies keep the connection; `retry:`
// asks EventSource to reconnect after sseRetry.
//
// Bad input (a key that is not base64, a start_revision or Last-Event-ID
// that is not a decimal integer, an unknown filter, a range_end not above
// key) is answered 400 with the v3 error body (gRPC InvalidArgument) and
// creates no watcher.

// DefaultSSEHeartbeat is how often an idle SSE watch sends a comment.
const DefaultSSEHeartbeat = 15 * time.Second

// sseRetry is the reconnection delay the stream asks of EventSource.
const sseRetry = 2 * time.Second

// acceptsEventStream reports whether r asks for text/event-stream.
func acceptsEventStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// parseSSEWatch reads the watcher an SSE request asks for.
func parseSSEWatch(r *http.Request) (*cairn.WatchCreateRequest, error) {
	q := r.URL.Query()
	req := &cairn.WatchCreateRequest{}
	bytesParam := func(name string, dst *[]byte) error {
		s := q.Get(name)
		if s == "" {
			return nil
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return &parseError{msg: name + ": " + err.Error()}
		}
		*dst = b
		return nil
	}
	if err := bytesParam("key", &req.Key); err != nil {
		return nil, err
	}
	if err := bytesParam("range_end", &req.RangeEnd); err != nil {
		return nil, err
	}
	if s := q.Get("start_revision"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &parseError{msg: "start_revision: not a decimal integer: " + strconv.Quote(s)}
		}
		req.StartRevision = n
	}
	if s := q.Get("prev_kv"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, &parseError{msg: "prev_kv: not a boolean: " + strconv.Quote(s)}
		}
		req.PrevKV = v
	}
	for _, v := range q["filters"] {
		for _, f := range strings.Split(v, ",") {
			switch strings.TrimSpace(f) {
			case "NOPUT", "0":
				req.Filters = append(req.Filters, cairn.FilterNoPut)
			case "NODELETE", "1":
				req.Filters = append(req.Filters, cairn.FilterNoDelete)
			default:
				return nil, &parseError{msg: "filters: unknown filter " + strconv.Quote(f)}
			}
		}
	}
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 {
			return nil, &parseError{msg: "Last-Event-ID: not a revision: " + strconv.Quote(s)}
		}
		req.StartRevision = n + 1
	}
	return req, nil
}

// serveWatchSSE serves one watcher as an SSE stream.
func (a *api) serveWatchSSE(w http.ResponseWriter, r *http.Request) {
	req, err := parseSSEWatch(r)
	if err == nil {
		err = a.watchRefusal(r.Context(), req) // READ on the whole range, as a stream's create
	}
	if err != nil {
		a.writeV3Error(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go a.endWhenUserGone(ctx, r, cancel)
	st, err := a.watcher.Watch(ctx)
	if err != nil {
		a.writeV3Error(w, r, err)
		return
	}
	defer st.Close()
	st.Create(req)

	rc := http.NewResponseController(w)
	x := getWatchOut()
	defer putWatchOut(x)
	started := false
	for {
		nctx, ncancel := context.WithTimeout(ctx, a.sseHeartbeat)
		x.resps, err = st.Next(nctx, x.resps[:0])
		ncancel()
		b := x.buf[:0]
		done := false
		for _, resp := range x.resps {
			switch {
			case resp.Created && resp.Canceled:
				// The hub refused the watcher: nothing was sent yet.
				a.writeV3Error(w, r, &parseError{msg: resp.CancelReason})
				return
			case resp.Created:
				started = true
				h := w.Header()
				h["Content-Type"] = headerEventStream
				h["Cache-Control"] = headerNoCache
				h["X-Accel-Buffering"] = headerNo // nginx: do not buffer
				w.WriteHeader(http.StatusOK)
				b = append(b, "retry: "...)
				b = strconv.AppendInt(b, sseRetry.Milliseconds(), 10)
				b = append(b, "\n\n"...)
			case resp.Canceled:
				if resp.CompactRevision != 0 {
					b = append(b, "event: compacted\ndata: {\"compact_revision\":\""...)
					b = strconv.AppendInt(b, resp.CompactRevision, 10)
					b = append(b, "\"}\n\n"...)
				}
				done = true
			default:
				for _, ev := range resp.Events {
					b = appendSSEEvent(b, ev)
				}
			}
		}
		clear(x.resps)
		if started && len(b) == 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			b = append(b, ": heartbeat\n\n"...)
			err = nil
		}
		x.buf = b
		if len(b) > 0 {
			if _, werr := w.Write(b); werr != nil {
				return
			}
			if ferr := rc.Flush(); ferr != nil {
				return
			}
		}
		if done {
			return
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, cairn.ErrStopped) {
				a.log.Error("SSE watch failed", "err", err)
			}
			return
		}
	}
}

// appendSSEEvent appends one watch event as an SSE event. The data is the
// event's v3 JSON (memo slot shared with the other v3 transports), which
// holds no newline.
func appendSSEEvent(b []byte, ev *cairn.WatchEvent) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, ev.Kv.ModRevision, 10)
	if ev.Type == cairn.EventDelete {
		b = append(b, "\nevent: delete\ndata: "...)
	} else {
		b = append(b, "\nevent: put\ndata: "...)
	}
	b = append(b, ev.Memo(memoV3JSON, encodeEvent)...)
	return append(b, "\n\n"...)
}

// Header values of the SSE stream.
var (
	headerEventStream = []string{"text/event-stream"}
	headerNoCache     = []string{"no-cache"}
	headerNo          = []string{"no"}
)
