package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// testDB returns a path for a fresh store file in a per-test temp dir.
func testDB(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "cairn.db")
}

// MustOpen opens the store at path and closes it when the test ends.
func MustOpen(tb testing.TB, path string, opts Options) *Store {
	tb.Helper()
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// MustNew opens a fresh store in a temp dir.
func MustNew(tb testing.TB) *Store {
	tb.Helper()
	return MustOpen(tb, testDB(tb), Options{})
}

// MustApply runs f in one batch and commits it with the next consistent
// index.
func MustApply(tb testing.TB, s *Store, f func(b *Batch)) {
	tb.Helper()
	b := s.Begin()
	f(b)
	if err := b.Commit(s.ConsistentIndex() + 1); err != nil {
		tb.Fatalf("Commit: %v", err)
	}
}

// MustPut puts key=value in a batch of its own.
func MustPut(tb testing.TB, s *Store, key, value string) *cairn.PutResponse {
	tb.Helper()
	var resp *cairn.PutResponse
	MustApply(tb, s, func(b *Batch) {
		var err error
		if resp, err = b.Put(&cairn.PutRequest{Key: []byte(key), Value: []byte(value)}); err != nil {
			tb.Fatalf("Put(%q): %v", key, err)
		}
	})
	return resp
}

// MustDelete deletes [key, end) (end "" = the key) in a batch of its own.
func MustDelete(tb testing.TB, s *Store, key, end string) *cairn.DeleteRangeResponse {
	tb.Helper()
	var resp *cairn.DeleteRangeResponse
	MustApply(tb, s, func(b *Batch) {
		var err error
		if resp, err = b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte(key), RangeEnd: []byte(end)}); err != nil {
			tb.Fatalf("DeleteRange(%q, %q): %v", key, end, err)
		}
	})
	return resp
}

// MustCompact compacts at rev in a batch of its own and waits for the
// physical removal.
func MustCompact(tb testing.TB, s *Store, rev int64) {
	tb.Helper()
	var done <-chan struct{}
	MustApply(tb, s, func(b *Batch) {
		var err error
		if _, done, err = b.Compact(&cairn.CompactionRequest{Revision: rev, Physical: true}); err != nil {
			tb.Fatalf("Compact(%d): %v", rev, err)
		}
	})
	waitClosed(tb, done, "physical compaction")
}

// MustGet reads one key at the current revision; nil if absent.
func MustGet(tb testing.TB, s *Store, key string) *cairn.KeyValue {
	tb.Helper()
	resp, err := s.Range(&cairn.RangeRequest{Key: []byte(key)})
	if err != nil {
		tb.Fatalf("Range(%q): %v", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	return resp.Kvs[0]
}

// waitClosed waits for ch; the bound only turns a hang into a failure.
func waitClosed(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		tb.Fatalf("%s: not done after a minute", what)
	}
}

// waitFor polls cond until it holds; the bound only turns a hang into a
// failure.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not done after a minute", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// kvString renders a KeyValue compactly for comparisons.
func kvString(kv *cairn.KeyValue) string {
	if kv == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s=%s c%d m%d v%d l%d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease)
}

func kvsString(kvs []*cairn.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kvString(kv)
	}
	return out
}

func keysOf(kvs []*cairn.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = string(kv.Key)
	}
	return out
}

// diskRevisions lists the revisions in the revisions bucket of the closed
// store file at path, with their keys and tombstone flags.
func diskRevisions(tb testing.TB, path string) []string {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	defer db.Close()
	var out []string
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRevisions).ForEach(func(k, v []byte) error {
			rev, err := parseRevKey(k)
			if err != nil {
				return err
			}
			var r record
			if err := decodeRecord(v, &r); err != nil {
				return err
			}
			s := fmt.Sprintf("%v %s", rev, r.key)
			if r.tombstone {
				s += " tomb"
			}
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// metaField reads a meta field of the closed store file at path; -1 if
// absent.
func metaField(tb testing.TB, path string, name []byte) int64 {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	defer db.Close()
	v := int64(-1)
	db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(name); b != nil {
			u, err := getU64(b)
			if err != nil {
				tb.Errorf("meta/%s: %v", name, err)
			}
			v = int64(u)
		}
		return nil
	})
	return v
}

func wantErr(tb testing.TB, got, want error) {
	tb.Helper()
	if !errors.Is(got, want) {
		tb.Fatalf("error = %v, want %v", got, want)
	}
}

type boltTx = bolt.Tx

// mustBolt opens the closed store file at path as a plain bbolt database.
func mustBolt(tb testing.TB, path string) *bolt.DB {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	return db
}
