package store

import (
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
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
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
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
