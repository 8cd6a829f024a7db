package store

import (
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// storeRevisions lists the revisions bbolt holds now, as diskRevisions.
func storeRevisions(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRevisions).ForEach(func(k, v []byte) error {
			rev, _ := parseRevKey(k)
			var r record
			if err := decodeRecord(v, &r); err != nil {
				return err
			}
			line := rev.String() + " " + string(r.key)
			if r.tombstone {
				line += " tomb"
			}
			out = append(out, line)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compact(t *testing.T, s *Store, rev int64) (*cairn.CompactionResponse, <-chan struct{}, error) {
	t.Helper()
	var (
		resp *cairn.CompactionResponse
		done <-chan struct{}
		err  error
	)
	MustApply(t, s, func(b *Batch) { resp, done, err = b.Compact(&cairn.CompactionRequest{Revision: rev}) })
	return resp, done, err
}

func TestCompactRules(t *testing.T) {
	s := MustNew(t)
	// A new store was never compacted: compacting at 0 succeeds once (etcd
	// starts at -1).
	resp, done, err := compact(t, s, 0)
	if err != nil || resp.Header.Revision != 1 {
		t.Fatalf("compact 0 on a new store: %v %v", resp, err)
	}
	waitClosed(t, done, "compact 0")
	_, done, err = compact(t, s, 0)
	wantErr(t, err, cairn.ErrCompacted)
	waitClosed(t, done, "barrier of a refused compaction")
	_, _, err = compact(t, s, -1)
	wantErr(t, err, cairn.ErrCompacted)
	_, done, err = compact(t, s, 2)
	wantErr(t, err, cairn.ErrFutureRev)
	if done != nil {
		t.Fatal("ErrFutureRev came with a done channel")
	}

	MustPut(t, s, "a", "1")
	MustPut(t, s, "a", "2") // rev 3
	resp, done, err = compact(t, s, 3)
	if err != nil || resp.Header.Revision != 3 || s.Rev() != 3 || s.CompactRev() != 3 {
		t.Fatalf("compact 3: %v %v; rev %d compact %d", resp, err, s.Rev(), s.CompactRev())
	}
	waitClosed(t, done, "compact 3")
	for _, rev := range []int64{3, 2} {
		_, _, err = compact(t, s, rev)
		wantErr(t, err, cairn.ErrCompacted)
	}
	_, _, err = compact(t, s, 4)
	wantErr(t, err, cairn.ErrFutureRev)
	if s.Rev() != 3 || s.CompactRev() != 3 {
		t.Fatalf("refused compactions changed rev %d compact %d", s.Rev(), s.CompactRev())
	}
}

func TestCompactReads(t *testing.T) {
	s := rangeFixture(t) // a=1@2 b=2@3 c=3@4 b=22@5 d=4@6 c deleted@7 e=5@8 a=11@9
	all := func(rev int64) (*cairn.RangeResponse, error) {
		return s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
	}

	b := s.Begin()
	if _, _, err := b.Compact(&cairn.CompactionRequest{Revision: 5}); err != nil {
		t.Fatal(err)
	}
	// Inside the batch the compaction applies; outside, not before Commit.
	_, err := b.Range(&cairn.RangeRequest{Key: []byte("a"), Revision: 4})
	wantErr(t, err, cairn.ErrCompacted)
	if _, err := all(4); err != nil {
		t.Fatalf("read at 4 before the compaction committed: %v", err)
	}
	if err := b.Commit(1); err != nil {
		t.Fatal(err)
	}

	for _, rev := range []int64{1, 4} {
		_, err := all(rev)
		wantErr(t, err, cairn.ErrCompacted)
	}
	want := map[int64][]string{
		5: {"a=1 c2 m2 v1 l0", "b=22 c3 m5 v2 l0", "c=3 c4 m4 v1 l0"},
		6: {"a=1 c2 m2 v1 l0", "b=22 c3 m5 v2 l0", "c=3 c4 m4 v1 l0", "d=4 c6 m6 v1 l0"},
		7: {"a=1 c2 m2 v1 l0", "b=22 c3 m5 v2 l0", "d=4 c6 m6 v1 l0"},
		0: {"a=11 c2 m9 v2 l0", "b=22 c3 m5 v2 l0", "d=4 c6 m6 v1 l0", "e=5 c8 m8 v1 l0"},
	}
	for rev, w := range want {
		resp, err := all(rev)
		if err != nil {
			t.Fatalf("read at %d: %v", rev, err)
		}
		if got := kvsString(resp.Kvs); !slices.Equal(got, w) {
			t.Errorf("at %d: %q, want %q", rev, got, w)
		}
	}
	// Version counts survive the loss of the early revisions.
	MustPut(t, s, "b", "222")
	if got := kvString(MustGet(t, s, "b")); got != "b=222 c3 m10 v3 l0" {
		t.Fatalf("b after compaction and put: %s", got)
	}
}

// TestCompactPhysical follows doc.go's example: key k put at 2 and 4,
// deleted at 5, put at 7; key j put at 3 and 6.
func TestCompactPhysical(t *testing.T) {
	s := MustNew(t)
	MustPut(t, s, "k", "2")
	MustPut(t, s, "j", "3")
	MustPut(t, s, "k", "4")
	MustDelete(t, s, "k", "")
	MustPut(t, s, "j", "6")
	MustPut(t, s, "k", "7")
	steps := []struct {
		rev       int64
		wantDisk  []string
		wantState []string // all keys at rev
	}{
		{3, []string{"2.0 k", "3.0 j", "4.0 k", "5.0 k tomb", "6.0 j", "7.0 k"}, []string{"j=3 c3 m3 v1 l0", "k=2 c2 m2 v1 l0"}},
		{4, []string{"3.0 j", "4.0 k", "5.0 k tomb", "6.0 j", "7.0 k"}, []string{"j=3 c3 m3 v1 l0", "k=4 c2 m4 v2 l0"}},
		{6, []string{"6.0 j", "7.0 k"}, []string{"j=6 c3 m6 v2 l0"}},
		{7, []string{"6.0 j", "7.0 k"}, []string{"j=6 c3 m6 v2 l0", "k=7 c7 m7 v1 l0"}},
	}
	for _, st := range steps {
		MustCompact(t, s, st.rev)
		if got := storeRevisions(t, s); !slices.Equal(got, st.wantDisk) {
			t.Fatalf("compact %d: bbolt holds %q, want %q", st.rev, got, st.wantDisk)
		}
		resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: st.rev})
		if err != nil {
			t.Fatal(err)
		}
		if got := kvsString(resp.Kvs); !slices.Equal(got, st.wantState) {
			t.Fatalf("compact %d: state %q, want %q", st.rev, got, st.wantState)
		}
	}
	// Deleting and compacting everything empties the bucket.
	MustDelete(t, s, "\x00", "\x00")
	MustCompact(t, s, s.Rev())
	if got := storeRevisions(t, s); len(got) != 0 {
		t.Fatalf("bbolt still holds %q", got)
	}
	if s.idx.tree.Len() != 0 {
		t.Fatalf("index still holds %d keys", s.idx.tree.Len())
	}
}

func TestCompactDoneClosesAfterCommit(t *testing.T) {
	s := MustNew(t)
	MustPut(t, s, "a", "1")
	MustPut(t, s, "a", "2")
	b := s.Begin()
	_, done, err := b.Compact(&cairn.CompactionRequest{Revision: 3, Physical: true})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("done closed before Commit")
	default:
	}
	// A second compaction in the same batch must be above the first.
	_, barrier, err := b.Compact(&cairn.CompactionRequest{Revision: 3})
	wantErr(t, err, cairn.ErrCompacted)
	if err := b.Commit(1); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, done, "physical compaction")
	waitClosed(t, barrier, "barrier")
	if got := storeRevisions(t, s); !slices.Equal(got, []string{"3.0 a"}) {
		t.Fatalf("bbolt holds %q", got)
	}
}

func TestCloseClosesPendingDone(t *testing.T) {
	s, err := Open(testDB(t), Options{hooks: &testHooks{afterCompactChunk: func(int) bool { return false }}, CompactionBatchLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	MustPut(t, s, "a", "2")
	MustPut(t, s, "a", "3")
	_, done, err := compact(t, s, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, done, "done after Close")
}
