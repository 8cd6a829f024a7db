package store

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/cairnkv/cairn"
)

// History reads the changes of one key, newest first, through the key
// index: the index holds every revision of the key the store still keeps
// (index.go), so the read costs one B-tree lookup plus one record read per
// event returned, however many revisions the store holds in all.
//
// History returns the changes of req.Key at or below req.Revision (0 or
// negative: the current revision), at most req.Limit (0 or negative: all),
// with More set when older ones remain, and the current and compacted
// revisions in Header.Revision and CompactRevision (0 if never compacted).
// Errors: cairn.ErrCompacted for a revision below the compacted one,
// cairn.ErrFutureRev for one above the current one, cairn.ErrStopped once
// the store is closed, or an error of bbolt or a malformed record. The
// events are the caller's. Safe for concurrent use with the applier.
func (s *Store) History(req *cairn.HistoryRequest) (*cairn.HistoryResponse, error) {
	for {
		resp, retry, err := s.history(req)
		if !retry {
			return resp, err
		}
	}
}

// history is one try of History; retry says a compaction ran between the
// index walk and the record reads, so the records may be gone.
func (s *Store) history(req *cairn.HistoryRequest) (resp *cairn.HistoryResponse, retry bool, err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, false, cairn.ErrStopped
	}
	cur, compacted := s.rev, s.compactRev
	at, err := resolveRev(req.Revision, cur, compacted)
	if err != nil {
		s.mu.RUnlock()
		return nil, false, err
	}
	resp = &cairn.HistoryResponse{CompactRevision: max(compacted, 0)}
	resp.Header.Revision = cur
	var refs []histRef
	if ki := s.idx.get(req.Key); ki != nil {
		refs, resp.More = historyOf(ki, at, req.Limit)
	}
	s.mu.RUnlock()
	if len(refs) == 0 {
		return resp, false, nil
	}

	v, err := s.viewHistory()
	if err != nil {
		return nil, false, err
	}
	defer v.release()
	if v.compactRev != compacted {
		return nil, true, nil
	}
	var r record
	resp.Events = make([]*cairn.Event, len(refs))
	for i, ref := range refs {
		data, err := v.get(ref.rev)
		if err != nil {
			return nil, false, err
		}
		if err := decodeRecord(data, &r); err != nil {
			return nil, false, fmt.Errorf("store: revision %v: %w", ref.rev, err)
		}
		if ref.tomb {
			resp.Events[i] = &cairn.Event{Type: cairn.EventDelete,
				Kv: &cairn.KeyValue{Key: bytes.Clone(ref.key), ModRevision: ref.rev.main, Action: r.action}}
		} else {
			resp.Events[i] = &cairn.Event{Kv: kvOf(&r)}
		}
	}
	return resp, false, nil
}

// historyOf returns the revisions of ki at or below main revision at,
// newest first, at most limit (0 or negative: all), and whether older ones
// remain. The last revision of every generation but the newest is its
// tombstone. Callers hold s.mu.
func historyOf(ki *keyIndex, at, limit int64) (refs []histRef, more bool) {
	last := len(ki.gens) - 1
	for gi := last; gi >= 0; gi-- {
		revs := ki.gens[gi].revs
		// The newest revision at or below at, found by binary search:
		// paging far back in a long history costs no walk over the rest.
		top := sort.Search(len(revs), func(j int) bool { return revs[j].main > at })
		for j := top - 1; j >= 0; j-- {
			if limit > 0 && int64(len(refs)) == limit {
				return refs, true
			}
			refs = append(refs, histRef{rev: revs[j], tomb: gi < last && j == len(revs)-1, key: ki.key})
		}
	}
	return refs, false
}
