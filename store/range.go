package store

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// Range reads the committed state, as etcd's Range: the keys named by
// req.Key and req.RangeEnd (see RangeRequest) as they were at req.Revision
// (0 or negative: the current revision).
//
// Errors: ErrFutureRev if req.Revision is above the current revision;
// ErrCompacted if it is below the compacted revision; ErrStopped once the
// store is closed. The response's Header.Revision is the current revision,
// whatever revision was read. Count is the number of keys in the range at
// that revision, before the Min/Max filters and Limit; More says the
// filtered, sorted result was cut by Limit. Without a sort order the keys
// come in ascending key order; a SortTarget other than SortByKey with
// SortNone sorts ascending (etcd's rule); equal sort values keep ascending
// key order. The store does not validate req (see RangeRequest.Validate).
//
// Range is safe for concurrent use with everything, including a Batch in
// progress, the flusher and a physical compaction: it sees exactly the state
// after some committed batch, from the overlay of batches not yet flushed
// and one bbolt read transaction.
func (s *Store) Range(req *cairn.RangeRequest) (*cairn.RangeResponse, error) {
	q := newRangeQuery(req)

	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, cairn.ErrStopped
	}
	cur := s.rev
	atRev, err := resolveRev(req.Revision, cur, s.compactRev)
	if err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	buf := hitPool.Get().(*[]hit)
	defer putHits(buf)
	hits, count := s.idx.scan((*buf)[:0], req.Key, req.RangeEnd, atRev, q.collect)
	*buf = hits
	// Records above s.flushed come from the overlay, the others from a bbolt
	// read transaction begun while the index cannot change: it sees every
	// flushed revision, and none the walk returned is physically compacted
	// yet (the compactor removes only revisions the index no longer holds,
	// after we let go).
	rd := recordReader{ownAbove: math.MaxInt64, ov: overlay{flushed: s.flushed, pending: s.pending}}
	var tx *bolt.Tx
	if q.needValues() && rd.needsBolt(hits) {
		tx, err = s.db.Begin(false)
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("store: range: %w", err)
	}
	if tx != nil {
		defer tx.Rollback()
		rd.bucket = tx.Bucket(bucketRevisions)
	}
	return q.finish(hits, count, &rd, cur)
}

// resolveRev applies etcd's rules to a requested revision: above current is
// ErrFutureRev; 0 or negative means current; below the compacted revision
// is ErrCompacted.
func resolveRev(req, cur, compacted int64) (int64, error) {
	if req > cur {
		return 0, cairn.ErrFutureRev
	}
	if req <= 0 {
		req = cur
	}
	if req < compacted {
		return 0, cairn.ErrCompacted
	}
	return req, nil
}

// hit is a key the index walk found visible, with its revision,
// create_revision and version at the revision read. key aliases the index
// (immutable).
type hit struct {
	key     []byte
	rev     revision
	created int64
	ver     int64
	raw     []byte // the record, once read (valid in its transaction)
}

// hitPool recycles the hit buffers of Store.Range.
var hitPool = sync.Pool{New: func() any { b := make([]hit, 0, 16); return &b }}

// putHits returns a buffer to hitPool, dropping its references first.
func putHits(buf *[]hit) {
	if cap(*buf) > 1<<14 {
		return
	}
	clear((*buf)[:cap(*buf)])
	hitPool.Put(buf)
}

// scan walks the range at atRev, appending to hits up to max hits (all if
// max < 0), and returns them with the number of keys visible in the range.
func (ix *index) scan(hits []hit, key, end []byte, atRev int64, max int) ([]hit, int) {
	if len(end) == 0 {
		// One key: no walk, no closure.
		ki := ix.get(key)
		if ki == nil {
			return hits, 0
		}
		rev, created, ver, ok := ki.at(atRev)
		if !ok {
			return hits, 0
		}
		if max != 0 {
			hits = append(hits, hit{key: ki.key, rev: rev, created: created, ver: ver})
		}
		return hits, 1
	}
	count := 0
	ix.visit(key, end, func(ki *keyIndex) bool {
		rev, created, ver, ok := ki.at(atRev)
		if !ok {
			return true
		}
		count++
		if max < 0 || len(hits) < max {
			hits = append(hits, hit{key: ki.key, rev: rev, created: created, ver: ver})
		}
		return true
	})
	return hits, count
}

// rangeQuery is a RangeRequest digested into what the index walk and the
// value reads must do.
type rangeQuery struct {
	req     *cairn.RangeRequest
	order   cairn.SortOrder
	collect int  // hits the walk keeps: -1 all
	filter  bool // a Min/Max revision filter is set
}

func newRangeQuery(req *cairn.RangeRequest) rangeQuery {
	q := rangeQuery{req: req, order: req.SortOrder}
	if req.SortTarget != cairn.SortByKey && q.order == cairn.SortNone {
		q.order = cairn.SortAscend
	}
	q.filter = req.MinModRevision != 0 || req.MaxModRevision != 0 ||
		req.MinCreateRevision != 0 || req.MaxCreateRevision != 0
	switch {
	case req.CountOnly:
		q.collect = 0
	case q.filter || q.sorts() || req.Limit <= 0:
		q.collect = -1
	default:
		q.collect = int(req.Limit)
	}
	return q
}

// sorts reports whether the result needs sorting (ascending keys is the
// index's own order).
func (q *rangeQuery) sorts() bool {
	return q.order != cairn.SortNone && !(q.req.SortTarget == cairn.SortByKey && q.order == cairn.SortAscend)
}

func (q *rangeQuery) needValues() bool { return !q.req.CountOnly }

