package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestLostUnsyncedRecordBeforeLaterOnes is a power loss that took the
// sector of one commit-only HardState but kept later ones (raftlog/doc.go,
// "Recovery"). A member's WAL ends with a HardState that only moved the
// commit index, written without fdatasync; the test appends byte-for-byte
// copies of it, as further commit-only Saves would have written them (each
// a write of its own, saying the file was durable as far as the original
// says), then zeroes the original's sector from the original on, while the
// copies in later sectors stay. The member must start, cut the log at the
// original, keep every acknowledged write and take new ones.
func TestLostUnsyncedRecordBeforeLaterOnes(t *testing.T) {
	dir := t.TempDir()
	m := startMember(t, dir)
	acks := putKeys(t, m, "unsynced", 100)
	m.kill9()

	files := walFiles(t, dir)
	path := files[len(files)-1]
	x, size := lastRecord(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := data[x : x+size]
	if typ, back := rec[8], rec[12:16]; typ != 3 || !bytes.Equal(back, []byte{0, 0, 0, 0}) {
		t.Fatalf("the WAL ends with a record of type %d, back %x; want a hardstate (3) written alone (back 0)", typ, back)
	}
	const sector = 512
	copies := 2*sector/int(size) + 1 // past the next sector boundary and beyond
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 1; i <= copies; i++ {
		if _, err := f.WriteAt(rec, x+int64(i)*size); err != nil {
			t.Fatal(err)
		}
	}
	end := (x/sector + 1) * sector
	if _, err := f.WriteAt(make([]byte, end-x), x); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("hardstate at %d (%d bytes) copied %d times after it, then bytes %d..%d zeroed", x, size, copies, x, end)

	m.restart()
	logs := m.logs.String()
	if !strings.Contains(logs, "torn write") || !strings.Contains(logs, fmt.Sprintf(`"offset":%d`, x)) {
		t.Errorf("the member did not log cutting the WAL at %d; logs:\n%s", x, logs)
	}
	checkAcks(t, m, acks)
	if after := putKeys(t, m, "after", 1); after[0].rev <= acks[len(acks)-1].rev {
		t.Fatalf("revision after restart %d is not above the last acknowledged %d", after[0].rev, acks[len(acks)-1].rev)
	}
}

// putKeys writes n keys <prefix>/000, <prefix>/001, ... one after another
// and returns the acknowledged writes.
func putKeys(t *testing.T, m *member, prefix string, n int) []ack {
	t.Helper()
	acks := make([]ack, n)
	for i := range acks {
		a := &acks[i]
		a.key, a.value = fmt.Sprintf("%s/%03d", prefix, i), fmt.Sprintf("value-%d", i)
		var err error
		if a.rev, err = m.put(context.Background(), a.key, a.value); err != nil {
			t.Fatal(err)
		}
	}
	return acks
}
