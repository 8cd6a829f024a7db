package store

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/cairnkv/cairn"
)

// The watch hub's history reader: the events of past revisions on a range,
// read from the revisions the store keeps (the overlay of unflushed batches
// and bbolt), for watchers that start in the past or fell behind.

// historyWindow bounds the main revisions one history read looks at, so
// that one read holds the index lock briefly and its memory stays bounded.
const historyWindow = 1 << 14

// maxIndexedKeys: a range with more keys than this (and than four times
// the revisions to read) is read by scanning the revisions instead of
// through the key index.
const maxIndexedKeys = 1024

// histRef is a revision of a watched key found in the index, with its
// previous revision when prev_kv is asked for.
type histRef struct {
	rev     revision
	tomb    bool
	key     []byte // the index's copy (immutable)
	prev    revision
	hasPrev bool
}

// watchHistory returns the events of main revisions from..to on the keys
// of rk, in revision order (sub revisions in order), stopping early at the
// end of a revision once the events read reach maxBytes (protobuf size);
// last is the revision the read covers up to (to, or where it stopped; at
// most from+historyWindow-1). With prevKV each event carries the key's
// previous version unless that version's revision is below the compacted
// revision (etcd reads it with a Range at mod_revision-1, which then
// fails). The events are the caller's.
//
// A narrow range is read through the key index (the revisions of its keys,
// then their records); a range with many keys by scanning the revisions.
// Either way the records come from a historyView taken after the index
// walk, never with the index lock held while a view is open (doc.go,
// "Concurrency"): a revision the walk found at or above the compacted
// revision is still in the view, since compaction removes only what the
// index no longer holds.
//
// Errors: ErrCompacted if from is below the compacted revision (a
// tombstone or an overwritten version at exactly the compacted revision is
// gone, as in etcd: a watcher from the compacted revision may not see
// it); ErrStopped once the store is closed; an error of bbolt or a
// malformed record.
func (s *Store) watchHistory(rk rangeKey, from, to int64, maxBytes int, prevKV bool) ([]cairn.WatchEvent, int64, error) {
	key := []byte(rk.key)
	var end []byte
	switch {
	case rk.fromKey:
		end = []byte{0}
	case rk.end != "":
		end = []byte(rk.end)
	}
	if to-from >= historyWindow {
		to = from + historyWindow - 1
	}

	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, 0, cairn.ErrStopped
	}
	if from < s.compactRev {
		s.mu.RUnlock()
		return nil, 0, cairn.ErrCompacted
	}
	to = min(to, s.rev)
	if from > to {
		s.mu.RUnlock()
		return nil, to, nil
	}
	refs, indexed := s.historyRefs(key, end, from, to, prevKV)
	s.mu.RUnlock()

	v, err := s.viewHistory()
	if err != nil {
		return nil, 0, err
	}
	defer v.release()
	if from < v.compactRev {
		return nil, 0, cairn.ErrCompacted
	}
	if !indexed {
		return s.scanHistory(v, key, end, from, to, maxBytes, prevKV)
	}

	var (
		evs   []cairn.WatchEvent
		r     record
		size  int
		last  = to
		prevR record
	)
	for i := 0; i < len(refs); i++ {
		ref := &refs[i]
		if size >= maxBytes && ref.rev.main != refs[i-1].rev.main {
			last = refs[i-1].rev.main
			break
		}
		evs = append(evs, cairn.WatchEvent{})
		ev := &evs[len(evs)-1]
		if ref.tomb {
			// The tombstone's record holds only the v2 action.
			data, err := v.get(ref.rev)
			if err != nil {
				return nil, 0, err
			}
			if err := decodeRecord(data, &r); err != nil {
				return nil, 0, fmt.Errorf("store: revision %v: %w", ref.rev, err)
			}
			ev.Type = cairn.EventDelete
			ev.Kv = &cairn.KeyValue{Key: bytes.Clone(ref.key), ModRevision: ref.rev.main, Action: r.action}
		} else {
			data, err := v.get(ref.rev)
			if err != nil {
				return nil, 0, err
			}
			if err := decodeRecord(data, &r); err != nil {
				return nil, 0, fmt.Errorf("store: revision %v: %w", ref.rev, err)
			}
			ev.Kv = kvOf(&r)
		}
		// A compaction since the walk may have removed the previous
		// version; etcd would not send it then either.
		if ref.hasPrev && ref.rev.main-1 >= v.compactRev {
			data, err := v.get(ref.prev)
			if err != nil {
				return nil, 0, err
			}
			if err := decodeRecord(data, &prevR); err != nil {
				return nil, 0, fmt.Errorf("store: revision %v: %w", ref.prev, err)
			}
			ev.PrevKv = kvOf(&prevR)
		}
		size += embeddedSize(eventSize(&ev.Event))
	}
	return evs, last, nil
}

