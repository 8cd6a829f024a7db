package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnkv/cairn"
)

// history writes the same history into s: puts, overwrites, deletes.
func history(tb testing.TB, s *Store) {
	for i := 0; i < 30; i++ {
		MustPut(tb, s, fmt.Sprintf("k%02d", i%10), fmt.Sprintf("v%d", i))
		if i%7 == 6 {
			MustDelete(tb, s, fmt.Sprintf("k%02d", i%10), "")
		}
	}
}

// HashKV is the same on two stores with the same history, before and after
// the same compaction (which drops records, but not what HashKV covers); it
// changes with the data and refuses revisions outside the history.
func TestHashKVAgreesAcrossCompactionProgress(t *testing.T) {
	a, b := MustNew(t), MustNew(t)
	history(t, a)
	history(t, b)
	rev := a.Rev()
	ha, ca, err := a.HashKV(rev)
	if err != nil {
		t.Fatal(err)
	}
	hb, _, _ := b.HashKV(0)
	if ha != hb || ca != 0 {
		t.Fatalf("same history: %x vs %x (compact %d)", ha, hb, ca)
	}
	// Compact both at 20 (MustCompact waits for the physical removal).
	MustCompact(t, a, 20)
	MustCompact(t, b, 20)
	ha, ca, _ = a.HashKV(rev)
	hb, _, _ = b.HashKV(rev)
	if ha != hb || ca != 20 {
		t.Fatalf("after the same compaction: %x vs %x (compact %d)", ha, hb, ca)
	}
	if h, _, _ := a.HashKV(25); h == ha {
		t.Fatal("hash at an older revision equals the newest")
	}
	MustPut(t, b, "extra", "x")
	if hb2, _, _ := b.HashKV(0); hb2 == ha {
		t.Fatal("a new write did not change the hash")
	}
	if _, _, err := a.HashKV(rev + 5); err != cairn.ErrFutureRev {
		t.Fatalf("future revision: %v", err)
	}
	if _, _, err := a.HashKV(10); err != cairn.ErrCompacted {
		t.Fatalf("compacted revision: %v", err)
	}
}

// Hash ignores the consistent index and changes with the data.
func TestHashOfTheStoreFile(t *testing.T) {
	a, b := MustNew(t), MustNew(t)
	history(t, a)
	history(t, b)
	ha, err := a.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if hb, _ := b.Hash(); hb != ha {
		t.Fatalf("same history: %x vs %x", ha, hb)
	}
	MustPut(t, b, "extra", "x")
	if hb, _ := b.Hash(); hb == ha {
		t.Fatal("a write did not change the hash")
	}
}

// A snapshot is the whole file, consistent; PrepareRestore makes a copy a
// store at consistent index 0 with the same data.
func TestSnapshotAndPrepareRestore(t *testing.T) {
	s := MustNew(t)
	history(t, s)
	if err := s.Flush(); err != nil { // a snapshot holds what is flushed
		t.Fatal(err)
	}
	sn, err := s.OpenSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	var buf bytes.Buffer
	n, err := sn.WriteTo(&buf)
	if err != nil || n != sn.Size() || int64(buf.Len()) != n {
		t.Fatalf("snapshot: %d bytes of %d (%v)", n, sn.Size(), err)
	}
	if sn.ConsistentIndex() == 0 {
		t.Fatal("the snapshot holds no consistent index")
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PrepareRestore(path); err != nil {
		t.Fatal(err)
	}
	r := MustOpen(t, path, Options{})
	if r.ConsistentIndex() != 0 || r.Rev() != s.Rev() {
		t.Fatalf("restored: consistent index %d, revision %d (want 0, %d)", r.ConsistentIndex(), r.Rev(), s.Rev())
	}
	h1, _, _ := s.HashKV(0)
	h2, _, _ := r.HashKV(0)
	if h1 != h2 {
		t.Fatal("the restored store holds other data")
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(bad, []byte("not a database"), 0o600)
	if err := PrepareRestore(bad); err == nil {
		t.Fatal("PrepareRestore took a file that is not a store")
	}
}
