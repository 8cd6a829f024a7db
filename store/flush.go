package store

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// flusher is the background goroutine that writes committed batches to bbolt
// (doc.go, "Commit and flush"): everything pending (records and staged
// writes) in one bbolt write transaction together with the consistent index
// of the newest batch it covers and the newest compaction among them, then
// drops those batches from the overlay.
//
// It flushes when Options.FlushInterval has passed since it found something
// pending, at once when asked (Flush, a Commit over the limits, a committed
// compaction, a tenth of either limit pending) and a last time at Close.
// Batches committed while a flush runs wait for the next one, so flushes
// grow with the load.
type flusher struct {
	s        *Store
	interval time.Duration
	manual   bool                    // tests: flush only when a flush is waited for
	hook     func(batches int) error // tests: runs inside each flush transaction

	wake   chan struct{} // a batch arrived in an empty overlay
	urge   chan struct{} // flush now
	stop   chan struct{} // closed by shutdown
	exited chan struct{}

	mu         sync.Mutex
	flushedSeq uint64        // newest batch in bbolt
	err        error         // sticky: the flush that failed
	round      chan struct{} // closed after each flush attempt, then replaced
	final      bool          // flush everything before exiting
	stopping   bool
}

func newFlusher(s *Store) *flusher {
	f := &flusher{
		s:        s,
		interval: s.opts.FlushInterval,
		wake:     make(chan struct{}, 1),
		urge:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
		round:    make(chan struct{}),
	}
	if h := s.opts.hooks; h != nil {
		f.manual = h.manualFlush
		f.hook = h.duringFlush
	}
	return f
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// committed tells the flusher about a new batch: wasEmpty if the overlay held
// nothing before it, hurry if it should not wait for the interval.
func (f *flusher) committed(wasEmpty, hurry bool) {
	if f.manual {
		return
	}
	if hurry {
		signal(f.urge)
	} else if wasEmpty {
		signal(f.wake)
	}
}

func (f *flusher) run() {
	defer close(f.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		// Wait for something to flush (after a failure: for the end).
		urgent := false
		for !urgent && (f.manual || f.s.pendBatches.Load() == 0 || f.failed() != nil) {
			select {
			case <-f.stop:
				f.exit()
				return
			case <-f.urge:
				urgent = true
			case <-f.wake:
			}
		}
		// Let more pile up, unless hurried.
		if !urgent {
			timer.Reset(f.interval)
			select {
			case <-f.stop:
				timer.Stop()
				f.exit()
				return
			case <-f.urge:
				timer.Stop()
			case <-timer.C:
			}
		}
		f.flush()
	}
}

// exit makes the last flush if shutdown asked for it.
func (f *flusher) exit() {
	f.mu.Lock()
	final := f.final
	f.mu.Unlock()
	if final {
		f.flush()
	}
}

// flush writes every pending batch in one bbolt transaction. After a failure
// it does nothing: the error is sticky.
func (f *flusher) flush() {
	s := f.s
	f.mu.Lock()
	failed := f.err != nil
	f.mu.Unlock()
	if failed {
		return
	}
	s.mu.RLock()
	batches := s.pending
	s.mu.RUnlock()
	if len(batches) == 0 {
		f.finishRound(0, nil)
		return
	}

	last := batches[len(batches)-1]
	n := 0
	compacted, compactRev := false, int64(0)
	for _, b := range batches {
		n += len(b.recs)
		if b.compacted {
			compacted, compactRev = true, b.compactRev // the newest wins
		}
	}
	keys := make([]byte, n*revKeyLen) // bbolt keeps keys until the commit
	err := s.update(func(tx *bolt.Tx) error {
		revs := tx.Bucket(bucketRevisions)
		// Revision keys only grow: pack pages fuller than bbolt's 50%.
		revs.FillPercent = 0.9
		k := keys
		for _, b := range batches {
			for i := range b.recs {
				r := &b.recs[i]
				putRevKey(k[:revKeyLen], r.rev)
				if err := revs.Put(k[:revKeyLen:revKeyLen], r.data); err != nil {
					return err
				}
				k = k[revKeyLen:]
			}
		}
		for _, b := range batches {
			for _, w := range b.writes {
				bk := tx.Bucket(w.bucket)
				if bk == nil {
					return fmt.Errorf("no bucket %q", w.bucket)
				}
				var err error
				if w.value == nil {
					err = bk.Delete(w.key)
				} else {
					err = bk.Put(w.key, w.value)
				}
				if err != nil {
					return fmt.Errorf("bucket %q: %w", w.bucket, err)
				}
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(metaConsistentIndex, putU64(last.ci)); err != nil {
			return err
		}
		if compacted {
			if err := meta.Put(metaScheduledCompactRev, putU64(uint64(compactRev))); err != nil {
				return err
			}
		}
		if f.hook != nil {
			return f.hook(len(batches))
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("store: flush to bbolt: %w", err)
		s.log.Error("store: flush failed; the store takes no more batches", "err", err,
			"consistent_index", last.ci, "durable_index", s.durable.Load())
		s.batchMu.Lock()
		if s.broken == nil {
			s.broken = err
		}
		s.batchMu.Unlock()
		f.finishRound(0, err)
		return
	}

	s.noteSize()
	var recs, bytes int64
	for _, b := range batches {
		recs += int64(len(b.recs))
		bytes += b.bytes
	}
	s.mu.Lock()
	s.flushed = last.rev
	// A fresh slice: readers may still hold views of the old one.
	s.pending = slices.Clone(s.pending[len(batches):])
	s.pendBatches.Add(-int64(len(batches)))
	s.pendRecs.Add(-recs)
	s.pendBytes.Add(-bytes)
	s.mu.Unlock()
	s.durable.Store(last.ci)
	f.finishRound(last.seq, nil)
	if compacted {
		// The compaction is in bbolt now: its removal may start.
		s.durableCompact.Store(compactRev)
		s.comp.poke()
	}
}

// finishRound records the outcome of a flush attempt and wakes its waiters.
func (f *flusher) finishRound(seq uint64, err error) {
	f.mu.Lock()
	if seq > f.flushedSeq {
		f.flushedSeq = seq
	}
	if err != nil && f.err == nil {
		f.err = err
	}
	close(f.round)
	f.round = make(chan struct{})
	f.mu.Unlock()
}

// waitFlushed waits until the batch numbered seq is in bbolt (asking for a
// flush), and returns the sticky flush error if a flush failed first, or
// ErrStopped if the flusher stopped before.
func (f *flusher) waitFlushed(seq uint64) error {
	for {
		f.mu.Lock()
		switch {
		case f.flushedSeq >= seq:
			f.mu.Unlock()
			return nil
		case f.err != nil:
			err := f.err
			f.mu.Unlock()
			return err
		}
		ch := f.round
		f.mu.Unlock()
		signal(f.urge)
		select {
		case <-ch:
		case <-f.exited:
			f.mu.Lock()
			done, err := f.flushedSeq >= seq, f.err
			f.mu.Unlock()
			switch {
			case done:
				return nil
			case err != nil:
				return err
			}
			return cairn.ErrStopped
		}
	}
}

// failed returns the sticky flush error, if any.
func (f *flusher) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// shutdown stops the flusher, after a last flush of everything pending if
// final, and returns the sticky flush error. It is idempotent.
func (f *flusher) shutdown(final bool) error {
	f.mu.Lock()
	if !f.stopping {
		f.stopping = true
		f.final = final
		close(f.stop)
	}
	f.mu.Unlock()
	<-f.exited
	return f.failed()
}
