package store

import (
	"context"
	"time"

	"github.com/cairnkv/cairn"
)

// Next waits until the stream has something to send, then returns it
// appended to dst: created and canceled responses, events, progress
// responses. Each watcher's responses are in order; responses of
// different watchers may interleave. Watchers behind the live events
// catch up here, from the hub's recent revisions or from the store, one
// bounded chunk per watcher per call. Next returns ctx.Err() when ctx is
// done, ErrStopped once the stream or the hub is closed (or the store,
// while reading history), and any error of a history read.
//
// Next and collect own the stream's way out: under the hub's lock, each
// call takes the created and canceled responses, the queued revisions of
// the synced watchers (up to about nextBudget in all) and the progress
// responses that are due; outside it, it builds the event responses, then
// lets each catching-up watcher read one chunk (watch_catchup.go) until
// MaxResponseBytes of history has been read. Between wakeups Next paces the
// stream (WatchOptions.StreamWakeups).
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

// take is the pending revisions of one watcher, taken by collect.
type take struct {
	w    *watcher
	revs []*watchRev
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
