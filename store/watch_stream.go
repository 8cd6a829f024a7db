package store

import (
	"context"
	"errors"
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

// take is the pending revisions of one watcher, taken by collect.
type take struct {
	w    *watcher
	revs []*watchRev
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

// Next waits until the stream has something to send, then returns it
// appended to dst: created and canceled responses, events, progress
// responses. Each watcher's responses are in order; responses of
// different watchers may interleave. Watchers behind the live events
// catch up here, from the hub's recent revisions or from the store, one
// bounded chunk per watcher per call. Next returns ctx.Err() when ctx is
// done, ErrStopped once the stream or the hub is closed (or the store,
// while reading history), and any error of a history read.
func (st *WatchStream) Next(ctx context.Context, dst []*cairn.WatchResponse) ([]*cairn.WatchResponse, error) {
	h := st.h
	for {
		out, tick, err := st.collect(dst)
		if err != nil || len(out) > len(dst) {
			st.lastReturn = time.Now()
			return out, err
		}
		select {
		case <-st.notify:
		case <-tick:
			h.mu.Lock()
			st.tickDue = true
			h.mu.Unlock()
		case <-ctx.Done():
			return dst, ctx.Err()
		}
		if d := time.Until(st.lastReturn.Add(h.wakeInterval())); d > 0 {
			if st.timer == nil {
				st.timer = time.NewTimer(d)
			} else {
				st.timer.Reset(d)
			}
			select {
			case <-st.timer.C:
			case <-ctx.Done():
				st.timer.Stop()
				return dst, ctx.Err()
			}
		}
	}
}

// collect takes what the stream has to send and builds the responses.
// tick is the progress ticker's channel, nil if none.
func (st *WatchStream) collect(out []*cairn.WatchResponse) (_ []*cairn.WatchResponse, tick <-chan time.Time, err error) {
	h := st.h
	h.mu.Lock()
	if st.closed {
		h.mu.Unlock()
		return out, nil, cairn.ErrStopped
	}
	if st.ticker != nil {
		tick = st.ticker.C
	}
	out = append(out, st.ctrl...)
	clear(st.ctrl)
	st.ctrl = st.ctrl[:0]
	// Take the queued events of the dirty watchers, up to about
	// nextBudget in all (at least one watcher's): what a call returns, and
	// so the memory a stream's transport needs to encode it, stays bounded
	// however many watchers share the stream. The others stay dirty, first
	// in line for the next call.
	takes, catch := st.takes[:0], st.catch[:0]
	budget := min(h.opts.MaxResponseBytes, nextBudget)
	taken := 0
	left := st.dirty[:0]
	for _, w := range st.dirty {
		cost := w.pendingBytes + responseOverhead
		if w.state == watchSynced && len(w.pending) > 0 && taken > 0 && taken+cost > budget {
			left = append(left, w)
			continue
		}
		w.dirty = false
		switch w.state {
		case watchSynced:
			if len(w.pending) > 0 {
				takes = append(takes, take{w, w.pending})
				taken += cost
				w.pending, w.pendingBytes, w.sent = nil, 0, true
			}
		case watchCatchingUp:
			catch = append(catch, w)
		}
	}
	clear(st.dirty[len(left):])
	st.dirty = left
	if len(left) > 0 {
		st.signal()
	}
	rev := h.rev
	var progress []*cairn.WatchResponse
	if st.progressAll && len(catch) == 0 && len(left) == 0 && st.allSyncedLocked() {
		progress = append(progress, &cairn.WatchResponse{Header: cairn.ResponseHeader{Revision: rev}, WatchID: -1})
		st.progressAll = false
	}
	if st.tickDue {
		st.tickDue = false
		if st.progressing > 0 {
			for _, w := range st.watchers {
				if !w.progressNotify {
					continue
				}
				if w.state == watchSynced && !w.sent && len(w.pending) == 0 {
					progress = append(progress, &cairn.WatchResponse{Header: cairn.ResponseHeader{Revision: rev}, WatchID: w.id})
				}
				w.sent = false
			}
		}
	}
	h.mu.Unlock()

	maxBytes := h.opts.MaxResponseBytes
	for _, t := range takes {
		b := respBuilder{w: t.w, max: maxBytes, out: out, compacted: h.compactRev()}
		for _, wr := range t.revs {
			b.addRev(wr)
		}
		out = b.finish(t.revs[len(t.revs)-1].rev)
	}
	out = append(out, progress...)

	caught := 0
	for i, w := range catch {
		if caught >= maxBytes {
			// Enough for one call: the rest go on at the next.
			h.mu.Lock()
			for _, w := range catch[i:] {
				if w.state == watchCatchingUp {
					st.markDirty(w)
				}
			}
			st.signal()
			h.mu.Unlock()
			break
		}
		n := len(out)
		if out, err = st.catchUp(w, out); err != nil {
			break
		}
		for _, r := range out[n:] {
			for _, ev := range r.Events {
				caught += embeddedSize(eventSize(&ev.Event))
			}
		}
		caught += 64 // a chunk that found nothing still costs a read
	}
	clear(takes)
	clear(catch)
	st.takes, st.catch = takes[:0], catch[:0]
	return out, tick, err
}

// nextBudget bounds the events (protobuf bytes, plus responseOverhead per
// watcher) one call of Next takes from the watchers' queues: a transport
// encodes them at a few times that (JSON, base64, a header per response).
const nextBudget = 256 << 10

// responseOverhead is what a response costs besides its events.
const responseOverhead = 128

// allSyncedLocked reports whether every watcher of the stream takes live
// events. Callers hold h.mu.
func (st *WatchStream) allSyncedLocked() bool {
	for _, w := range st.watchers {
		if w.state != watchSynced {
			return false
		}
	}
	return true
}

// catchUp sends w one chunk of the history it is missing, from the hub's
// recent revisions when they reach back far enough, else from the store,
// and lets it rejoin the live events once it has reached the hub's
// revision. A compacted next revision ends w with a compaction response.
func (st *WatchStream) catchUp(w *watcher, out []*cairn.WatchResponse) ([]*cairn.WatchResponse, error) {
	h := st.h
	maxBytes := h.opts.MaxResponseBytes
	h.mu.Lock()
	if w.state != watchCatchingUp {
		h.mu.Unlock()
		return out, nil
	}
	if revs, ok := h.recent.from(w.next); ok || w.next > h.rev {
		n, size := 0, 0
		for n < len(revs) && n < maxRecentPerChunk && (n == 0 || size < maxBytes) {
			size += revs[n].bytes
			n++
		}
		revs = append([]*watchRev(nil), revs[:n]...)
		end := w.next - 1
		if n > 0 {
			end = revs[n-1].rev
		}
		st.advanceLocked(w, end)
		h.mu.Unlock()
		h.stats.recentReads.Add(1)
		b := respBuilder{w: w, max: maxBytes, out: out, compacted: h.compactRev()}
		for _, wr := range revs {
			b.addRev(wr)
		}
		return b.finish(end), nil
	}
	from, to, rk := w.next, h.rev, w.rg.rk
	s := h.s
	h.mu.Unlock()

	h.stats.storeReads.Add(1)
	var (
		evs  []cairn.WatchEvent
		last int64
		err  error
	)
	if s == nil {
		err = cairn.ErrStopped
	} else {
		evs, last, err = s.watchHistory(rk, from, to, maxBytes, w.prevKV)
	}
	if errors.Is(err, cairn.ErrCompacted) {
		h.mu.Lock()
		if w.state == watchCatchingUp {
			st.removeLocked(w)
			out = append(out, compactedResponse(w.id, h.compactRev()))
		}
		h.mu.Unlock()
		return out, nil
	}
	if err != nil {
		return out, err
	}
	h.mu.Lock()
	if w.state != watchCatchingUp {
		h.mu.Unlock()
		return out, nil
	}
	st.advanceLocked(w, last)
	h.mu.Unlock()
	b := respBuilder{w: w, max: maxBytes, out: out}
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].Kv.ModRevision == evs[i].Kv.ModRevision {
			j++
		}
		b.addHistory(evs[i:j])
		i = j
	}
	return b.finish(last), nil
}

