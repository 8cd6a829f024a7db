package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
// waitIndex]"). Events v2 does not show (v3 keys outside the tree, hidden
// nodes under a recursive watch, the side changes of a v2 write,
// refreshes) are skipped.
func (a *api) serveV2Wait(w http.ResponseWriter, r *http.Request, q *v2KeyRequest) {
	tree := v2store.Tree{Prefix: a.v2.V2Prefix()}
	key := tree.Key(q.path)
	req := &cairn.WatchCreateRequest{Key: key, StartRevision: int64(q.waitIndex), PrevKV: true}
	if q.recursive {
		base := key
		if q.path != "/" {
			base = append(base, '/')
		}
		// [key, base with '/' raised): the key and its subtree (and some
		// siblings such as key+"!", dropped below).
		end := bytes.Clone(base)
		end[len(end)-1]++
		req.RangeEnd = end
	}
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
				if !v2Watched(q, key, wev.Kv.Key) {
					continue
				}
				ev, ok := tree.WatchEvent(&wev.Event)
				if !ok && !q.recursive && wev.Type == cairn.EventDelete && wev.Kv.Action == cairn.ActionImplied {
					// The watched key went with a directory above it: etcd
					// tells its watchers with the directory's event; the
					// watch sees only its own key, so it reports that.
					ev, ok = &v2store.Event{Action: "delete", Node: &v2store.Node{Key: q.path, ModifiedIndex: wev.Kv.ModRevision}}, true
				}
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

// v2Watched reports whether a change of the store key k concerns the
// watch of q on key: k itself, or (recursive) a key under it that is not
// hidden below the watched path.
func v2Watched(q *v2KeyRequest, key, k []byte) bool {
	if bytes.Equal(k, key) {
		return true
	}
	if !q.recursive {
		return false
	}
	base := string(key)
	if q.path != "/" {
		base += "/"
	}
	rest, ok := strings.CutPrefix(string(k), base)
	if !ok {
		return false
	}
	for _, seg := range strings.Split(rest, "/") {
		if strings.HasPrefix(seg, "_") {
			return false
		}
	}
	return true
}
