package store

import (
	"errors"
	"fmt"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// Batch is the unit of apply: every operation from Begin to Commit lands in
// the batch's own records, and Commit makes all of them visible at once and
// hands them to the background flusher, which writes them to bbolt (doc.go,
// "Commit and flush"). Each write request in the batch (Put, a DeleteRange
// that deletes something, a Txn that changes something) gets the next main
// revision; requests that change nothing keep the revision.
//
// A Batch is used by one goroutine (the server's applier). Operations read
// the batch's own state, earlier requests of the batch included. A request
// that fails changes nothing. An error that is not one of the package's
// sentinels (a bbolt failure) breaks the batch: every later call returns it
// and the store takes no more batches; close it and replay.
type Batch struct {
	s          *Store
	base       int64         // the committed revision at Begin
	rev        int64         // the store revision as the batch sees it
	compactRev int64         // the compacted revision, a pending compaction included
	compacted  bool          // Compact succeeded in this batch
	recs       []pendingRec  // the batch's records (revisions above base), ascending
	writes     []bucketWrite // writes to other buckets (stageWrite)
	recBytes   int64         // size of recs and writes, as flushBatch.bytes counts it
	ov         overlay       // the unflushed batches as of Begin
	tx         *bolt.Tx      // read transaction for flushed records, begun on need
	events     []cairn.Event
	emit       bool  // record events (Options.OnCommit is set)
	err        error // sticky: set once the batch cannot go on
	finished   bool
}

// Begin starts a batch. It does not touch bbolt. Only one batch may be open
// at a time; a second Begin, a Begin on a closed store, or one after a
// failed Commit or a failed flush returns a batch whose every call fails
// (ErrStopped, or the error that broke the store).
func (s *Store) Begin() *Batch {
	b := &Batch{s: s, emit: s.opts.OnCommit != nil}
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	switch {
	case s.broken != nil:
		b.err = s.broken
		return b
	case s.batch != nil:
		b.err = errors.New("store: a batch is already open")
		return b
	}
	s.mu.RLock()
	b.base, b.compactRev = s.rev, s.compactRev
	b.ov = overlay{flushed: s.flushed, pending: s.pending}
	s.mu.RUnlock()
	b.rev = b.base
	s.batch = b
	return b
}

// usable returns the error that stops b, if any.
func (b *Batch) usable() error {
	if b.err != nil {
		return b.err
	}
	if b.finished {
		return errors.New("store: batch already committed")
	}
	return nil
}

// fail makes err sticky, ends the batch and marks the store broken: its
// index may hold revisions that will never commit.
func (b *Batch) fail(err error) error {
	b.s.batchMu.Lock()
	b.abandonLocked(err)
	if b.s.broken == nil {
		b.s.broken = err
	}
	b.s.batchMu.Unlock()
	b.s.log.Error("store: batch failed; the store takes no more writes", "err", err)
	return err
}

// abandonLocked ends b without committing it. Callers hold s.batchMu.
func (b *Batch) abandonLocked(err error) {
	if b.err == nil {
		b.err = err
	}
	b.dropTx()
	b.recs, b.writes = nil, nil
	if b.s.batch == b {
		b.s.batch = nil
	}
}

// readTx returns the batch's bbolt read transaction, beginning it if needed.
// Any transaction begun after Begin sees every revision at or below
// b.ov.flushed, and the physical compaction never removes a revision the
// index holds, which are the only ones the batch reads.
func (b *Batch) readTx() (*bolt.Tx, error) {
	if b.tx == nil {
		tx, err := b.s.db.Begin(false)
		if err != nil {
			return nil, fmt.Errorf("store: begin read: %w", err)
		}
		b.tx = tx
	}
	return b.tx, nil
}

// dropTx ends the batch's read transaction. It must run before the batch
// waits for s.mu or for the flusher: a bbolt remap in the flusher or the
// compactor waits for every read transaction, and readers holding s.mu
// shared may be waiting for that remap. Records read from bbolt are invalid
// afterwards.
func (b *Batch) dropTx() {
	if b.tx != nil {
		_ = b.tx.Rollback()
		b.tx = nil
	}
}

// lockIndex takes the index lock for a mutation, after dropTx.
func (b *Batch) lockIndex() {
	b.dropTx()
	b.s.mu.Lock()
}

// addRecord appends the record of rev to the batch.
func (b *Batch) addRecord(rev revision, r *record) {
	data := encodeRecord(r)
	b.recs = append(b.recs, pendingRec{rev: rev, data: data})
	b.recBytes += int64(len(data)) + recOverhead
}

// stageWrite adds to the batch a write of key = value in bucket, or a delete
// of key when value is nil, for state kept outside the revisions bucket (the
// leases, say). The flusher applies the batch's writes in the order staged,
// in the same bbolt transaction as the batch's records and consistent index,
// so after a crash bbolt has them exactly when it has the batch. The bucket
// must exist (load creates the store's buckets). The batch keeps key and
// value: do not modify them afterwards. Reads never see staged writes: keep
// that state in memory too.
func (b *Batch) stageWrite(bucket, key, value []byte) {
	b.writes = append(b.writes, bucketWrite{bucket: bucket, key: key, value: value})
	b.recBytes += int64(len(key)+len(value)) + recOverhead
}

// reader returns a recordReader over the batch's records, the overlay as of
// Begin and bbolt.
func (b *Batch) reader() recordReader {
	return recordReader{own: b.recs, ownAbove: b.base, ov: b.ov, batch: b}
}

// Abort abandons the batch without committing it. Because the batch's
// changes are already in the key index (invisible to readers), the store
// takes no more batches afterwards: close it and replay from the last
// committed consistent index. Close still writes the batches committed
// before.
func (b *Batch) Abort() {
	if b.finished || b.err != nil {
		return
	}
	b.fail(errors.New("store: batch aborted"))
}

// Commit makes every change of the batch visible to Store.Range at once,
// together with consistentIndex (the raft index of the last entry applied in
// it, which ConsistentIndex then returns), compacts the key index if the
// batch compacted, calls Options.OnCommit, and hands the batch to the
// background flusher. It does not wait for bbolt: DurableIndex reaches
// consistentIndex when the flusher has written the batch (Flush waits for
// that).
//
// Commit blocks first while the batches not yet flushed are over
// Options.MaxPendingBytes or Options.MaxPendingRecords, until a flush frees
// room. If a flush failed, Commit returns that error (it is sticky: the
// store takes no more batches). If Commit fails, nothing of the batch is
// visible and the store takes no more batches: close it; the server must
// stop and replay its raft log from DurableIndex.
func (b *Batch) Commit(consistentIndex uint64) error {
	if err := b.usable(); err != nil {
		return err
	}
	b.dropTx()
	s := b.s
	if s.pendRecs.Load() > s.opts.MaxPendingRecords || s.pendBytes.Load() > s.opts.MaxPendingBytes {
		s.mu.RLock()
		seq := s.seq
		s.mu.RUnlock()
		if err := s.fl.waitFlushed(seq); err != nil {
			return b.fail(err)
		}
	}
	s.batchMu.Lock()
	err := s.broken
	if err == nil {
		err = b.err // abandoned by Close while waiting
	}
	s.batchMu.Unlock()
	if err != nil {
		return b.fail(err)
	}

	fb := &flushBatch{
		ci:         consistentIndex,
		rev:        b.rev,
		recs:       b.recs,
		writes:     b.writes,
		bytes:      b.recBytes,
		compacted:  b.compacted,
		compactRev: b.compactRev,
	}
	s.mu.Lock()
	s.publishLocked(b.rev, b.compactRev)
	wasEmpty := len(s.pending) == 0
	s.seq++
	fb.seq = s.seq
	s.pending = append(s.pending, fb)
	s.pendBatches.Add(1)
	recs := s.pendRecs.Add(int64(len(fb.recs)))
	bytes := s.pendBytes.Add(fb.bytes)
	s.mu.Unlock()
	s.ci.Store(consistentIndex)
	b.finished = true
	b.recs, b.writes = nil, nil

	s.batchMu.Lock()
	if s.batch == b {
		s.batch = nil
	}
	s.batchMu.Unlock()

	if b.compacted {
		s.compactIndex(b.compactRev)
		s.comp.schedule(b.compactRev)
	}
	s.fl.committed(wasEmpty, b.compacted || recs >= s.opts.MaxPendingRecords/10 || bytes >= s.opts.MaxPendingBytes/10)
	if s.opts.OnCommit != nil && len(b.events) > 0 {
		s.opts.OnCommit(b.rev, b.events)
	}
	return nil
}

// Rev returns the revision as the batch sees it: the store's committed
// revision plus the batch's write requests so far.
func (b *Batch) Rev() int64 { return b.rev }

// write is one write request in progress: its changes get main revision
// main and sub revisions 0, 1, 2...
type write struct {
	b    *Batch
	main int64
	sub  int64
}

func (b *Batch) beginWrite() write { return write{b: b, main: b.rev + 1} }

// visibleRev is the revision reads inside the request see: the request's
// own revision once it changed something.
func (w *write) visibleRev() int64 {
	if w.sub > 0 {
		return w.main
	}
	return w.b.rev
}

// end closes the request, bumping the batch revision if it changed
// anything, and returns the revision of its response header.
func (w *write) end() int64 {
	if w.sub > 0 {
		w.b.rev = w.main
	}
	return w.b.rev
}

// readRecord reads the record of rev inside the batch; the record's slices
// are valid until the batch's read transaction ends (dropTx).
func (b *Batch) readRecord(rev revision, r *record) error {
	rd := b.reader()
	v, err := rd.get(rev)
	if err != nil {
		return err
	}
	if err := decodeRecord(v, r); err != nil {
		return fmt.Errorf("store: revision %v: %w", rev, err)
	}
	return nil
}

// kvOf returns a caller-owned KeyValue of a decoded put record.
func kvOf(r *record) *cairn.KeyValue {
	buf := make([]byte, len(r.key)+len(r.value))
	n := copy(buf, r.key)
	copy(buf[n:], r.value)
	kv := &cairn.KeyValue{
		Key:            buf[:n:n],
		CreateRevision: r.createRevision,
		ModRevision:    r.modRevision,
		Version:        r.version,
		Lease:          r.lease,
		Dir:            r.dir,
		Action:         r.action,
	}
	if len(r.value) > 0 {
		kv.Value = buf[n:]
	}
	return kv
}
