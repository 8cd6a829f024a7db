package store

import (
	"bytes"
	"fmt"
	"math"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// The overlay: records of committed batches that the flusher has not yet
// written to bbolt (flush.go). doc.go ("Commit and flush") tells the story;
// this file finds a record wherever it is.

// pendingRec is one encoded revision record (layout.go) that is not in
// bbolt yet. data is never modified once the record exists, so a reader may
// keep it after the flusher dropped it from the overlay.
type pendingRec struct {
	rev  revision
	data []byte
}

// recOverhead is what one pendingRec costs besides its data, counted against
// Options.MaxPendingBytes.
const recOverhead = 64

// bucketWrite is one write of a batch outside the revisions bucket (the
// leases', say), staged with Batch.stageWrite.
type bucketWrite struct {
	bucket []byte
	key    []byte
	value  []byte // nil: delete key
}

// flushBatch is one committed batch waiting for the flusher. It is never
// modified once committed.
type flushBatch struct {
	seq        uint64        // commit sequence number, 1, 2...
	ci         uint64        // the batch's consistent index
	rev        int64         // store revision after the batch
	recs       []pendingRec  // its records, ascending revisions
	writes     []bucketWrite // its other writes, in order
	bytes      int64         // len of every data, key and value plus recOverhead each
	compacted  bool          // the batch compacted...
	compactRev int64         // ...at this revision
}

// overlay is a reader's view of the unflushed batches: every revision above
// flushed is in pending, every one at or below it in bbolt (for any bbolt
// transaction begun after the view was taken). Views are taken under s.mu.
type overlay struct {
	flushed int64
	pending []*flushBatch // ascending seq, and so ascending revisions
}

// get returns the record of rev (rev.main > o.flushed), or nil.
func (o *overlay) get(rev revision) []byte {
	// The batch holding main revision m is the first whose rev >= m: the
	// batch before it ends below m. A batch that wrote nothing has the rev of
	// the one before it, so it is never the first.
	p := o.pending
	lo, hi := 0, len(p)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p[m].rev < rev.main {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(p) {
		return nil
	}
	return findRec(p[lo].recs, rev)
}

// findRec returns the data of rev in recs (ascending), or nil.
func findRec(recs []pendingRec, rev revision) []byte {
	lo, hi := 0, len(recs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if recs[m].rev.less(rev) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(recs) && recs[lo].rev == rev {
		return recs[lo].data
	}
	return nil
}

// recordReader finds the encoded record of a revision: among a batch's own
// records (above ownAbove), in the overlay (above ov.flushed), or in bbolt.
// Records from bbolt are valid until the bbolt transaction ends; the others
// for ever.
type recordReader struct {
	own      []pendingRec
	ownAbove int64
	ov       overlay

	// bucket is the revisions bucket of a read transaction begun after ov
	// was taken. If it is nil and batch is set, the batch's read transaction
	// is begun on the first need.
	bucket *bolt.Bucket
	batch  *Batch

	cur    bolt.Cursor // a value, so a reader on the stack keeps it there
	curSet bool
	last   revision // the revision cur is at
}

// needsBolt reports whether any hit is at or below ov.flushed.
func (rd *recordReader) needsBolt(hits []hit) bool {
	for i := range hits {
		if hits[i].rev.main <= rd.ov.flushed {
			return true
		}
	}
	return false
}

// get returns the encoded record of rev.
func (rd *recordReader) get(rev revision) ([]byte, error) {
	var v []byte
	switch {
	case rev.main > rd.ownAbove:
		v = findRec(rd.own, rev)
	case rev.main > rd.ov.flushed:
		v = rd.ov.get(rev)
	default:
		return rd.fromBolt(rev)
	}
	if v == nil {
		return nil, fmt.Errorf("store: revision %v is missing from memory", rev)
	}
	return v, nil
}

// fromBolt reads rev through one cursor: bbolt's Bucket.Get makes a cursor
// per call, and records read together often sit together, so the next
// record is tried before a descent from the root.
func (rd *recordReader) fromBolt(rev revision) ([]byte, error) {
	if rd.bucket == nil {
		if rd.batch == nil {
			return nil, fmt.Errorf("store: revision %v: no bbolt transaction", rev)
		}
		tx, err := rd.batch.readTx()
		if err != nil {
			return nil, err
		}
		rd.bucket = tx.Bucket(bucketRevisions)
	}
	var k [revKeyLen]byte
	putRevKey(k[:], rev)
	var fk, v []byte
	if !rd.curSet {
		rd.cur, rd.curSet = *rd.bucket.Cursor(), true
	} else if rd.last.less(rev) {
		fk, v = rd.cur.Next()
	}
	if !bytes.Equal(fk, k[:]) {
		fk, v = rd.cur.Seek(k[:])
	}
	rd.last = rev
	if !bytes.Equal(fk, k[:]) {
		return nil, fmt.Errorf("store: revision %v is missing from bbolt", rev)
	}
	return v, nil
}

// historyView is a consistent view of every record the store holds at one
// committed revision, for reads of history by revision (the watch hub's
// catch-up): the records above the flushed revision come from the overlay,
// the others from one bbolt read transaction begun under the index lock, so
// neither the flusher nor the physical compaction can take a record away
// from it. Records at or below compactRev may be gone (compaction removes
// them in the background). End it with release; until then do not wait for
// s.mu or the flusher (doc.go, "Concurrency": a long-lived view also delays
// a bbolt remap).
type historyView struct {
	rev        int64 // the current revision when the view was taken
	compactRev int64 // the compacted revision then (-1: never)
	rd         recordReader
	tx         *bolt.Tx
}

// viewHistory takes a historyView, or fails with ErrStopped once the store
// is closed.
func (s *Store) viewHistory() (*historyView, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, cairn.ErrStopped
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	v := &historyView{rev: s.rev, compactRev: s.compactRev, tx: tx}
	v.rd = recordReader{ownAbove: math.MaxInt64, ov: overlay{flushed: s.flushed, pending: s.pending},
		bucket: tx.Bucket(bucketRevisions)}
	return v, nil
}

// release ends the view's bbolt transaction. Records read from the view are
// invalid afterwards (copy what you keep).
func (v *historyView) release() {
	if v.tx != nil {
		_ = v.tx.Rollback()
		v.tx = nil
	}
}

// get returns the encoded record of rev (layout.go; decodeRecord).
func (v *historyView) get(rev revision) ([]byte, error) { return v.rd.get(rev) }

// scan calls fn with every record whose main revision is in [from, to]
// (to is capped at v.rev), in revision order, until fn returns false. It
// fails with ErrCompacted if from is below the compacted revision.
func (v *historyView) scan(from, to int64, fn func(rev revision, data []byte) bool) error {
	if from < v.compactRev {
		return cairn.ErrCompacted
	}
	to = min(to, v.rev)
	if from > to {
		return nil
	}
	if flushed := v.rd.ov.flushed; from <= flushed {
		var k [revKeyLen]byte
		putRevKey(k[:], revision{main: from})
		c := v.rd.bucket.Cursor()
		for key, data := c.Seek(k[:]); key != nil; key, data = c.Next() {
			rev, err := parseRevKey(key)
			if err != nil {
				return err
			}
			if rev.main > to || rev.main > flushed {
				break
			}
			if !fn(rev, data) {
				return nil
			}
		}
	}
	for _, b := range v.rd.ov.pending {
		if b.rev < from {
			continue
		}
		for _, r := range b.recs {
			if r.rev.main < from {
				continue
			}
			if r.rev.main > to {
				return nil
			}
			if !fn(r.rev, r.data) {
				return nil
			}
		}
	}
	return nil
}
