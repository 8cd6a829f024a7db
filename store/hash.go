package store

import (
	"errors"
	"hash/crc32"
	"slices"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// HashKV returns a CRC-32C hash of the MVCC history up to revision rev (0:
// the current revision) as compaction leaves it: every revision record
// above the compacted revision, and at or below it only those the key index
// keeps (the newest revision of each key that was alive then). It hashes
// each record's revision key and bytes in revision order. Members that
// applied the same entries hash the same at the same revision, whatever the
// progress of their background compaction or of their flusher. It also
// returns the compacted revision (0: none). Errors: ErrFutureRev above the
// current revision, ErrCompacted below the compacted one, ErrStopped.
//
// etcd's counterpart is mvcc.HashKV (etcd 3.4 mvcc/kvstore.go); the bytes
// hashed differ (cairn's records are not etcd's).
func (s *Store) HashKV(rev int64) (hash uint32, compactRev int64, err error) {
	for attempt := 0; ; attempt++ {
		// Under the index lock: the revisions at or below the compaction
		// that the index keeps.
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return 0, 0, ErrStopped
		}
		cur, compacted := s.rev, s.compactRev
		var keep []revision
		if compacted > 0 {
			s.idx.tree.Ascend(func(ki *keyIndex) bool {
				for i := range ki.gens {
					for _, r := range ki.gens[i].revs {
						if r.main <= compacted {
							keep = append(keep, r)
						}
					}
				}
				return true
			})
		}
		s.mu.RUnlock()
		if rev == 0 {
			rev = cur
		}
		if rev > cur {
			return 0, 0, ErrFutureRev
		}
		if rev < compacted {
			return 0, 0, ErrCompacted
		}
		slices.SortFunc(keep, func(a, b revision) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		v, err := s.viewHistory()
		if err != nil {
			return 0, 0, err
		}
		if v.compactRev != compacted {
			// A compaction came in between: its removal may take records
			// the keep list names. Start over.
			v.release()
			continue
		}
		h := crc32.New(castagnoli)
		var k [revKeyLen]byte
		write := func(r revision, data []byte) {
			putRevKey(k[:], r)
			h.Write(k[:])
			h.Write(data)
		}
		for _, r := range keep {
			if r.main > rev {
				break
			}
			data, err := v.get(r)
			if err != nil {
				v.release()
				return 0, 0, err
			}
			write(r, data)
		}
		if rev > max(compacted, 0) {
			err = v.scan(max(compacted, 0)+1, rev, func(r revision, data []byte) bool {
				write(r, data)
				return true
			})
		}
		v.release()
		if err != nil {
			return 0, 0, err
		}
		return h.Sum32(), max(compacted, 0), nil
	}
}

// Hash returns a CRC-32C hash of the store file's contents: every bucket's
// name and every key and value in it, in bbolt's order, leaving out the
// fields that say how far this member's own background work got
// (meta/consistent_index, meta/finished_compact_rev). It first writes
// everything applied to bbolt (Flush). Two members hash the same when they
// applied the same entries and their physical compactions finished; use
// HashKV to compare members under load. etcd's counterpart is mvcc.Hash.
func (s *Store) Hash() (uint32, error) {
	if err := s.Flush(); err != nil {
		return 0, err
	}
	h := crc32.New(castagnoli)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			h.Write(name)
			isMeta := string(name) == string(bucketMeta)
			return b.ForEach(func(k, v []byte) error {
				if isMeta && (string(k) == string(metaConsistentIndex) || string(k) == string(metaFinishedCompactRev)) {
					return nil
				}
				h.Write(k)
				h.Write(v)
				return nil
			})
		})
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return 0, ErrStopped
	}
	return h.Sum32(), err
}
