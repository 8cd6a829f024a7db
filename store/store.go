package store

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/internal/failpoint"
	"github.com/cairnkv/cairn/internal/logattr"
	bolt "go.etcd.io/bbolt"
)

// Options configures a Store. The zero value is a sensible default.
type Options struct {
	// Logger receives the store's few log lines (open, compaction progress,
	// unexpected errors). nil discards them.
	Logger *slog.Logger

	// OnCommit, if set, is called by Batch.Commit after the batch became
	// visible (before it is in bbolt), with the store revision after the batch and every event of
	// the batch in revision order (each event's Kv.ModRevision is its
	// revision). It is not called for a batch that changed nothing. It runs
	// on the committing goroutine: keep it short, and do not call Begin from
	// it. When nil, the store skips the reads that fill Event.PrevKv.
	OnCommit func(rev int64, events []cairn.Event)

	// InitialMmapSize is the size in bytes of bbolt's first memory map.
	// While the file fits in it, bbolt never remaps, and a remap is the one
	// moment a commit waits for every open read. 0 means 1 GiB (address
	// space only; the file grows with the data).
	InitialMmapSize int

	// CompactionBatchLimit is the number of revisions the background
	// compaction removes per bbolt transaction (etcd's
	// --experimental-compaction-batch-limit). 0 means 1000.
	CompactionBatchLimit int

	// OpenTimeout bounds the wait for the bbolt file lock in Open (another
	// process holding the file). 0 means 10 seconds.
	OpenTimeout time.Duration

	// FlushInterval is how long the background flusher lets committed
	// batches pile up in memory before it writes them to bbolt in one
	// transaction (etcd's --backend-batch-interval). It flushes sooner when
	// a tenth of MaxPendingBytes or MaxPendingRecords is pending, when a
	// batch compacts, and on Flush and Close. 0 means 100 milliseconds.
	FlushInterval time.Duration

	// MaxPendingBytes bounds the memory held by committed batches that are
	// not yet in bbolt: the size of their records plus 64 bytes each. While
	// more than this is pending, Batch.Commit first waits for a flush. 0
	// means 64 MiB.
	MaxPendingBytes int64

	// MaxPendingRecords bounds the number of revision records of committed
	// batches that are not yet in bbolt, as MaxPendingBytes. 0 means
	// 100000 (a tenth of it, etcd's --backend-batch-limit of 10000, starts a
	// flush early).
	MaxPendingRecords int64

	// ObserveCommit, if set, is called after each bbolt write transaction
	// of the running store (a flush, a chunk of physical compaction) with
	// how long it took, commit and fsync included; on the flusher's or the
	// compactor's goroutine, so keep it as cheap as a histogram
	// observation.
	ObserveCommit func(time.Duration)

	// hooks are fault-injection points for the package's own tests.
	hooks *testHooks
}

// testHooks are named points where tests inject faults.
type testHooks struct {
	// afterCompactChunk runs after each committed chunk of a physical
	// compaction with the chunk's ordinal (1, 2...); returning false stops
	// the compactor there, as if the process had died.
	afterCompactChunk func(chunk int) bool

	// manualFlush: the flusher writes only when a flush is waited for
	// (Flush, Close, a Commit over the limits), never on its own.
	manualFlush bool

	// duringFlush runs inside each flush's bbolt transaction with the
	// number of batches it holds; an error aborts the flush (bbolt rolls it
	// back) and is the store's sticky error.
	duringFlush func(batches int) error
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.InitialMmapSize == 0 {
		o.InitialMmapSize = 1 << 30
	}
	if o.CompactionBatchLimit <= 0 {
		o.CompactionBatchLimit = 1000
	}
	if o.OpenTimeout == 0 {
		o.OpenTimeout = 10 * time.Second
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 64 << 20
	}
	if o.MaxPendingRecords <= 0 {
		o.MaxPendingRecords = 100000
	}
	return o
}

