package store

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/internal/logattr"
	bolt "go.etcd.io/bbolt"
)

// Compact compacts the history below req.Revision, as etcd's Compact.
//
// Within the batch the compaction applies at once: later reads below
// req.Revision fail with ErrCompacted. At Commit the key index drops the
// history no read at or above req.Revision can see (doc.go) and the flusher
// is asked to write the batch at once. Once the compaction is in bbolt, a
// background goroutine removes those revisions from bbolt in chunks of
// Options.CompactionBatchLimit, one bbolt transaction each; an interrupted
// removal resumes at the next Open. Reads at or above the compacted revision
// are never disturbed by it.
//
// done is closed when the physical removal has finished; it cannot close
// before Commit, so do not wait on it inside the batch. It is also closed
// when the store closes first. The compaction does not change the revision:
// the response's Header.Revision is the current one.
//
// Errors: ErrCompacted if req.Revision is not above the compacted revision
// (done then closes when the compactions already scheduled are physically
// done, as etcd's barrier); ErrFutureRev if it is above the current
// revision (done is nil). A new store has never been compacted, so
// compacting at 0 succeeds once, as etcd.
func (b *Batch) Compact(req *cairn.CompactionRequest) (resp *cairn.CompactionResponse, done <-chan struct{}, err error) {
	if err := b.usable(); err != nil {
		return nil, nil, err
	}
	rev := req.Revision
	if rev <= b.compactRev {
		return nil, b.s.comp.wait(b.compactRev), cairn.ErrCompacted
	}
	if rev > b.rev {
		return nil, nil, cairn.ErrFutureRev
	}
	b.compactRev, b.compacted = rev, true
	return &cairn.CompactionResponse{Header: cairn.ResponseHeader{Revision: b.rev}}, b.s.comp.wait(rev), nil
}

// compactor removes compacted revisions from bbolt in the background.
//
// It starts on a target only once the flusher has written the batch that
// compacted, and so every record at or below the target: a record still in
// the overlay could otherwise reach bbolt after the removal passed it and
// stay there, and a crash could leave bbolt with records removed by a
// compaction its meta does not know of. The flusher pokes it after each
// flush that carried a compaction.
//
// A revision at or below the target compaction revision is removed when the
// key index no longer holds it. This is safe for every reader: a Range holds
// the index lock from before its index walk until its bbolt read transaction
// has begun, so it either walked the index before the compaction (and reads
// a bbolt snapshot from before any removal) or after it (and needs only
// revisions the index still holds).
type compactor struct {
	s     *Store
	limit int
	hooks *testHooks

	mu       sync.Mutex
	target   int64 // newest committed compaction revision
	finished int64 // newest compaction revision physically done
	waiters  []compactWaiter
	stopped  bool

	wake   chan struct{}
	stop   chan struct{}
	exited chan struct{}
}

type compactWaiter struct {
	rev int64
	ch  chan struct{}
}

func newCompactor(s *Store, scheduled, finished int64) *compactor {
	c := &compactor{
		s:        s,
		limit:    s.opts.CompactionBatchLimit,
		hooks:    s.opts.hooks,
		target:   scheduled,
		finished: min(finished, scheduled),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	if c.finished < c.target {
		c.wake <- struct{}{}
	}
	return c
}

// wait returns a channel closed once the compaction at rev is physically
// done (at once if it is).
func (c *compactor) wait(rev int64) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || c.finished >= rev {
		close(ch)
		return ch
	}
	c.waiters = append(c.waiters, compactWaiter{rev: rev, ch: ch})
	return ch
}

// schedule asks for the physical removal of a committed compaction at rev.
func (c *compactor) schedule(rev int64) {
	c.mu.Lock()
	if rev > c.target {
		c.target = rev
	}
	c.mu.Unlock()
	c.poke()
}

// poke wakes the goroutine to look at its target again.
func (c *compactor) poke() { signal(c.wake) }

