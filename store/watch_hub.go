package store

import (
	"bytes"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn"
)

// WatchOptions configures a WatchHub. The zero value gives the defaults.
type WatchOptions struct {
	// ProgressNotifyInterval is the period of the progress responses sent
	// to watchers that asked for them (ProgressNotify) and got no event in
	// the period (etcd's --experimental-watch-progress-notify-interval).
	// 0 means 10 minutes, etcd's default.
	ProgressNotifyInterval time.Duration

	// MaxWatchersPerStream bounds the watchers of one stream; a create over
	// it is refused with ErrTooManyWatchers. 0 means 10000; negative means
	// no limit. etcd has no such limit.
	MaxWatchersPerStream int

	// MaxPendingBytes bounds the events (protobuf size) queued for one
	// watcher and not yet taken by its stream's Next. A watcher over it
	// stops receiving live events and catches up from history instead, so a
	// slow consumer costs memory only up to this bound and never slows the
	// writers. 0 means 1 MiB. etcd has no such limit (it buffers a fixed
	// number of responses per stream).
	MaxPendingBytes int

	// MaxResponseBytes is the size (protobuf bytes of the events) up to
	// which a stream merges consecutive revisions into one response, above
	// which a watcher that asked for Fragment gets fragments (etcd
	// fragments above --max-request-bytes). 0 means 1.5 MiB.
	MaxResponseBytes int

	// RecentBytes is the memory (protobuf size of the events) the hub keeps
	// of the newest revisions, from which watchers that fell behind a
	// little catch up without reading the store and rejoin the live events.
	// 0 means 8 MiB.
	RecentBytes int

	// StreamWakeups is the number of times per second, all streams
	// together, that the hub lets streams return from Next when events
	// arrive faster than that: a stream that returned less than
	// streams/StreamWakeups seconds ago waits out the rest, so that under
	// load each write to a client carries more events rather than there
	// being more writes. 0 means 20000.
	StreamWakeups int
}

func (o WatchOptions) withDefaults() WatchOptions {
	if o.ProgressNotifyInterval <= 0 {
		o.ProgressNotifyInterval = 10 * time.Minute
	}
	if o.MaxWatchersPerStream == 0 {
		o.MaxWatchersPerStream = 10000
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 1 << 20
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 1572864
	}
	if o.RecentBytes <= 0 {
		o.RecentBytes = 8 << 20
	}
	if o.StreamWakeups <= 0 {
		o.StreamWakeups = 20000
	}
	return o
}

// WatchHub hands the events of every committed revision to the watchers of
// one store. doc.go ("Watch") describes it.
//
// Wire it to a store with Options.OnCommit = hub.Publish and call Attach
// with the opened store before the first Batch.Commit. Every method is safe
// for concurrent use. Publish never waits for a watcher: its cost is the
// matching of the batch's keys against the watched ranges plus one queue
// append per interested watcher.
type WatchHub struct {
	opts WatchOptions

	mu       sync.Mutex
	s        *Store
	rev      int64 // newest revision published (or the store's at Attach)
	closed   bool
	keys     map[string]*watchGroup // single-key watchers by key
	ranges   []*watchGroup          // range watchers
	byRange  map[rangeKey]*watchGroup
	recent   revRing
	streams  map[*WatchStream]struct{}
	touched  []*watchGroup // scratch of dispatch
	nstreams atomic.Int64

	stats struct {
		revisions, slow, storeReads, recentReads atomic.Int64
	}
}

// NewWatchHub returns a hub with no store yet (see Attach).
func NewWatchHub(opts WatchOptions) *WatchHub {
	return &WatchHub{
		opts:    opts.withDefaults(),
		keys:    map[string]*watchGroup{},
		byRange: map[rangeKey]*watchGroup{},
		streams: map[*WatchStream]struct{}{},
	}
}

// Attach gives the hub its store, whose Options.OnCommit must be
// h.Publish, and takes the store's current revision as the hub's. Call it
// once, after Open and before the first Batch.Commit.
func (h *WatchHub) Attach(s *Store) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.s = s
	h.rev = s.Rev()
}

// Close ends every stream: their Next returns ErrStopped, and so does
// NewStream from then on. Close is idempotent.
func (h *WatchHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for st := range h.streams {
		st.closeLocked()
	}
	h.recent = revRing{}
}

