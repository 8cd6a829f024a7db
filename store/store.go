package store

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configures a Store. The zero value is a sensible default.
type Options struct {
	// Logger receives the store's few log lines (open, compaction progress,
	// unexpected errors). nil discards them.
	Logger *slog.Logger

	// OnCommit, if set, is called by Batch.Commit after the batch became
	// visible, with the store revision after the batch and every event of
	// the batch in revision order (each event's Kv.ModRevision is its
	// revision). It is not called for a batch that changed nothing. It runs
	// on the committing goroutine: keep it short, and do not call Begin from
	// it. When nil, the store skips the reads that fill Event.PrevKv.
	OnCommit func(rev int64, events []Event)

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

	// hooks are fault-injection points for the package's own tests.
	hooks *testHooks
}

// testHooks are named points where tests inject faults.
type testHooks struct {
	// afterCompactChunk runs after each committed chunk of a physical
	// compaction with the chunk's ordinal (1, 2...); returning false stops
	// the compactor there, as if the process had died.
	afterCompactChunk func(chunk int) bool
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
	return o
}

// Store is the MVCC key-value store of one member, kept in one bbolt file.
//
// Reads (Range, Rev, CompactRev, ConsistentIndex, Size, SizeInUse) are safe
// for concurrent use with each other and with the one Batch in progress.
// Writes happen only through a Batch (Begin), one at a time.
type Store struct {
	db       *bolt.DB
	path     string
	opts     Options
	log      *slog.Logger
	pageSize int

	// mu guards the published state: the key index, the committed revision,
	// the compacted revision and closed. Readers hold it shared while they
	// walk the index; the applier takes it exclusively for each mutation of
	// the index and to publish a commit.
	mu         sync.RWMutex
	idx        *index
	rev        int64
	compactRev int64 // -1 until the first compaction, as etcd
	closed     bool

	// Lock-free mirrors of the published state, for the accessors.
	revNow     atomic.Int64
	compactNow atomic.Int64
	ci         atomic.Uint64
	lastSize   atomic.Int64

	// batchMu guards batch (the open Batch, if any) and broken (the reason
	// the store takes no more writes).
	batchMu sync.Mutex
	batch   *Batch
	broken  error

	comp *compactor
}

// Open opens the store in the bbolt file at path, creating it if absent,
// rebuilds the key index from the file and resumes an interrupted physical
// compaction in the background. It fails if the file is not a store of this
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
	}
	st, err := s.load()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.comp = newCompactor(s, st.scheduled, st.finished)
	go s.comp.run()
	s.log.Info("store opened", "path", path, "revision", s.rev, "compact_revision", s.compactRev,
		"consistent_index", s.ci.Load(), "keys", s.idx.tree.Len(), "records", st.records,
		"took", time.Since(start))
	return s, nil
}

// Close stops the background compaction (it resumes at the next Open),
// waits for reads in flight and closes the file. A Batch still open is
// rolled back; it must not be in use concurrently with Close. Compaction
// done channels not yet closed are closed. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.batchMu.Lock()
	if b := s.batch; b != nil {
		b.abandonLocked(ErrStopped)
	}
	if s.broken == nil {
		s.broken = ErrStopped
	}
	s.batchMu.Unlock()

	s.comp.shutdown()
	s.lastSize.Store(s.Size())
	return s.db.Close()
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

// ConsistentIndex returns the raft applied index committed with the newest
// batch (Batch.Commit), 0 on a new store.
func (s *Store) ConsistentIndex() uint64 { return s.ci.Load() }

// Size returns the size of the bbolt database in bytes (its high-water
// mark, as etcd's dbSize), or the last known size once the store is closed.
func (s *Store) Size() int64 {
	var size int64
	if err := s.db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	}); err != nil {
		return s.lastSize.Load()
	}
	s.lastSize.Store(size)
	return size
}

// SizeInUse returns Size minus the bytes of free and pending pages, as
// etcd's dbSizeInUse.
func (s *Store) SizeInUse() int64 {
	size := s.Size()
	st := s.db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*int64(s.pageSize)
}

// publish makes a committed batch visible. Callers hold s.mu exclusively.
func (s *Store) publishLocked(rev, compactRev int64) {
	s.rev = rev
	s.compactRev = compactRev
	s.revNow.Store(rev)
	s.compactNow.Store(compactRev)
}