// Store is the MVCC key-value store of one member, kept in one bbolt file.
//
// Reads (Range, Rev, CompactRev, ConsistentIndex, DurableIndex, Size,
// SizeInUse, KeyCount) and Flush are safe for concurrent use with each other and with
// the one Batch in progress. Writes happen only through a Batch (Begin), one
// at a time.
type Store struct {
	db       *bolt.DB
	path     string
	opts     Options
	log      *slog.Logger
	pageSize int

	// mu guards the published state: the key index, the committed revision,
	// the compacted revision, the overlay (flushed, pending) and closed.
	// Readers hold it shared while they walk the index and take their view
	// of the overlay; the applier takes it exclusively for each mutation of
	// the index and to publish a commit, the flusher to drop what it wrote.
	// Nobody waits for it while holding a bbolt read transaction (a bbolt
	// remap waits for those).
	mu         sync.RWMutex
	idx        *index
	rev        int64
	compactRev int64 // -1 until the first compaction, as etcd
	closed     bool
	flushed    int64         // revisions at or below it are in bbolt
	pending    []*flushBatch // committed batches not yet in bbolt, in order
	seq        uint64        // number of the newest committed batch

	// Counters of pending, changed under mu, read anywhere.
	pendBatches atomic.Int64
	pendRecs    atomic.Int64
	pendBytes   atomic.Int64

	// Lock-free mirrors of the published state, for the accessors.
	revNow     atomic.Int64
	compactNow atomic.Int64
	ci         atomic.Uint64 // applied: consistent index of the newest batch
	durable    atomic.Uint64 // consistent index of the newest batch in bbolt
	// durableCompact is the newest compaction revision in bbolt's meta
	// (scheduled_compact_rev), -1 if none: the compactor's upper bound.
	durableCompact atomic.Int64
	lastSize       atomic.Int64

	// batchMu guards batch (the open Batch, if any) and broken (the reason
	// the store takes no more writes).
	batchMu sync.Mutex
	batch   *Batch
	broken  error

	comp *compactor
	fl   *flusher

	// leases are the granted leases and their keys (lease.go).
	leases leaseSet
}

// Open opens the store in the bbolt file at path, creating it if absent,
// rebuilds the key index from the file, starts the background flusher and
// resumes an interrupted physical compaction in the background. After Open,
// ConsistentIndex and DurableIndex are both the consistent index in the
// file. It fails if the file is not a store of this
// layout (see doc.go) or is locked by another process for longer than
// Options.OpenTimeout.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	start := time.Now()
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         opts.OpenTimeout,
		InitialMmapSize: opts.InitialMmapSize,
		FreelistType:    bolt.FreelistMapType,
		NoFreelistSync:  true,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		path:     path,
		opts:     opts,
		log:      opts.Logger,
		pageSize: db.Info().PageSize,
		idx:      newIndex(),
		leases:   leaseSet{leases: make(map[int64]*leaseRec)},
	}
	st, err := s.load()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.flushed = s.rev
	s.durableCompact.Store(st.scheduled)
	s.durable.Store(s.ci.Load())
	s.comp = newCompactor(s, st.scheduled, st.finished)
	s.fl = newFlusher(s)
	go s.comp.run()
	go s.fl.run()
	s.log.Info("store opened", "path", path, "revision", s.rev, "compact_revision", s.compactRev,
		"consistent_index", s.ci.Load(), "keys", s.idx.tree.Len(), "records", st.records,
		"leases", len(s.leases.leases), logattr.TookMS(start))
	return s, nil
}

// Close writes every committed batch still in memory to bbolt, stops the
// flusher and the background compaction (it resumes at the next Open), waits
// for reads in flight and closes the file. A Batch still open is rolled
// back; it must not be in use concurrently with Close. Compaction done
// channels not yet closed are closed. Close returns the flush error if the
// store's last flush failed (then bbolt holds the state of the last flush
// that succeeded, and the server replays the rest from its raft log). Close
// is idempotent.
func (s *Store) Close() error {
	return s.close(true)
}