// finish filters, sorts and limits the hits, reads their records through rd
// and builds the response with header revision cur.
func (q *rangeQuery) finish(hits []hit, count int, rd *recordReader, cur int64) (*cairn.RangeResponse, error) {
	req := q.req
	resp := &cairn.RangeResponse{Header: cairn.ResponseHeader{Revision: cur}, Count: int64(count)}
	if req.CountOnly || len(hits) == 0 {
		return resp, nil
	}
	if q.filter {
		if hits = filterHits(hits, req); len(hits) == 0 {
			return resp, nil
		}
	}
	limit := len(hits)
	if req.Limit > 0 && int64(len(hits)) > req.Limit {
		limit = int(req.Limit)
	}
	if q.collect >= 0 {
		// Unsorted and unfiltered: the walk kept only Limit hits.
		resp.More = int64(count) > req.Limit
	} else {
		resp.More = limit < len(hits)
	}
	byValue := req.SortTarget == cairn.SortByValue && q.sorts()
	if q.sorts() && !byValue {
		sortHits(hits, req.SortTarget, q.order)
	}
	if !byValue {
		hits = hits[:limit]
	}
	kvs, err := readKVs(rd, hits, req.KeysOnly && !byValue)
	if err != nil {
		return nil, err
	}
	if byValue {
		desc := q.order == cairn.SortDescend
		sort.SliceStable(kvs, func(i, j int) bool {
			if desc {
				return bytes.Compare(kvs[j].Value, kvs[i].Value) < 0
			}
			return bytes.Compare(kvs[i].Value, kvs[j].Value) < 0
		})
		kvs = kvs[:limit]
		if req.KeysOnly {
			for _, kv := range kvs {
				kv.Value = nil
			}
		}
	}
	resp.Kvs = kvs
	return resp, nil
}

// filterHits keeps the hits inside the request's Min/Max mod and create
// revision bounds (0: no bound), in place.
func filterHits(hits []hit, req *cairn.RangeRequest) []hit {
	out := hits[:0]
	for _, h := range hits {
		switch {
		case req.MaxModRevision != 0 && h.rev.main > req.MaxModRevision,
			req.MinModRevision != 0 && h.rev.main < req.MinModRevision,
			req.MaxCreateRevision != 0 && h.created > req.MaxCreateRevision,
			req.MinCreateRevision != 0 && h.created < req.MinCreateRevision:
			continue
		}
		out = append(out, h)
	}
	return out
}

// sortHits sorts by a target the index knows (not the value). Ties keep the
// walk's ascending key order in both directions, which is what etcd's
// insertion sort gives for small results.
func sortHits(hits []hit, target cairn.SortTarget, order cairn.SortOrder) {
	if target == cairn.SortByKey {
		if order == cairn.SortDescend {
			for i, j := 0, len(hits)-1; i < j; i, j = i+1, j-1 {
				hits[i], hits[j] = hits[j], hits[i]
			}
		}
		return
	}
	val := func(h *hit) int64 {
		switch target {
		case cairn.SortByVersion:
			return h.ver
		case cairn.SortByCreate:
			return h.created
		default: // SortByMod; Validate rejects unknown targets
			return h.rev.main
		}
	}
	desc := order == cairn.SortDescend
	sort.SliceStable(hits, func(i, j int) bool {
		if desc {
			return val(&hits[j]) < val(&hits[i])
		}
		return val(&hits[i]) < val(&hits[j])
	})
}

// readKVs reads the records of hits through rd into KeyValues owned by the
// caller: one allocation holds every key and value, one every KeyValue.
func readKVs(rd *recordReader, hits []hit, keysOnly bool) ([]*cairn.KeyValue, error) {
	var (
		r     record
		total int
	)
	for i := range hits {
		h := &hits[i]
		v, err := rd.get(h.rev)
		if err != nil {
			return nil, fmt.Errorf("%w (key %q)", err, h.key)
		}
		if err := decodeRecord(v, &r); err != nil {
			return nil, fmt.Errorf("store: revision %v: %w", h.rev, err)
		}
		if r.tombstone || r.modRevision != h.rev.main {
			return nil, fmt.Errorf("store: revision %v of key %q does not match the index", h.rev, h.key)
		}
		h.raw = v
		total += len(r.key)
		if !keysOnly {
			total += len(r.value)
		}
	}
	arena := make([]byte, total)
	kvs := make([]cairn.KeyValue, len(hits))
	out := make([]*cairn.KeyValue, len(hits))
	for i := range hits {
		decodeRecord(hits[i].raw, &r) // checked above
		kv := &kvs[i]
		n := copy(arena, r.key)
		kv.Key, arena = arena[:n:n], arena[n:]
		if !keysOnly && len(r.value) > 0 {
			n = copy(arena, r.value)
			kv.Value, arena = arena[:n:n], arena[n:]
		}
		kv.CreateRevision = r.createRevision
		kv.ModRevision = r.modRevision
		kv.Version = r.version
		kv.Lease = r.lease
		kv.Dir = r.dir
		kv.Action = r.action
		out[i] = kv
	}
	return out, nil
}

// Range reads inside the batch, as Store.Range, but sees the batch's own
// writes: the current revision is the batch's (Batch.Rev), and a compaction
// earlier in the batch already applies.
func (b *Batch) Range(req *cairn.RangeRequest) (*cairn.RangeResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	return b.rangeAt(req, b.rev)
}

// rangeAt reads inside the batch with cur as the current revision.
func (b *Batch) rangeAt(req *cairn.RangeRequest, cur int64) (*cairn.RangeResponse, error) {
	atRev, err := resolveRev(req.Revision, cur, b.compactRev)
	if err != nil {
		return nil, err
	}
	q := newRangeQuery(req)
	hits, count := b.s.idx.scan(nil, req.Key, req.RangeEnd, atRev, q.collect)
	rd := b.reader()
	return q.finish(hits, count, &rd, cur)
}
