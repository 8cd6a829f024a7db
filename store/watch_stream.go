package store

import (
	"time"

	"github.com/cairnkv/cairn"
)

// WatchStream is one client's set of watchers, as etcd's watch stream (one
// gRPC Watch call; one HTTP request or websocket of the gateway). Requests
// go in through Create, Cancel and RequestProgress; every response comes out
// of Next, in an order that keeps etcd's guarantees for each watcher:
// created first, then events in revision order with no revision missing or
// repeated and every revision whole (unless fragmented on request), and a
// progress or canceled response only after every event it vouches for.
//
// Create, Cancel, RequestProgress and Close are safe for concurrent use with
// each other and with Next; Next itself is called by one goroutine at a
// time.
//
// This file owns the stream's state and its way in: the watchers (watcher,
// their states and their queues, which WatchHub.Publish fills through
// enqueue), Create, Cancel, RequestProgress and Close. The way out is in
// watch_next.go (Next, collect), the reading of history for watchers that
// are behind in watch_catchup.go, and the making of event responses in
// watch_response.go.
type WatchStream struct {
	h *WatchHub

	// Guarded by h.mu.
	watchers    map[int64]*watcher
	nextID      int64
	ctrl        []*cairn.WatchResponse // created and canceled responses, in order
	dirty       []*watcher             // watchers with something to send
	progressAll bool                   // RequestProgress is waiting
	tickDue     bool                   // the progress ticker fired
	closed      bool
	progressing int // watchers with ProgressNotify
	ticker      *time.Ticker

	notify chan struct{}

	// Owned by the goroutine in Next.
	lastReturn time.Time
	timer      *time.Timer
	takes      []take
	catch      []*watcher
}

type watchState uint8

const (
	watchSynced     watchState = iota // queued live events as they are published
	watchCatchingUp                   // reads history from next on
	watchCanceled
)

// watcher is one watcher of a stream. Guarded by the hub's mu.
type watcher struct {
	id             int64
	st             *WatchStream
	g              *watchGroup // the group it is in; nil once removed
	gi             int         // index in g.ws
	rg             *watchGroup // the group of its range, kept (immutable fields only)
	prevKV         bool
	noPut          bool
	noDelete       bool
	progressNotify bool
	fragment       bool

	state watchState
	// next: while catching up, the next revision to read; while synced,
	// the oldest revision the watcher takes (its start revision).
	next         int64
	pending      []*watchRev
	pendingBytes int
	dirty        bool
	sent         bool // events went out since the last progress tick
}

// NewStream opens a stream with no watchers. It fails with ErrStopped once
// the hub is closed. Close the stream when its client goes away.
func (h *WatchHub) NewStream() (*WatchStream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, cairn.ErrStopped
	}
	st := &WatchStream{h: h, watchers: map[int64]*watcher{}, notify: make(chan struct{}, 1)}
	h.streams[st] = struct{}{}
	h.nstreams.Add(1)
	return st, nil
}

// Close cancels every watcher of the stream without a response and makes
// Next return ErrStopped. Close is idempotent.
func (st *WatchStream) Close() {
	st.h.mu.Lock()
	st.closeLocked()
	st.h.mu.Unlock()
}

func (st *WatchStream) closeLocked() {
	if st.closed {
		return
	}
	st.closed = true
	for _, w := range st.watchers {
		st.h.leave(w)
		w.state, w.pending = watchCanceled, nil
	}
	st.watchers, st.ctrl, st.dirty = nil, nil, nil
	if st.ticker != nil {
		st.ticker.Stop()
	}
	delete(st.h.streams, st)
	st.h.nstreams.Add(-1)
	st.signal()
}

