package store

import (
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// WriteSnapshot writes a consistent copy of the store's bbolt file to w and
// returns its size in bytes and the consistent index it holds. The copy is
// the state of the newest flush (one bbolt read transaction), so its
// consistent index is DurableIndex at some moment during the call and its
// data is exactly what that index produced; batches not yet flushed are not
// in it. Opening the copy with Open gives a store at that index. It is safe
// for concurrent use with everything else; a long copy delays the reuse of
// pages freed meanwhile (the file may grow), as any long read does. It
// returns ErrStopped once the store is closed, and w's errors.
//
// etcd's counterpart is backend.Snapshot (etcd 3.4 mvcc/backend), which the
// maintenance snapshot and the peer snapshot transfer both stream.
func (s *Store) WriteSnapshot(w io.Writer) (n int64, consistentIndex uint64, err error) {
	tx, err := s.db.Begin(false)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return 0, 0, ErrStopped
	}
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(metaConsistentIndex); v != nil {
			if consistentIndex, err = getU64(v); err != nil {
				return 0, 0, fmt.Errorf("meta/consistent_index: %w", err)
			}
		}
	}
	n, err = tx.WriteTo(w)
	return n, consistentIndex, err
}

// Snapshot is a consistent view of the store's bbolt file, held open by one
// bbolt read transaction until Close (see WriteSnapshot for what it holds).
type Snapshot struct {
	tx *bolt.Tx
	ci uint64
}

// OpenSnapshot opens a consistent view of the store file, whose size is
// known before it is written out (the maintenance snapshot stream announces
// the bytes that remain). Close it when done: it pins the file's pages.
// It returns ErrStopped once the store is closed.
func (s *Store) OpenSnapshot() (*Snapshot, error) {
	tx, err := s.db.Begin(false)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return nil, ErrStopped
	}
	if err != nil {
		return nil, err
	}
	sn := &Snapshot{tx: tx}
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(metaConsistentIndex); v != nil {
			if sn.ci, err = getU64(v); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("meta/consistent_index: %w", err)
			}
		}
	}
	return sn, nil
}

// Size is the size in bytes of the file WriteTo writes.
func (sn *Snapshot) Size() int64 { return sn.tx.Size() }

// ConsistentIndex is the consistent index the file holds.
func (sn *Snapshot) ConsistentIndex() uint64 { return sn.ci }

// WriteTo writes the file to w.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) { return sn.tx.WriteTo(w) }

// Close releases the view.
func (sn *Snapshot) Close() error { return sn.tx.Rollback() }

// PrepareRestore turns a copy of a store file (a backup taken with
// WriteSnapshot, at path) into the store of a member of a new cluster: it
// checks that the file is a store of this layout and sets its consistent
// index to 0, since the new cluster's raft log starts over. The data
// (revisions, compaction, leases) stay as they are. It fails on a file that
// is not a store; the file must not be open.
func PrepareRestore(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || tx.Bucket(bucketRevisions) == nil {
			return fmt.Errorf("store: %s is not a cairn store file", path)
		}
		f, err := getU64(meta.Get(metaFormat))
		if err != nil || f != layoutFormat {
			return fmt.Errorf("store: %s: layout format %d, this build reads %d", path, f, layoutFormat)
		}
		return meta.Put(metaConsistentIndex, putU64(0))
	})
}
