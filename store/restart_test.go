package store

import (
	"os"
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
)

// snapshot reads every key at every revision from compacted to current.
func snapshot(t *testing.T, s *Store) map[int64][]string {
	t.Helper()
	out := map[int64][]string{}
	for rev := max(s.CompactRev(), 1); rev <= s.Rev(); rev++ {
		resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
		if err != nil {
			t.Fatalf("range at %d: %v", rev, err)
		}
		out[rev] = kvsString(resp.Kvs)
	}
	return out
}

func TestReopenKeepsEverything(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	MustPut(t, s, "b", "2")
	MustPut(t, s, "a", "3")
	MustDelete(t, s, "b", "")
	MustPut(t, s, "b", "4")
	MustCompact(t, s, 4)
	MustApply(t, s, func(b *Batch) {
		b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{Put: &cairn.PutRequest{Key: []byte("c"), Value: []byte("5")}},
			{Put: &cairn.PutRequest{Key: []byte("a"), Value: []byte("6")}},
		}})
	})
	before := snapshot(t, s)
	rev, crev, ci := s.Rev(), s.CompactRev(), s.ConsistentIndex()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpen(t, path, Options{})
	if s.Rev() != rev || s.CompactRev() != crev || s.ConsistentIndex() != ci {
		t.Fatalf("reopened at rev %d compact %d ci %d, want %d %d %d", s.Rev(), s.CompactRev(), s.ConsistentIndex(), rev, crev, ci)
	}
	after := snapshot(t, s)
	for r, kvs := range before {
		if !slices.Equal(after[r], kvs) {
			t.Errorf("at %d: before %q, after reopen %q", r, kvs, after[r])
		}
	}
	_, err = s.Range(&cairn.RangeRequest{Key: []byte("a"), Revision: crev - 1})
	wantErr(t, err, cairn.ErrCompacted)
	// Writing goes on from the same revision with the same versions.
	if resp := MustPut(t, s, "a", "7"); resp.Header.Revision != rev+1 {
		t.Fatalf("first put after reopen at %d, want %d", resp.Header.Revision, rev+1)
	}
	if got := kvString(MustGet(t, s, "a")); got != "a=7 c2 m8 v4 l0" {
		t.Fatalf("a = %s", got)
	}
}

// TestReopenAfterCompactingTopTombstone: the newest revision was a delete
// that compaction removed from disk; the revision must not go back.
func TestReopenAfterCompactingTopTombstone(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	MustDelete(t, s, "a", "")
	MustCompact(t, s, 3)
	if got := storeRevisions(t, s); len(got) != 0 {
		t.Fatalf("bbolt holds %q", got)
	}
	s.Close()
	s = MustOpen(t, path, Options{})
	if s.Rev() != 3 || s.CompactRev() != 3 {
		t.Fatalf("reopened at rev %d compact %d, want 3 3", s.Rev(), s.CompactRev())
	}
	if r := MustPut(t, s, "a", "2").Header.Revision; r != 4 {
		t.Fatalf("next put at %d, want 4", r)
	}
}

// TestInterruptedCompactionResumes stops the physical compaction after its
// first chunk (as a crash would), reopens, and checks the removal finishes,
// including a tombstone whose put the first chunk already removed.
func TestInterruptedCompactionResumes(t *testing.T) {
	path := testDB(t)
	stopped := make(chan struct{})
	s, err := Open(path, Options{CompactionBatchLimit: 1, hooks: &testHooks{afterCompactChunk: func(n int) bool {
		close(stopped)
		return false
	}}})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "x", "1")   // 2
	MustDelete(t, s, "x", "") // 3
	MustPut(t, s, "y", "1")   // 4
	MustPut(t, s, "y", "2")   // 5
	MustPut(t, s, "z", "1")   // 6
	_, _, err = compact(t, s, 6)
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, stopped, "first compaction chunk")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := diskRevisions(t, path), []string{"3.0 x tomb", "4.0 y", "5.0 y", "6.0 z"}; !slices.Equal(got, want) {
		t.Fatalf("after one chunk bbolt holds %q, want %q", got, want)
	}
	if sch, fin := metaField(t, path, metaScheduledCompactRev), metaField(t, path, metaFinishedCompactRev); sch != 6 || fin != -1 {
		t.Fatalf("meta scheduled %d finished %d, want 6 and absent", sch, fin)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rev() != 6 || s.CompactRev() != 6 {
		t.Fatalf("reopened at rev %d compact %d", s.Rev(), s.CompactRev())
	}
	// A refused compaction's barrier closes when the resumed one is done.
	_, barrier, err := compact(t, s, 6)
	wantErr(t, err, cairn.ErrCompacted)
	waitClosed(t, barrier, "resumed compaction")
	got := snapshot(t, s)
	if want := []string{"y=2 c4 m5 v2 l0", "z=1 c6 m6 v1 l0"}; !slices.Equal(got[6], want) {
		t.Fatalf("state %q, want %q", got[6], want)
	}
	s.Close()
	if got, want := diskRevisions(t, path), []string{"5.0 y", "6.0 z"}; !slices.Equal(got, want) {
		t.Fatalf("after resume bbolt holds %q, want %q", got, want)
	}
	if fin := metaField(t, path, metaFinishedCompactRev); fin != 6 {
		t.Fatalf("finished_compact_rev %d, want 6", fin)
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	// A bbolt file of another layout.
	path := testDB(t)
	s := MustOpen(t, path, Options{})
	s.Close()
	db := mustBolt(t, path)
	db.Update(func(tx *boltTx) error { return tx.Bucket(bucketMeta).Put(metaFormat, putU64(2)) })
	db.Close()
	if s, err := Open(path, Options{}); err == nil {
		s.Close()
		t.Fatal("opened a file of layout 2")
	}
	// Not a bbolt file at all.
	junk := testDB(t)
	if err := os.WriteFile(junk, []byte("not a database, not at all, definitely not"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(junk, Options{}); err == nil {
		s.Close()
		t.Fatal("opened a junk file")
	}
}
