package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
)

// lastRecord finds the last record of a WAL segment by walking the frames
// as raftlog/doc.go lays them out: a 16-byte header whose first 4 bytes are
// the little-endian payload length, the payload, padding to 8 bytes; zeroed
// space after the last frame.
func lastRecord(t *testing.T, path string) (start, size int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var off int64
	start = -1
	for off+16 <= int64(len(data)) {
		hdr := data[off : off+16]
		zero := true
		for _, b := range hdr {
			if b != 0 {
				zero = false
				break
			}
		}
		if zero {
			break
		}
		n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
		pad := (8 - n%8) % 8
		start, size = off, 16+n+pad
		off += size
	}
	if start < 0 {
		t.Fatalf("no record in %s", path)
	}
	return start, size
}

// TestTornWALTailKeepsAcknowledgedWrites cuts the last WAL record in half,
// as a crash in the middle of a write would leave it, and checks that the
// member starts, says it truncated a torn tail, and still has everything it
// acknowledged.
func TestTornWALTailKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	m := startMember(t, dir)
	ctx := context.Background()
	var acks []ack
	for i := 0; i < 200; i++ {
		key, value := fmt.Sprintf("torn/%04d", i), fmt.Sprintf("value-%d", i)
		rev, err := m.put(ctx, key, value)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack{key, value, rev})
	}
	m.kill9()

	files := walFiles(t, dir)
	if len(files) == 0 {
		t.Fatal("no WAL segment files")
	}
	last := files[len(files)-1]
	start, size := lastRecord(t, last)
	f, err := os.OpenFile(last, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cut := start + size/2
	if _, err := f.WriteAt(make([]byte, start+size-cut), cut); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Logf("zeroed bytes %d..%d of %s (record at %d, %d bytes)", cut, start+size, last, start, size)

	m.restart()
	if !strings.Contains(m.logs.String(), "torn") {
		t.Errorf("the member did not log the torn tail it cut off; logs:\n%s", m.logs)
	}
	for _, line := range strings.Split(m.logs.String(), "\n") {
		if strings.Contains(line, "torn") || strings.Contains(line, "commit index") {
			t.Log(line)
		}
	}
	checkAcks(t, m, acks)
	// And it keeps working.
	rev, err := m.put(ctx, "torn/after", "x")
	if err != nil {
		t.Fatal(err)
	}
	if rev <= acks[len(acks)-1].rev {
		t.Fatalf("revision after restart %d is not above the last acknowledged %d", rev, acks[len(acks)-1].rev)
	}
}