// signal wakes Next.
func (st *WatchStream) signal() {
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

// markDirty puts w on the stream's list of watchers with something to send.
// Callers hold h.mu.
func (st *WatchStream) markDirty(w *watcher) {
	if w.dirty {
		return
	}
	w.dirty = true
	st.dirty = append(st.dirty, w)
	if len(st.dirty) == 1 {
		st.signal()
	}
}

// Create adds a watcher as req asks (see WatchCreateRequest). Its created
// response, or the refusal (Created and Canceled, WatchID -1, CancelReason
// ErrWatcherRangeEmpty, ErrWatcherDuplicateID or ErrTooManyWatchers), comes
// out of Next before anything else about it. A start revision below the
// compacted revision is answered by the created response and then a
// canceled one with CompactRevision, as etcd. req is not retained.
func (st *WatchStream) Create(req *cairn.WatchCreateRequest) {
	h := st.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.closed {
		return
	}
	refuse := func(err error) {
		st.ctrl = append(st.ctrl, &cairn.WatchResponse{Header: cairn.ResponseHeader{Revision: h.rev},
			WatchID: -1, Created: true, Canceled: true, CancelReason: err.Error()})
		st.signal()
	}
	if req.Refuse != nil {
		refuse(req.Refuse)
		return
	}
	rk, err := watchRange(req.Key, req.RangeEnd)
	if err != nil {
		refuse(err)
		return
	}
	id := req.WatchID
	if id != 0 {
		if _, dup := st.watchers[id]; dup {
			refuse(cairn.ErrWatcherDuplicateID)
			return
		}
	}
	if max := h.opts.MaxWatchersPerStream; max > 0 && len(st.watchers) >= max {
		refuse(cairn.ErrTooManyWatchers)
		return
	}
	if id == 0 {
		for st.watchers[st.nextID] != nil {
			st.nextID++
		}
		id = st.nextID
		st.nextID++
	}
	w := &watcher{id: id, st: st, prevKV: req.PrevKV, progressNotify: req.ProgressNotify, fragment: req.Fragment}
	for _, f := range req.Filters {
		switch f {
		case cairn.FilterNoPut:
			w.noPut = true
		case cairn.FilterNoDelete:
			w.noDelete = true
		}
	}
	st.ctrl = append(st.ctrl, &cairn.WatchResponse{Header: cairn.ResponseHeader{Revision: h.rev}, WatchID: id, Created: true})
	st.signal()
	start := req.StartRevision
	if start != 0 && start <= h.rev {
		if cr := h.compactRev(); start < cr {
			st.ctrl = append(st.ctrl, compactedResponse(id, cr))
			return
		}
		w.state, w.next = watchCatchingUp, start
	} else {
		w.state, w.next = watchSynced, max(start, h.rev+1)
	}
	st.watchers[id] = w
	h.join(w, rk)
	if w.progressNotify {
		st.progressing++
		if st.ticker == nil {
			st.ticker = time.NewTicker(h.opts.ProgressNotifyInterval)
		}
	}
	if w.state == watchCatchingUp {
		st.markDirty(w)
	}
}

// Cancel removes the watcher id: nothing more is sent for it but a
// canceled response. An id not on the stream is ignored, as etcd does.
func (st *WatchStream) Cancel(id int64) {
	h := st.h
	h.mu.Lock()
	defer h.mu.Unlock()
	w := st.watchers[id]
	if st.closed || w == nil {
		return
	}
	st.removeLocked(w)
	st.ctrl = append(st.ctrl, &cairn.WatchResponse{Header: cairn.ResponseHeader{Revision: h.rev}, WatchID: id, Canceled: true})
	st.signal()
}

// RequestProgress asks for one progress response (WatchID -1) whose
// revision every watcher of the stream has been sent all its events up to.
// It is sent as soon as no watcher of the stream is catching up. etcd 3.4
// answers at once with the current revision even when a watcher is behind;
// etcd 3.5 fixed that, as here.
func (st *WatchStream) RequestProgress() {
	h := st.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.closed {
		return
	}
	st.progressAll = true
	st.signal()
}

// removeLocked takes w off the stream and the hub. Callers hold h.mu.
func (st *WatchStream) removeLocked(w *watcher) {
	delete(st.watchers, w.id)
	st.h.leave(w)
	w.state, w.pending, w.pendingBytes = watchCanceled, nil, 0
	if w.progressNotify {
		st.progressing--
	}
}

// watchRange normalises a watched range as etcd does (empty key: "\x00";
// range end "\x00": every key from key on) and refuses an empty one.
func watchRange(key, end []byte) (rangeKey, error) {
	if len(key) == 0 {
		key = []byte{0}
	}
	switch {
	case len(end) == 0:
		return rangeKey{key: string(key)}, nil
	case len(end) == 1 && end[0] == 0:
		return rangeKey{key: string(key), fromKey: true}, nil
	case string(key) >= string(end):
		return rangeKey{}, cairn.ErrWatcherRangeEmpty
	}
	return rangeKey{key: string(key), end: string(end)}, nil
}

// enqueue queues a published revision for w (n: the size of its events in
// w's range), or switches w to catching up if that puts it over
// MaxPendingBytes. Callers hold h.mu.
func (w *watcher) enqueue(wr *watchRev, n int) {
	if w.state != watchSynced || wr.rev < w.next {
		return
	}
	w.pending = append(w.pending, wr)
	w.pendingBytes += n
	if h := w.st.h; w.pendingBytes > h.opts.MaxPendingBytes {
		w.state, w.next = watchCatchingUp, w.pending[0].rev
		clear(w.pending)
		w.pending, w.pendingBytes = w.pending[:0], 0
		h.stats.slow.Add(1)
	}
	w.st.markDirty(w)
}

// wants reports whether w sends ev (its range and filters).
func (w *watcher) wants(ev *cairn.Event) bool {
	if ev.Type == cairn.EventPut && w.noPut || ev.Type == cairn.EventDelete && w.noDelete {
		return false
	}
	return w.rg.contains(ev.Kv.Key)
}
