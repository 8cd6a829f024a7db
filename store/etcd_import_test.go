package store

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
)

// etcdRevKey is etcd's bucket key of revision main.sub (with 't' for a
// deletion).
func etcdRevKey(main, sub int64, tombstone bool) []byte {
	k := make([]byte, 17, 18)
	binary.BigEndian.PutUint64(k, uint64(main))
	k[8] = '_'
	binary.BigEndian.PutUint64(k[9:], uint64(sub))
	if tombstone {
		k = append(k, 't')
	}
	return k
}

// writeEtcdBackend writes a bbolt file in etcd 3's layout: the records
// given, lease 7 with TTL 60, a compaction at 3, and a member.
func writeEtcdBackend(t *testing.T, path string, records map[string]*mvccpb.KeyValue) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		keys, _ := tx.CreateBucket([]byte("key"))
		for k, kv := range records {
			b, _ := kv.Marshal()
			if err := keys.Put([]byte(k), b); err != nil {
				return err
			}
		}
		lease, _ := tx.CreateBucket([]byte("lease"))
		var l []byte
		l = protowire.AppendTag(l, 1, protowire.VarintType)
		l = protowire.AppendVarint(l, 7)
		l = protowire.AppendTag(l, 2, protowire.VarintType)
		l = protowire.AppendVarint(l, 60)
		lk := make([]byte, 8)
		binary.BigEndian.PutUint64(lk, 7)
		if err := lease.Put(lk, l); err != nil {
			return err
		}
		meta, _ := tx.CreateBucket([]byte("meta"))
		if err := meta.Put([]byte("scheduledCompactRev"), etcdRevKey(3, 0, false)); err != nil {
			return err
		}
		if err := meta.Put([]byte("finishedCompactRev"), etcdRevKey(3, 0, false)); err != nil {
			return err
		}
		members, _ := tx.CreateBucket([]byte("members"))
		return members.Put([]byte("8e9e05c52164694d"), []byte(`{"id":1}`))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ImportEtcd keeps etcd's revisions, versions, deletions, leases and
// compaction; the store it writes opens and reads like etcd did.
func TestImportEtcd(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "etcd.db"), filepath.Join(dir, "store.db")
	writeEtcdBackend(t, src, map[string]*mvccpb.KeyValue{
		string(etcdRevKey(3, 0, false)): {Key: []byte("/a"), Value: []byte("1"), CreateRevision: 2, ModRevision: 3, Version: 2},
		string(etcdRevKey(4, 0, false)): {Key: []byte("/b"), Value: []byte("x"), CreateRevision: 4, ModRevision: 4, Version: 1, Lease: 7},
		string(etcdRevKey(5, 0, true)):  {Key: []byte("/a")},
		string(etcdRevKey(6, 0, false)): {Key: []byte("/c"), Value: []byte("t"), CreateRevision: 6, ModRevision: 6, Version: 1},
		string(etcdRevKey(6, 1, false)): {Key: []byte("/d"), Value: []byte("t"), CreateRevision: 6, ModRevision: 6, Version: 1},
	})
	if is, err := IsEtcdBackend(src); !is || err != nil {
		t.Fatalf("IsEtcdBackend = %v, %v", is, err)
	}
	st, err := ImportEtcd(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if st.Revisions != 5 || st.Leases != 1 || st.Rev != 6 || st.CompactRev != 3 || len(st.Skipped) != 1 || st.Skipped[0] != "members" {
		t.Fatalf("import: %+v", st)
	}
	if is, err := IsEtcdBackend(dst); is || err != nil {
		t.Fatalf("the imported store is taken for etcd's: %v, %v", is, err)
	}
	s, err := Open(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := &cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}}
	r, err := s.Range(all)
	if err != nil || r.Header.Revision != 6 || len(r.Kvs) != 3 {
		t.Fatalf("range now: %+v, %v", r, err)
	}
	b := r.Kvs[0]
	if string(b.Key) != "/b" || b.CreateRevision != 4 || b.ModRevision != 4 || b.Version != 1 || b.Lease != 7 {
		t.Fatalf("/b: %+v", b)
	}
	all.Revision = 4
	if r, err := s.Range(all); err != nil || len(r.Kvs) != 2 || string(r.Kvs[0].Value) != "1" || r.Kvs[0].Version != 2 {
		t.Fatalf("range at 4 (before the deletion): %+v, %v", r, err)
	}
	all.Revision = 2
	if _, err := s.Range(all); err != cairn.ErrCompacted {
		t.Fatalf("range below the compaction: %v", err)
	}
	if ls := s.Leases(); len(ls) != 1 || ls[0].ID != 7 || ls[0].TTL != 60 {
		t.Fatalf("leases: %+v", ls)
	}
	if keys, _ := s.LeaseKeys(7); len(keys) != 1 || string(keys[0]) != "/b" {
		t.Fatalf("keys of lease 7: %q", keys)
	}
}

// A record ImportEtcd cannot read fails the import and leaves no file;
// a file that is not etcd's is refused.
func TestImportEtcdRefuses(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "etcd.db"), filepath.Join(dir, "store.db")
	writeEtcdBackend(t, src, map[string]*mvccpb.KeyValue{
		string(etcdRevKey(2, 0, false)):     {Key: []byte("/a"), Value: []byte("1"), CreateRevision: 2, ModRevision: 2, Version: 1},
		"not-a-revision-key-of-etcd-at-all": {Key: []byte("/b")},
	})
	if _, err := ImportEtcd(src, dst); err == nil || !strings.Contains(err.Error(), "etcd revision key") {
		t.Fatalf("import of a bad key: %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("a failed import left %s: %v", dst, err)
	}
	s, err := Open(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := ImportEtcd(dst, filepath.Join(dir, "again.db")); err == nil || !strings.Contains(err.Error(), "not an etcd 3 backend") {
		t.Fatalf("import of a cairn store: %v", err)
	}
}
