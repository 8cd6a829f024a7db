package store

import (
	"errors"

	"github.com/cairnkv/cairn"
)

// catchUp sends w one chunk of the history it is missing, from the hub's
// recent revisions when they reach back far enough, else from the store,
// and lets it rejoin the live events once it has reached the hub's
// revision. A compacted next revision ends w with a compaction response.
//
// This file owns the watchers that are behind the live events
// (watchCatchingUp): catchUp reads their history, from the hub's recent
// revisions (revRing) or from the store (watchHistory, watch_history.go),
// advanceLocked moves them on and back to the live events, and compactRev
// and compactedResponse end those whose next revision is compacted away.
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
		if st.progressAll {
			// The last watcher to catch up may be this one, with nothing to
			// send (its filters dropped the chunk): wake Next to answer the
			// pending progress request.
			st.signal()
		}
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
