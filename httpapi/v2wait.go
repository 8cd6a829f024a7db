package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

// serveV2Wait answers GET /v2/keys/...?wait=true as etcd 3.4's long poll,
// over the member's watch hub: the first v2 event on the path (or under it,
// with recursive) at or after waitIndex (default: the next revision), then
// the answer ends; with stream=true every such event, one JSON object per
// line, until the client goes. The headers (X-Etcd-Index: the revision the
// watch starts from) are flushed as soon as the watch is registered.
//
// History is the store's: a waitIndex is served until it is compacted,
// then it gets 401 ("The event in requested index is outdated and
// cleared", cause "the requested history has been cleared [compacted/
// waitIndex]"). Which store events the watcher sees, and as what v2
// event, is v2store.Watch's.
func (a *api) serveV2Wait(w http.ResponseWriter, r *http.Request, q *v2KeyRequest) {
	tree := v2store.Tree{Prefix: a.v2.V2Prefix()}
	watch := tree.Watch(q.path, q.recursive)
	key, end := watch.Range()
	req := &cairn.WatchCreateRequest{Key: key, RangeEnd: end, StartRevision: int64(q.waitIndex), PrevKV: true}
	ws, err := a.watcher.Watch(r.Context())
	if err != nil {
		a.writeV2Error(w, v2store.NewError(v2store.EcodeRaftInternal, err.Error(), 0))
		return
	}
	defer ws.Close()
	ws.Create(req)
	a.v2Watchers.Add(1)
	defer a.v2Watchers.Add(-1)

	flusher, _ := w.(http.Flusher)
	started := false
	var startRev int64 // the revision of the created response
	// start writes the headers; a watch that reads history waits for its
	// first answer first, so that a compacted waitIndex can still be 401.
	start := func() {
		if started {
			return
		}
		started = true
		a.writeV2Headers(w, startRev)
		w.Header()["Content-Type"] = headerJSON
		w.WriteHeader(http.StatusOK)
		if flusher != nil {
			flusher.Flush()
		}
	}
	var resps []*cairn.WatchResponse
	for {
		resps, err = ws.Next(r.Context(), resps[:0])
		if err != nil {
			if !started && !errors.Is(err, r.Context().Err()) {
				a.writeV2Error(w, v2store.NewError(v2store.EcodeRaftInternal, err.Error(), 0))
			}
			return
		}
		for _, resp := range resps {
			switch {
			case resp.Canceled && resp.CompactRevision > 0:
				cause := fmt.Sprintf("the requested history has been cleared [%d/%d]", resp.CompactRevision, q.waitIndex)
				a.writeV2Error(w, v2store.NewError(v2store.EcodeEventIndexCleared, cause, resp.CompactRevision))
				return
			case resp.Canceled:
				if !started {
					a.writeV2Error(w, v2store.NewError(v2store.EcodeRaftInternal, resp.CancelReason, 0))
				}
				return
			case resp.Created:
				startRev = resp.Header.Revision
				if q.waitIndex == 0 || int64(q.waitIndex) > startRev {
					start()
				}
				continue
			}
			start()
			for _, wev := range resp.Events {
				ev, ok := watch.Event(&wev.Event)
				if !ok {
					continue
				}
				buf := getBuffer()
				*buf = append(appendV2Event(*buf, ev), '\n')
				_, _ = w.Write(*buf)
				putBuffer(buf)
				if flusher != nil {
					flusher.Flush()
				}
				if !q.stream {
					return
				}
			}
		}
	}
}
