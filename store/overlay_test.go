package store

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// viewLines scans v over [from, to] and renders each record as
// "main.sub key[=value| tomb]".
func viewLines(t *testing.T, v *historyView, from, to int64) []string {
	t.Helper()
	var out []string
	var r record
	err := v.scan(from, to, func(rev revision, data []byte) bool {
		if err := decodeRecord(data, &r); err != nil {
			t.Fatalf("revision %v: %v", rev, err)
		}
		line := fmt.Sprintf("%v %s", rev, r.key)
		if r.tombstone {
			line += " tomb"
		} else {
			line += "=" + string(r.value)
		}
		out = append(out, line)
		return true
	})
	if err != nil {
		t.Fatalf("scan [%d, %d]: %v", from, to, err)
	}
	return out
}

// TestHistoryViewAcrossFlush: a history view reads revisions from bbolt and
// from the overlay in one order, and keeps reading the same records while
// the flusher moves them and the compaction removes them.
func TestHistoryViewAcrossFlush(t *testing.T) {
	s := manual(t, testDB(t), Options{})
	MustPut(t, s, "a", "1")   // 2
	MustPut(t, s, "b", "1")   // 3
	mustFlush(t, s)           // 2, 3 in bbolt
	MustPut(t, s, "a", "2")   // 4
	MustDelete(t, s, "b", "") // 5
	MustApply(t, s, func(b *Batch) {
		b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{ // 6.0, 6.1
			{Put: &cairn.PutRequest{Key: []byte("c"), Value: []byte("1")}},
			{Put: &cairn.PutRequest{Key: []byte("d"), Value: []byte("1")}},
		}})
	})

	v, err := s.viewHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer v.release()
	all := []string{"2.0 a=1", "3.0 b=1", "4.0 a=2", "5.0 b tomb", "6.0 c=1", "6.1 d=1"}
	check := func(when string) {
		t.Helper()
		if got := viewLines(t, v, 1, 100); !slices.Equal(got, all) {
			t.Fatalf("%s: scan %q, want %q", when, got, all)
		}
		if got := viewLines(t, v, 3, 5); !slices.Equal(got, all[1:4]) {
			t.Fatalf("%s: scan [3, 5] %q, want %q", when, got, all[1:4])
		}
		if got := viewLines(t, v, 6, 6); !slices.Equal(got, all[4:]) {
			t.Fatalf("%s: scan [6, 6] %q, want %q", when, got, all[4:])
		}
		for _, rev := range []revision{{2, 0}, {5, 0}, {6, 1}} {
			if _, err := v.get(rev); err != nil {
				t.Fatalf("%s: get %v: %v", when, rev, err)
			}
		}
	}
	check("mixed")
	// Later writes stay out of the view; the flush and the compaction of
	// what it reads do not disturb it.
	MustPut(t, s, "a", "3") // 7
	_, done, err := compact(t, s, 7)
	if err != nil {
		t.Fatal(err)
	}
	mustFlush(t, s)
	waitClosed(t, done, "physical compaction")
	if got := storeRevisions(t, s); !slices.Equal(got, []string{"6.0 c", "6.1 d", "7.0 a"}) {
		t.Fatalf("after the compaction bbolt holds %q", got)
	}
	check("after flush and compaction")
	v.release()

	v, err = s.viewHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer v.release()
	if err := v.scan(6, 7, func(revision, []byte) bool { return true }); err != cairn.ErrCompacted {
		t.Fatalf("scan below the compaction: %v, want ErrCompacted", err)
	}
	if got := viewLines(t, v, 7, 7); !slices.Equal(got, []string{"7.0 a=3"}) {
		t.Fatalf("scan [7, 7] %q", got)
	}
}

// TestStagedWritesGoWithTheirBatch: writes staged outside the revisions
// bucket reach bbolt with their batch's flush, in order, and a crash before
// the flush loses them together with the batch.
func TestStagedWritesGoWithTheirBatch(t *testing.T) {
	path := testDB(t)
	s := manual(t, path, Options{})
	key := []byte("test/staged")
	MustApply(t, s, func(b *Batch) {
		b.stageWrite(bucketMeta, key, []byte("one"))
		b.stageWrite(bucketMeta, key, []byte("two"))
	})
	mustFlush(t, s)
	MustApply(t, s, func(b *Batch) { b.stageWrite(bucketMeta, key, nil) })
	crash(t, s)
	if got := metaBytes(t, path, key); got != "two" {
		t.Fatalf("after the crash %q = %q, want the flushed %q", key, got, "two")
	}

	s = manual(t, path, Options{})
	MustApply(t, s, func(b *Batch) { b.stageWrite(bucketMeta, key, nil) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := metaBytes(t, path, key); got != "<absent>" {
		t.Fatalf("after a staged delete %q = %q", key, got)
	}
}

// metaBytes reads a meta key of the closed store file at path.
func metaBytes(t *testing.T, path string, key []byte) string {
	t.Helper()
	db := mustBolt(t, path)
	defer db.Close()
	out := "<absent>"
	db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(key); v != nil {
			out = string(v)
		}
		return nil
	})
	return out
}