// historyRefs walks the index for the revisions from..to of the keys in
// [key, end) (RangeRequest's conventions), in revision order, with their
// previous revisions if prevKV. indexed is false if the range holds too
// many keys to walk (scan the revisions instead). Callers hold s.mu.
func (s *Store) historyRefs(key, end []byte, from, to int64, prevKV bool) (refs []histRef, indexed bool) {
	limit := max(maxIndexedKeys, 4*int(to-from+1))
	visited := 0
	indexed = true
	s.idx.visit(key, end, func(ki *keyIndex) bool {
		if visited++; visited > limit {
			indexed = false
			return false
		}
		last := len(ki.gens) - 1
		for gi := range ki.gens {
			revs := ki.gens[gi].revs
			j := sort.Search(len(revs), func(j int) bool { return revs[j].main >= from })
			for ; j < len(revs) && revs[j].main <= to; j++ {
				ref := histRef{rev: revs[j], tomb: gi < last && j == len(revs)-1, key: ki.key}
				if prevKV {
					ref.prev, ref.hasPrev = s.prevRevLocked(ki, ref.rev.main)
				}
				refs = append(refs, ref)
			}
		}
		return true
	})
	if !indexed {
		return nil, false
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].rev.less(refs[j].rev) })
	return refs, true
}

// prevRevLocked returns the revision of ki visible just before main
// revision main, unless it is compacted. Callers hold s.mu.
func (s *Store) prevRevLocked(ki *keyIndex, main int64) (revision, bool) {
	if main-1 < s.compactRev {
		return revision{}, false
	}
	rev, _, _, ok := ki.at(main - 1)
	return rev, ok
}

// scanHistory reads the revisions from..to of view v in order, keeping the
// changes of keys in [key, end), and stops as watchHistory does. It
// releases v; the previous versions are then looked up through the index
// (lookupPrevs).
func (s *Store) scanHistory(v *historyView, key, end []byte, from, to int64, maxBytes int, prevKV bool) ([]cairn.WatchEvent, int64, error) {
	var (
		evs     []cairn.WatchEvent
		size    int
		last    = to
		r       record
		scanErr error
	)
	fromKey := len(end) == 1 && end[0] == 0
	err := v.scan(from, to, func(rev revision, data []byte) bool {
		if size >= maxBytes && len(evs) > 0 && rev.main != evs[len(evs)-1].Kv.ModRevision {
			last = evs[len(evs)-1].Kv.ModRevision
			return false
		}
		if err := decodeRecord(data, &r); err != nil {
			scanErr = fmt.Errorf("store: revision %v: %w", rev, err)
			return false
		}
		if bytes.Compare(r.key, key) < 0 || !fromKey && bytes.Compare(r.key, end) >= 0 {
			return true
		}
		evs = append(evs, cairn.WatchEvent{})
		ev := &evs[len(evs)-1]
		if r.tombstone {
			ev.Type = cairn.EventDelete
			ev.Kv = &cairn.KeyValue{Key: bytes.Clone(r.key), ModRevision: rev.main, Action: r.action}
		} else {
			ev.Kv = kvOf(&r)
		}
		size += embeddedSize(eventSize(&ev.Event))
		return true
	})
	v.release()
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return nil, 0, err
	}
	if prevKV && len(evs) > 0 {
		if err := s.lookupPrevs(evs); err != nil {
			return nil, 0, err
		}
	}
	return evs, last, nil
}

// lookupPrevs fills the PrevKv of events read by a scan: their previous
// revisions from the index, then the records from a new view.
func (s *Store) lookupPrevs(evs []cairn.WatchEvent) error {
	prevs := make([]revision, len(evs))
	has := make([]bool, len(evs))
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return cairn.ErrStopped
	}
	for i := range evs {
		if ki := s.idx.get(evs[i].Kv.Key); ki != nil {
			prevs[i], has[i] = s.prevRevLocked(ki, evs[i].Kv.ModRevision)
		}
	}
	s.mu.RUnlock()
	v, err := s.viewHistory()
	if err != nil {
		return err
	}
	defer v.release()
	var r record
	for i := range evs {
		if !has[i] || evs[i].Kv.ModRevision-1 < v.compactRev {
			continue
		}
		data, err := v.get(prevs[i])
		if err != nil {
			return err
		}
		if err := decodeRecord(data, &r); err != nil {
			return fmt.Errorf("store: revision %v: %w", prevs[i], err)
		}
		evs[i].PrevKv = kvOf(&r)
	}
	return nil
}
