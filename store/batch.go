package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Batch is the unit of apply: every operation from Begin to Commit shares
// one bbolt write transaction, and Commit makes all of them durable and
// visible at once. Each write request in the batch (Put, a DeleteRange that
// deletes something, a Txn that changes something) gets the next main
// revision; requests that change nothing keep the revision.
//
// A Batch is used by one goroutine (the server's applier). Operations read
// the batch's own state, earlier requests of the batch included. A request
// that fails changes nothing. An error that is not one of the package's
// sentinels (a bbolt failure) breaks the batch: every later call returns it
// and the store takes no more batches; close it and replay.
type Batch struct {
	s          *Store
	tx         *bolt.Tx
	revs       *bolt.Bucket
	meta       *bolt.Bucket
	rev        int64 // the store revision as the batch sees it
	compactRev int64 // the compacted revision, a pending compaction included
	compacted  bool  // Compact succeeded in this batch
	events     []Event
	emit       bool  // record events (Options.OnCommit is set)
	err        error // sticky: set once the batch cannot go on
	finished   bool
}

// Begin starts a batch. It waits while a chunk of background compaction
// holds bbolt's writer lock (chunks are bounded). Only one batch may be open
// at a time; a second Begin, a Begin on a closed store, or one after a
// failed Commit returns a batch whose every call fails (ErrStopped, or the
// error that broke the store).
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
	tx, err := s.db.Begin(true)
	if err != nil {
		b.err = fmt.Errorf("store: begin: %w", err)
		return b
	}
	b.tx = tx
	b.revs = tx.Bucket(bucketRevisions)
	b.meta = tx.Bucket(bucketMeta)
	// Revision keys only grow: pack pages fuller than bbolt's default 50%.
	b.revs.FillPercent = 0.9
	s.mu.RLock()
	b.rev, b.compactRev = s.rev, s.compactRev
	s.mu.RUnlock()
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

// fail makes err sticky, rolls the bbolt transaction back and marks the
// store broken: its index may hold revisions that will never commit.
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

// abandonLocked rolls back b's transaction. Callers hold s.batchMu.
func (b *Batch) abandonLocked(err error) {
	if b.err == nil {
		b.err = err
	}
	if b.tx != nil {
		_ = b.tx.Rollback()
		b.tx = nil
	}
	if b.s.batch == b {
		b.s.batch = nil
	}
}

// Abort abandons the batch without committing it. Because the batch's
// changes are already in the key index (invisible to readers), the store
// takes no more batches afterwards: close it and replay from the last
// committed consistent index.
func (b *Batch) Abort() {
	if b.finished || b.tx == nil {
		return
	}
	b.fail(errors.New("store: batch aborted"))
}

// Commit writes every change of the batch and consistentIndex (the raft
// index of the last entry applied in it) in one fsynced bbolt transaction,
// then makes the batch visible to Store.Range, compacts the key index if the
// batch compacted, starts the physical removal, and calls Options.OnCommit.
// If Commit fails, nothing of the batch is visible and the store takes no
// more batches: close it; the server must crash and replay.
func (b *Batch) Commit(consistentIndex uint64) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := b.meta.Put(metaConsistentIndex, putU64(consistentIndex)); err != nil {
		return b.fail(fmt.Errorf("store: commit: %w", err))
	}
	if err := b.tx.Commit(); err != nil {
		b.tx = nil // bbolt rolled it back
		return b.fail(fmt.Errorf("store: commit: %w", err))
	}
	b.tx = nil
	b.finished = true
	s := b.s

	s.mu.Lock()
	s.publishLocked(b.rev, b.compactRev)
	s.mu.Unlock()
	s.ci.Store(consistentIndex)

	s.batchMu.Lock()
	s.batch = nil
	s.batchMu.Unlock()

	if b.compacted {
		s.compactIndex(b.compactRev)
		s.comp.schedule(b.compactRev)
	}
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

func (b *Batch) beginWrite() *write { return &write{b: b, main: b.rev + 1} }

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
// are valid until the batch ends.
func (b *Batch) readRecord(rev revision, r *record) error {
	var k [revKeyLen]byte
	putRevKey(k[:], rev)
	v := b.revs.Get(k[:])
	if v == nil {
		return fmt.Errorf("store: revision %v is missing from bbolt", rev)
	}
	if err := decodeRecord(v, r); err != nil {
		return fmt.Errorf("store: revision %v: %w", rev, err)
	}
	return nil
}

// kvOf returns a caller-owned KeyValue of a decoded put record.
func kvOf(r *record) *KeyValue {
	buf := make([]byte, len(r.key)+len(r.value))
	n := copy(buf, r.key)
	copy(buf[n:], r.value)
	kv := &KeyValue{
		Key:            buf[:n:n],
		CreateRevision: r.createRevision,
		ModRevision:    r.modRevision,
		Version:        r.version,
		Lease:          r.lease,
	}
	if len(r.value) > 0 {
		kv.Value = buf[n:]
	}
	return kv
}
