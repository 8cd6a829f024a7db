package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
)

// etcd 3.x's backend, as far as ImportEtcd reads it (etcd's mvcc and lease
// packages write it; the file of "etcdctl snapshot save" without its
// SHA-256, or <data-dir>/member/snap/db):
//
//	bucket "key":   17 bytes main (8) | '_' | sub (8), plus 't' for a
//	                deletion -> an mvccpb.KeyValue (only the key in a
//	                deletion)
//	bucket "lease": 8-byte lease ID -> a leasepb.Lease (1: ID, 2: TTL,
//	                3: RemainingTTL, all varint int64)
//	bucket "meta":  "scheduledCompactRev", "finishedCompactRev" -> a
//	                17-byte revision as above; "consistent_index" -> 8 bytes
//
// Integers are big-endian. Buckets of etcd's cluster and auth state
// ("members", "auth", "authUsers", ...) are not read.
var (
	etcdBucketKey   = []byte("key")
	etcdBucketLease = []byte("lease")
	etcdBucketMeta  = []byte("meta")

	etcdScheduledCompact = []byte("scheduledCompactRev")
	etcdFinishedCompact  = []byte("finishedCompactRev")
)

// etcdRevKeyLen is the length of an etcd revision key without the
// deletion mark.
const etcdRevKeyLen = 17

// importBatch is how many records ImportEtcd writes per bbolt transaction.
const importBatch = 10000

// EtcdImport says what ImportEtcd brought over.
type EtcdImport struct {
	Revisions  int   // records: one per put or deletion of a key
	Leases     int   // granted leases
	Rev        int64 // the newest revision (etcd's current revision)
	CompactRev int64 // etcd's compaction revision, 0 if never compacted
	// Skipped names the buckets of the file not brought over (etcd's
	// members, alarms and auth state) that hold something.
	Skipped []string
}

// IsEtcdBackend reports whether the bbolt file at path is an etcd 3.x
// backend (it has etcd's "key" bucket and not this store's "revisions").
// The file must not be open.
func IsEtcdBackend(path string) (bool, error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("store: %s: %w", path, err)
	}
	defer db.Close()
	is := false
	err = db.View(func(tx *bolt.Tx) error {
		is = tx.Bucket(etcdBucketKey) != nil && tx.Bucket(bucketRevisions) == nil
		return nil
	})
	return is, err
}

// ImportEtcd writes a new store file at dst holding the keyspace of the
// etcd 3.x backend at src: every revision etcd still holds, puts and
// deletions, with their create_revision, mod_revision, version and lease;
// its compaction revision (reads below it fail as they did in etcd); and
// its leases with their granted TTLs (a member that leads gives them their
// full TTL, as etcd does after a restart). Its consistent index is 0, for a
// new cluster (see PrepareRestore). etcd's v2 store, members and auth are
// not part of it. dst must not exist. Errors: src is not an etcd backend,
// or holds a record it cannot read (then dst is removed).
func ImportEtcd(src, dst string) (EtcdImport, error) {
	var st EtcdImport
	in, err := bolt.Open(src, 0o400, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: true})
	if err != nil {
		return st, fmt.Errorf("store: %s: %w", src, err)
	}
	defer in.Close()
	if _, err := os.Stat(dst); err == nil {
		return st, fmt.Errorf("store: %s exists", dst)
	}
	out, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		return st, fmt.Errorf("store: %s: %w", dst, err)
	}
	err = in.View(func(tx *bolt.Tx) error { return importEtcd(tx, out, &st) })
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return EtcdImport{}, fmt.Errorf("store: importing etcd's %s: %w", src, err)
	}
	return st, nil
}