// close closes the store; final false skips the last flush, as if the
// process died (tests).
func (s *Store) close(final bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.batchMu.Lock()
	if b := s.batch; b != nil {
		b.abandonLocked(cairn.ErrStopped)
	}
	if s.broken == nil {
		s.broken = cairn.ErrStopped
	}
	s.batchMu.Unlock()

	flushErr := s.fl.shutdown(final)
	s.comp.shutdown()
	if err := s.db.Close(); err != nil {
		return err
	}
	return flushErr
}

// Flush writes every batch committed so far to bbolt and waits until it is
// there: afterwards DurableIndex is at least the ConsistentIndex Flush
// began with. It returns the flush error if a flush failed (the error is
// sticky: the store takes no more batches), or ErrStopped if the store
// closed before the batches were written (Close writes them).
func (s *Store) Flush() error {
	s.mu.RLock()
	seq := s.seq
	s.mu.RUnlock()
	return s.fl.waitFlushed(seq)
}

// Rev returns the current revision: the revision of the newest committed
// write (1 on a new store, as etcd).
func (s *Store) Rev() int64 { return s.revNow.Load() }

// CompactRev returns the revision of the newest compaction, 0 if the store
// was never compacted. Reads below it fail with ErrCompacted.
func (s *Store) CompactRev() int64 {
	if r := s.compactNow.Load(); r > 0 {
		return r
	}
	return 0
}

// ConsistentIndex returns the consistent index of the newest committed batch
// (Batch.Commit): the raft index the store has applied, visible to reads.
// It is 0 on a new store.
func (s *Store) ConsistentIndex() uint64 { return s.ci.Load() }

// DurableIndex returns the consistent index of the newest batch in bbolt:
// what the store would reopen with after a crash. It lags ConsistentIndex
// by the batches the flusher has not written yet (at most about
// Options.FlushInterval of them). A raft snapshot or a raft log compaction
// must not go beyond it, so that the entries after it can be replayed.
func (s *Store) DurableIndex() uint64 { return s.durable.Load() }

// Size returns the size of the bbolt database in bytes (its high-water
// mark, as etcd's dbSize) as of the newest bbolt write (a flush or a chunk
// of physical compaction): batches not yet flushed are not counted. It does
// not touch bbolt, so it is cheap enough for a quota check per request.
func (s *Store) Size() int64 { return s.lastSize.Load() }

// noteSize records the size of the bbolt database after a write
// transaction (or at Open).
func (s *Store) noteSize() {
	_ = s.db.View(func(tx *bolt.Tx) error {
		s.lastSize.Store(tx.Size())
		return nil
	})
}

// SizeInUse returns Size minus the bytes of free and pending pages, as
// etcd's dbSizeInUse (the page counts are bbolt's, as of its newest
// transaction).
func (s *Store) SizeInUse() int64 {
	size := s.Size()
	st := s.db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*int64(s.pageSize)
}

// update runs fn in a bbolt write transaction and tells
// Options.ObserveCommit how long the transaction took. The failpoints
// store/beforeCommit and store/afterCommit sit on either side of bbolt's
// commit (internal/failpoint/points.go).
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	start := time.Now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return failpoint.Err("store/beforeCommit")
	})
	if s.opts.ObserveCommit != nil {
		s.opts.ObserveCommit(time.Since(start))
	}
	if err == nil {
		failpoint.Hit("store/afterCommit")
	}
	return err
}

// KeyCount returns the number of keys in the key index: live keys and
// deleted ones whose history a compaction has not dropped yet (etcd's
// keys gauge counts the same).
func (s *Store) KeyCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.idx.tree.Len()
}

// publish makes a committed batch visible. Callers hold s.mu exclusively.
func (s *Store) publishLocked(rev, compactRev int64) {
	s.rev = rev
	s.compactRev = compactRev
	s.revNow.Store(rev)
	s.compactNow.Store(compactRev)
}