// Rev returns the newest revision the hub has published to its watchers.
func (h *WatchHub) Rev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rev
}

// WatchStats counts what a hub did, for tests and metrics.
type WatchStats struct {
	Streams  int // open streams
	Watchers int // watchers on them
	// Unsynced is the number of those watchers that are catching up from
	// history instead of taking live events (etcd's slow watchers).
	Unsynced int
	// Revisions is the number of revisions published.
	Revisions int64
	// SlowWatchers counts the times a watcher went over MaxPendingBytes and
	// was switched to catching up.
	SlowWatchers int64
	// StoreReads counts the history reads from the store; RecentReads the
	// catch-ups served from the hub's memory of recent revisions.
	StoreReads, RecentReads int64
}

// Stats returns the hub's counters. It visits every watcher: call it for
// a scrape, not per request.
func (h *WatchHub) Stats() WatchStats {
	h.mu.Lock()
	st := WatchStats{Streams: len(h.streams)}
	for s := range h.streams {
		st.Watchers += len(s.watchers)
		for _, w := range s.watchers {
			if w.state == watchCatchingUp {
				st.Unsynced++
			}
		}
	}
	h.mu.Unlock()
	st.Revisions = h.stats.revisions.Load()
	st.SlowWatchers = h.stats.slow.Load()
	st.StoreReads = h.stats.storeReads.Load()
	st.RecentReads = h.stats.recentReads.Load()
	return st
}

// Publish takes the events of a committed batch: rev is the store revision
// after it, events every event of it in revision order (Options.OnCommit's
// contract). It queues each revision for the watchers whose range it
// touches, wakes their streams and returns; it never waits for a consumer.
func (h *WatchHub) Publish(rev int64, events []cairn.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for len(events) > 0 {
		r := events[0].Kv.ModRevision
		n := 1
		for n < len(events) && events[n].Kv.ModRevision == r {
			n++
		}
		wr := newWatchRev(r, events[:n])
		events = events[n:]
		h.recent.push(wr, h.opts.RecentBytes)
		h.dispatch(wr)
		h.stats.revisions.Add(1)
	}
	if rev > h.rev {
		h.rev = rev
	}
}

// dispatch queues wr for every watcher whose range holds one of its keys.
// Callers hold h.mu.
func (h *WatchHub) dispatch(wr *watchRev) {
	touched := h.touched[:0]
	touch := func(g *watchGroup, i int) {
		if g.mark != wr.rev {
			g.mark, g.bytes = wr.rev, 0
			touched = append(touched, g)
		}
		g.bytes += int(wr.sizes[2*i+1])
	}
	for i := range wr.full {
		key := wr.full[i].Kv.Key
		if g := h.keys[string(key)]; g != nil {
			touch(g, i)
		}
		for _, g := range h.ranges {
			if g.contains(key) {
				touch(g, i)
			}
		}
	}
	for _, g := range touched {
		for _, w := range g.ws {
			w.enqueue(wr, g.bytes)
		}
	}
	clear(touched)
	h.touched = touched[:0]
}

// wakeInterval is how long a stream waits after returning from Next before
// it returns again with new events (see WatchOptions.StreamWakeups).
func (h *WatchHub) wakeInterval() time.Duration {
	return time.Duration(h.nstreams.Load()) * time.Second / time.Duration(h.opts.StreamWakeups)
}

// watchRev is one published revision: its events twice, as committed
// (full, with PrevKv) and without PrevKv (bare), so that watchers of either
// kind share WatchEvents and their memos. It never changes once built.
type watchRev struct {
	rev   int64
	full  []cairn.WatchEvent
	bare  []cairn.WatchEvent
	sizes []int32 // per event: protobuf size in a response, without then with prev_kv
	bytes int     // what it costs in the recent ring
}

func newWatchRev(rev int64, events []cairn.Event) *watchRev {
	n := len(events)
	all := make([]cairn.WatchEvent, 2*n)
	wr := &watchRev{rev: rev, full: all[:n:n], bare: all[n:], sizes: make([]int32, 2*n)}
	for i := range events {
		e := events[i]
		wr.full[i].Event = e
		wr.bare[i].Event = cairn.Event{Type: e.Type, Kv: e.Kv}
		bare := embeddedSize(eventSize(&wr.bare[i].Event))
		full := embeddedSize(eventSize(&e))
		wr.sizes[2*i], wr.sizes[2*i+1] = int32(bare), int32(full)
		wr.bytes += full + 2*int(watchEventOverhead)
	}
	return wr
}