// maxRecentPerChunk bounds the revisions one catch-up takes from the hub's
// recent ones, so that the hub's lock is held briefly.
const maxRecentPerChunk = 4096

// advanceLocked records that w has been sent everything up to end: it
// rejoins the live events if that is the hub's revision, or stays on the
// dirty list to go on at the next Next. Callers hold h.mu.
func (st *WatchStream) advanceLocked(w *watcher, end int64) {
	w.next = end + 1
	if w.next > st.h.rev {
		w.state = watchSynced
		return
	}
	st.markDirty(w)
	st.signal()
}

func compactedResponse(id, compactRev int64) *cairn.WatchResponse {
	return &cairn.WatchResponse{WatchID: id, Canceled: true, CompactRevision: compactRev}
}

// compactRev is the store's compacted revision, -1 if never compacted (as
// etcd's, which a negative start revision is compared with).
func (h *WatchHub) compactRev() int64 {
	if h.s == nil {
		return -1
	}
	return h.s.compactNow.Load()
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

// respBuilder turns one watcher's revisions into event responses: whole
// revisions merged up to max bytes, a response over max fragmented if the
// watcher asked.
type respBuilder struct {
	w   *watcher
	max int
	// compacted is the compacted revision: an event whose previous
	// revision is below it goes without PrevKv, as etcd (which reads the
	// previous version at mod_revision-1 when it sends the event) and the
	// store's history reads do.
	compacted int64
	out       []*cairn.WatchResponse
	cur       *cairn.WatchResponse
	size      int   // of cur's events
	last      int64 // the revision cur covers up to
}

// addRev adds the events of a published revision that w wants.
func (b *respBuilder) addRev(wr *watchRev) {
	mark, markSize := b.begin()
	prevKV := b.w.prevKV && wr.rev-1 >= b.compacted
	for i := range wr.full {
		if !b.w.wants(&wr.full[i].Event) {
			continue
		}
		ev, n := wr.event(i, prevKV)
		b.cur.Events = append(b.cur.Events, ev)
		b.size += n
	}
	b.end(wr.rev, mark, markSize)
}

// addHistory adds the events of one revision read from the store (already
// in w's range, with PrevKv as w asked).
func (b *respBuilder) addHistory(evs []cairn.WatchEvent) {
	mark, markSize := b.begin()
	for i := range evs {
		if !b.w.wants(&evs[i].Event) {
			continue
		}
		b.cur.Events = append(b.cur.Events, &evs[i])
		b.size += embeddedSize(eventSize(&evs[i].Event))
	}
	b.end(evs[0].Kv.ModRevision, mark, markSize)
}

func (b *respBuilder) begin() (mark, markSize int) {
	if b.cur == nil {
		b.cur = &cairn.WatchResponse{WatchID: b.w.id}
	}
	return len(b.cur.Events), b.size
}

// end closes a revision: if it made the response too big, it starts the
// next response.
func (b *respBuilder) end(rev int64, mark, markSize int) {
	if markSize > 0 && b.size > b.max {
		moved := append([]*cairn.WatchEvent(nil), b.cur.Events[mark:]...)
		b.cur.Events = b.cur.Events[:mark]
		b.size = markSize
		b.emit()
		b.cur = &cairn.WatchResponse{WatchID: b.w.id, Events: moved}
		for _, ev := range moved {
			b.size += embeddedSize(eventSize(&ev.Event))
		}
	}
	b.last = rev
}

// finish emits the response in progress, whose header revision becomes
// through (the last revision considered, its events filtered out or not).
func (b *respBuilder) finish(through int64) []*cairn.WatchResponse {
	if b.cur != nil && len(b.cur.Events) > 0 {
		b.last = through
		b.emit()
	}
	return b.out
}

// emit appends cur to out, in fragments if it is over max and the watcher
// asked for them, and resets cur.
func (b *respBuilder) emit() {
	r := b.cur
	r.Header.Revision = b.last
	b.cur, b.size = nil, 0
	if len(r.Events) == 0 {
		return
	}
	total := 0
	for _, ev := range r.Events {
		total += embeddedSize(eventSize(&ev.Event))
	}
	if !b.w.fragment || total <= b.max || len(r.Events) < 2 {
		b.out = append(b.out, r)
		return
	}
	// etcd's fragments: each takes events while it stays under max (at
	// least one), all but the last marked Fragment.
	evs := r.Events
	for len(evs) > 0 {
		f := &cairn.WatchResponse{Header: r.Header, WatchID: r.WatchID, Fragment: true}
		size := 0
		for len(evs) > 0 {
			n := embeddedSize(eventSize(&evs[0].Event))
			if len(f.Events) > 0 && size+n >= b.max {
				break
			}
			f.Events = append(f.Events, evs[0])
			size += n
			evs = evs[1:]
		}
		if len(evs) == 0 {
			f.Fragment = false
		}
		b.out = append(b.out, f)
	}
}
