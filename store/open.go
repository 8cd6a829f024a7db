package store

import (
	"fmt"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// loaded is what Open learns from the file besides the index.
type loaded struct {
	scheduled int64 // meta/scheduled_compact_rev, -1 if absent
	finished  int64 // meta/finished_compact_rev, -1 if absent
	records   int
}

// load creates the buckets of a new file, checks the layout of an existing
// one, reads the meta fields and rebuilds the key index from every record.
func (s *Store) load() (loaded, error) {
	st := loaded{scheduled: -1, finished: -1}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if tx.Bucket(bucketRevisions) != nil {
				return fmt.Errorf("revisions bucket without meta bucket")
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if _, err = tx.CreateBucket(bucketRevisions); err != nil {
				return err
			}
			if _, err = tx.CreateBucket(bucketLeases); err != nil {
				return err
			}
			if err = createAuthBuckets(tx); err != nil {
				return err
			}
			return meta.Put(metaFormat, putU64(layoutFormat))
		}
		f, err := getU64(meta.Get(metaFormat))
		if err != nil {
			return fmt.Errorf("meta/format: %w", err)
		}
		if f != layoutFormat {
			return fmt.Errorf("layout format %d, this build reads %d", f, layoutFormat)
		}
		if tx.Bucket(bucketRevisions) == nil {
			return fmt.Errorf("meta bucket without revisions bucket")
		}
		// Files written before leases or auth existed lack their buckets.
		if _, err = tx.CreateBucketIfNotExists(bucketLeases); err != nil {
			return err
		}
		return createAuthBuckets(tx)
	}); err != nil {
		return st, err
	}

	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaConsistentIndex); v != nil {
			ci, err := getU64(v)
			if err != nil {
				return fmt.Errorf("meta/consistent_index: %w", err)
			}
			s.ci.Store(ci)
		}
		for _, f := range []struct {
			name []byte
			dst  *int64
		}{{metaScheduledCompactRev, &st.scheduled}, {metaFinishedCompactRev, &st.finished}} {
			if v := meta.Get(f.name); v != nil {
				u, err := getU64(v)
				if err != nil {
					return fmt.Errorf("meta/%s: %w", f.name, err)
				}
				*f.dst = int64(u)
			}
		}

		var (
			maxRev  int64
			r       record
			orphans int
		)
		c := tx.Bucket(bucketRevisions).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rev, err := parseRevKey(k)
			if err != nil {
				return err
			}
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("revision %v: %w", rev, err)
			}
			if r.modRevision != rev.main {
				return fmt.Errorf("revision %v: record says mod_revision %d", rev, r.modRevision)
			}
			st.records++
			maxRev = rev.main
			if r.tombstone {
				// A tombstone whose generation is gone was left by an
				// interrupted physical compaction (it removes in revision
				// order, so the puts went first); the resumed compaction
				// removes it.
				if ki := s.idx.get(r.key); ki == nil || !ki.tombstone(rev) {
					orphans++
				} else {
					ki.lease = cairn.NoLease
				}
				continue
			}
			ki := s.idx.getOrCreate(r.key)
			ki.restorePut(rev, r.createRevision, r.version)
			ki.lease = r.lease
		}
		if orphans > 0 {
			s.log.Info("store: tombstones of compacted keys found; the resumed compaction removes them", "count", orphans)
		}
		if err := s.loadLeases(tx.Bucket(bucketLeases)); err != nil {
			return err
		}
		s.lastSize.Store(tx.Size())

		// The newest revision can be a tombstone that compaction removed;
		// the compaction revision then bounds the current revision, as etcd.
		s.rev = max(maxRev, st.scheduled, 1)
		s.compactRev = st.scheduled
		return nil
	})
	if err != nil {
		return st, err
	}
	if st.scheduled > 0 {
		s.compactIndex(st.scheduled)
	}
	s.revNow.Store(s.rev)
	s.compactNow.Store(s.compactRev)
	return st, nil
}

// compactIndex compacts the key index at rev, a bounded number of keys per
// hold of s.mu so readers are never stalled for long. Reads at revisions >=
// rev are right with the index in any intermediate state; reads below rev
// are refused before this runs (compactRev is published first).
func (s *Store) compactIndex(rev int64) {
	const keysPerLock = 10000
	var (
		from  []byte
		empty []*keyIndex
		done  bool
	)
	for !done {
		done = true
		s.mu.Lock()
		n := 0
		pivot := &keyIndex{key: from}
		s.idx.tree.AscendGreaterOrEqual(pivot, func(ki *keyIndex) bool {
			if n == keysPerLock {
				from, done = ki.key, false
				return false
			}
			n++
			if ki.compact(rev) {
				empty = append(empty, ki)
			}
			return true
		})
		for _, ki := range empty {
			s.idx.tree.Delete(ki)
		}
		empty = empty[:0]
		s.mu.Unlock()
	}
}

// loadLeases reads the granted leases and attaches to them the live keys
// whose newest put names them (the key index is rebuilt already). The leases
// bucket and the records are written by the same flushes, so a live key
// never names a lease that is not granted; if one does (a damaged file), the
// key is left without a lease and the fact is logged.
func (s *Store) loadLeases(bucket *bolt.Bucket) error {
	ls := s.leases.leases
	err := bucket.ForEach(func(k, v []byte) error {
		id, err := parseLeaseKey(k)
		if err != nil {
			return err
		}
		ttl, v2, err := decodeLease(id, v)
		if err != nil {
			return fmt.Errorf("lease %d: %w", id, err)
		}
		ls[id] = &leaseRec{ttl: ttl, v2: v2}
		return nil
	})
	if err != nil {
		return err
	}
	var dangling int
	s.idx.tree.Ascend(func(ki *keyIndex) bool {
		if ki.lease == cairn.NoLease {
			return true
		}
		if !ki.live() {
			ki.lease = cairn.NoLease
			return true
		}
		l := ls[ki.lease]
		if l == nil {
			dangling++
			ki.lease = cairn.NoLease
			return true
		}
		if l.keys == nil {
			l.keys = make(map[*keyIndex]struct{})
		}
		l.keys[ki] = struct{}{}
		return true
	})
	if dangling > 0 {
		s.log.Error("store: live keys name leases that are not granted; they are kept without a lease", "keys", dangling)
	}
	return nil
}