// shutdown stops the goroutine at a chunk boundary, waits for it and closes
// every waiter.
func (c *compactor) shutdown() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	c.mu.Unlock()
	close(c.stop)
	<-c.exited
	c.mu.Lock()
	ws := c.waiters
	c.waiters = nil
	c.mu.Unlock()
	for _, w := range ws {
		close(w.ch)
	}
}

type removeOutcome int

const (
	removeDone removeOutcome = iota
	removeSuperseded
	removeStopped
	removeFailed
)

func (c *compactor) run() {
	defer close(c.exited)
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
	jobs:
		for {
			c.mu.Lock()
			t, fin := c.target, c.finished
			c.mu.Unlock()
			if t <= fin || t > c.s.durableCompact.Load() {
				break // nothing to do, or wait for the flusher's poke
			}
			switch c.remove(t) {
			case removeStopped:
				return
			case removeFailed:
				// Retried at the next compaction or the next Open.
				break jobs
			}
		}
	}
}

// remove deletes, chunk by chunk, every revision at or below t that the
// index no longer holds, then records t as finished.
func (c *compactor) remove(t int64) removeOutcome {
	start := time.Now()
	var (
		from    []byte // bucket key to resume at; nil: the first
		removed int
		chunks  int
	)
	for {
		select {
		case <-c.stop:
			return removeStopped
		default:
		}
		c.mu.Lock()
		newer := c.target > t
		c.mu.Unlock()
		if newer {
			return removeSuperseded
		}
		var (
			n    int
			last bool
		)
		err := c.s.update(func(tx *bolt.Tx) error {
			var dead [][]byte
			var err error
			dead, from, last, err = c.scanChunk(tx.Bucket(bucketRevisions), from, t)
			if err != nil {
				return err
			}
			b := tx.Bucket(bucketRevisions)
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n = len(dead)
			if last {
				return tx.Bucket(bucketMeta).Put(metaFinishedCompactRev, putU64(uint64(t)))
			}
			return nil
		})
		if err != nil {
			c.s.log.Error("store: physical compaction failed", "compact_revision", t, "err", err)
			return removeFailed
		}
		c.s.noteSize()
		removed += n
		chunks++
		if h := c.hooks; h != nil && h.afterCompactChunk != nil && !h.afterCompactChunk(chunks) {
			return removeStopped
		}
		if last {
			break
		}
	}
	c.mu.Lock()
	if t > c.finished {
		c.finished = t
	}
	var ready []compactWaiter
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.rev <= c.finished {
			ready = append(ready, w)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	c.mu.Unlock()
	for _, w := range ready {
		close(w.ch)
	}
	c.s.log.Info("store: compaction finished", "compact_revision", t, "removed", removed,
		"chunks", chunks, logattr.TookMS(start))
	return removeDone
}

// scanChunk examines the revisions from the key from (nil: the first) up to
// main revision t and returns the keys of at most c.limit of them that the
// index no longer holds, the key to resume at, and whether the scan reached
// past t. It examines at most 8*c.limit revisions so a chunk stays short
// even where nearly everything is kept.
func (c *compactor) scanChunk(b *bolt.Bucket, from []byte, t int64) (dead [][]byte, next []byte, last bool, err error) {
	cur := b.Cursor()
	var k, v []byte
	if from == nil {
		k, v = cur.First()
	} else {
		k, v = cur.Seek(from)
	}
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	for examined := 0; ; examined++ {
		if k == nil {
			return dead, nil, true, nil
		}
		rev, err := parseRevKey(k)
		if err != nil {
			return nil, nil, false, err
		}
		if rev.main > t {
			return dead, nil, true, nil
		}
		if len(dead) == c.limit || examined == 8*c.limit {
			return dead, bytes.Clone(k), false, nil
		}
		key, err := recordKey(v)
		if err != nil {
			return nil, nil, false, fmt.Errorf("revision %v: %w", rev, err)
		}
		if ki := c.s.idx.get(key); ki == nil || !ki.has(rev) {
			dead = append(dead, bytes.Clone(k))
		}
		k, v = cur.Next()
	}
}