// event returns the i-th event as a watcher with or without prev_kv gets
// it, with its size.
func (wr *watchRev) event(i int, prevKV bool) (*cairn.WatchEvent, int) {
	if prevKV {
		return &wr.full[i], int(wr.sizes[2*i+1])
	}
	return &wr.bare[i], int(wr.sizes[2*i])
}

// watchEventOverhead approximates the memory of a WatchEvent besides its
// key-values.
const watchEventOverhead = 64

// revRing is the hub's memory of the newest revisions, oldest first,
// within a byte budget. Revisions are contiguous: every revision from the
// oldest held to the hub's current one is in it.
type revRing struct {
	revs  []*watchRev
	head  int
	bytes int
}

func (r *revRing) push(wr *watchRev, budget int) {
	r.revs = append(r.revs, wr)
	r.bytes += wr.bytes
	for r.bytes > budget && len(r.revs)-r.head > 1 {
		r.bytes -= r.revs[r.head].bytes
		r.revs[r.head] = nil
		r.head++
	}
	if r.head > 1024 && r.head > len(r.revs)/2 {
		n := copy(r.revs, r.revs[r.head:])
		clear(r.revs[n:])
		r.revs, r.head = r.revs[:n], 0
	}
}

// from returns the held revisions from rev on, and whether the ring holds
// everything from rev to its newest (false when rev is older than the
// oldest held, or the ring is empty).
func (r *revRing) from(rev int64) ([]*watchRev, bool) {
	held := r.revs[r.head:]
	if len(held) == 0 || rev < held[0].rev {
		return nil, false
	}
	i := sort.Search(len(held), func(i int) bool { return held[i].rev >= rev })
	return held[i:], true
}

// rangeKey identifies a watched range: key alone (end nil, fromKey false),
// every key >= key (fromKey), or [key, end).
type rangeKey struct {
	key, end string
	fromKey  bool
}

// watchGroup is the set of watchers of one key or range.
type watchGroup struct {
	rk       rangeKey
	key, end []byte
	fromKey  bool
	single   bool
	ws       []*watcher
	ri       int // index in WatchHub.ranges; -1 for single keys

	// scratch of dispatch: the revision last touched and the size of its
	// events in the range.
	mark  int64
	bytes int
}

// contains reports whether key is in g's range.
func (g *watchGroup) contains(key []byte) bool {
	if g.single {
		return bytes.Equal(key, g.key)
	}
	if bytes.Compare(key, g.key) < 0 {
		return false
	}
	return g.fromKey || bytes.Compare(key, g.end) < 0
}

// join adds w to the group of its range, creating the group if needed.
// Callers hold h.mu.
func (h *WatchHub) join(w *watcher, rk rangeKey) {
	var g *watchGroup
	if rk.end == "" && !rk.fromKey {
		g = h.keys[rk.key]
		if g == nil {
			g = &watchGroup{rk: rk, key: []byte(rk.key), single: true, ri: -1}
			h.keys[rk.key] = g
		}
	} else {
		g = h.byRange[rk]
		if g == nil {
			g = &watchGroup{rk: rk, key: []byte(rk.key), end: []byte(rk.end), fromKey: rk.fromKey, ri: len(h.ranges)}
			h.byRange[rk] = g
			h.ranges = append(h.ranges, g)
		}
	}
	w.g, w.gi, w.rg = g, len(g.ws), g
	g.ws = append(g.ws, w)
}

// leave removes w from its group, dropping the group once empty. Callers
// hold h.mu.
func (h *WatchHub) leave(w *watcher) {
	g := w.g
	if g == nil {
		return
	}
	last := len(g.ws) - 1
	g.ws[w.gi] = g.ws[last]
	g.ws[w.gi].gi = w.gi
	g.ws[last] = nil
	g.ws = g.ws[:last]
	w.g = nil
	if len(g.ws) > 0 {
		return
	}
	if g.single {
		delete(h.keys, g.rk.key)
		return
	}
	delete(h.byRange, g.rk)
	lr := len(h.ranges) - 1
	h.ranges[g.ri] = h.ranges[lr]
	h.ranges[g.ri].ri = g.ri
	h.ranges[lr] = nil
	h.ranges = h.ranges[:lr]
}