func importEtcd(tx *bolt.Tx, out *bolt.DB, st *EtcdImport) error {
	keys := tx.Bucket(etcdBucketKey)
	if keys == nil || tx.Bucket(bucketRevisions) != nil {
		return errors.New("not an etcd 3 backend (no \"key\" bucket)")
	}
	if err := out.Update(func(otx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketRevisions, bucketLeases} {
			if _, err := otx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// Records, in revision order, importBatch per transaction.
	c := keys.Cursor()
	k, v := c.First()
	for k != nil {
		err := out.Update(func(otx *bolt.Tx) error {
			revs := otx.Bucket(bucketRevisions)
			for n := 0; k != nil && n < importBatch; n++ {
				rev, rec, err := etcdRecord(k, v)
				if err != nil {
					return err
				}
				rk := make([]byte, revKeyLen)
				putRevKey(rk, rev)
				if err := revs.Put(rk, encodeRecord(rec)); err != nil {
					return err
				}
				st.Revisions++
				st.Rev = max(st.Rev, rev.main)
				k, v = c.Next()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return out.Update(func(otx *bolt.Tx) error {
		if err := importEtcdLeases(tx.Bucket(etcdBucketLease), otx.Bucket(bucketLeases), st); err != nil {
			return err
		}
		meta := otx.Bucket(bucketMeta)
		if err := meta.Put(metaFormat, putU64(layoutFormat)); err != nil {
			return err
		}
		if err := meta.Put(metaConsistentIndex, putU64(0)); err != nil {
			return err
		}
		em := tx.Bucket(etcdBucketMeta)
		for _, f := range []struct{ from, to []byte }{
			{etcdScheduledCompact, metaScheduledCompactRev},
			{etcdFinishedCompact, metaFinishedCompactRev},
		} {
			var raw []byte
			if em != nil {
				raw = em.Get(f.from)
			}
			if raw == nil {
				continue
			}
			rev, _, err := parseEtcdRevKey(raw)
			if err != nil {
				return fmt.Errorf("meta/%s: %w", f.from, err)
			}
			if err := meta.Put(f.to, putU64(uint64(rev.main))); err != nil {
				return err
			}
			if string(f.from) == string(etcdScheduledCompact) {
				st.CompactRev = rev.main
				st.Rev = max(st.Rev, rev.main)
			}
		}
		st.Skipped = etcdSkipped(tx)
		return nil
	})
}

// etcdRecord converts one record of etcd's "key" bucket.
func etcdRecord(k, v []byte) (revision, *record, error) {
	rev, tombstone, err := parseEtcdRevKey(k)
	if err != nil {
		return rev, nil, err
	}
	var kv mvccpb.KeyValue
	if err := kv.Unmarshal(v); err != nil {
		return rev, nil, fmt.Errorf("revision %s: %w", rev, err)
	}
	if len(kv.Key) == 0 {
		return rev, nil, fmt.Errorf("revision %s: a record without a key", rev)
	}
	r := &record{tombstone: tombstone, modRevision: rev.main, key: kv.Key}
	if !tombstone {
		if kv.ModRevision != rev.main {
			return rev, nil, fmt.Errorf("revision %s: mod_revision %d", rev, kv.ModRevision)
		}
		r.createRevision, r.version, r.lease, r.value = kv.CreateRevision, kv.Version, kv.Lease, kv.Value
	}
	return rev, r, nil
}

// parseEtcdRevKey decodes an etcd revision key: main, '_', sub, and
// whether it carries the deletion mark 't'.
func parseEtcdRevKey(k []byte) (rev revision, tombstone bool, err error) {
	switch {
	case len(k) == etcdRevKeyLen+1 && k[etcdRevKeyLen] == 't':
		tombstone = true
	case len(k) != etcdRevKeyLen:
		return rev, false, fmt.Errorf("etcd revision key %x: %d bytes", k, len(k))
	}
	if k[8] != '_' {
		return rev, false, fmt.Errorf("etcd revision key %x: no '_' after main", k)
	}
	rev = revision{main: int64(binary.BigEndian.Uint64(k[:8])), sub: int64(binary.BigEndian.Uint64(k[9:17]))}
	return rev, tombstone, nil
}

// importEtcdLeases copies the granted TTL of every lease of etcd's "lease"
// bucket (which may be absent) into leases.
func importEtcdLeases(from, leases *bolt.Bucket, st *EtcdImport) error {
	if from == nil {
		return nil
	}
	return from.ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("etcd lease key %x: %d bytes", k, len(k))
		}
		id := int64(binary.BigEndian.Uint64(k))
		ttl, err := etcdLeaseTTL(v)
		if err != nil {
			return fmt.Errorf("etcd lease %x: %w", id, err)
		}
		st.Leases++
		return leases.Put(leaseKey(id), encodeLease(ttl, false))
	})
}

// etcdLeaseTTL reads field 2 (TTL) of a leasepb.Lease with the protobuf
// wire reader (etcd's lease types live in its server module, which cairn
// does not depend on).
func etcdLeaseTTL(b []byte) (int64, error) {
	var ttl int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 2 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return 0, protowire.ParseError(m)
			}
			ttl, b = int64(v), b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return 0, protowire.ParseError(m)
		}
		b = b[m:]
	}
	if ttl <= 0 {
		return 0, fmt.Errorf("TTL %d", ttl)
	}
	return ttl, nil
}

// etcdSkipped names the non-empty buckets of etcd's state that an import
// leaves behind.
func etcdSkipped(tx *bolt.Tx) []string {
	var out []string
	_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		switch string(name) {
		case "key", "lease", "meta":
			return nil
		}
		if k, _ := b.Cursor().First(); k != nil {
			out = append(out, string(name))
		}
		return nil
	})
	return out
}
