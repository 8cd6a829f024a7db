package raftlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

const recoverySegBytes = 1 << 20

// twoBatchLog writes two Saves into a fresh WAL in dir and closes it:
// entries 1..5 with a HardState, then the final batch, entries 6..lastIndex
// of size bytes each (no HardState, so the final batch ends with an entry).
// It returns the entries of each batch.
func twoBatchLog(t *testing.T, dir string, lastIndex uint64, size int) (first, final []raftpb.Entry) {
	t.Helper()
	opts, _ := testOptions(recoverySegBytes)
	l := mustCreate(t, dir, []byte("md"), opts)
	first = makeEntries(1, 5, 1, size)
	mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 5}, first)
	final = makeEntries(6, lastIndex, 1, size)
	mustSave(t, l, raftpb.HardState{}, final)
	mustClose(t, l)
	return first, final
}

// finalBatch returns the records of the last batch in path.
func finalBatch(t *testing.T, path string) []frameInfo {
	t.Helper()
	frames := framesOf(t, path)
	start := frames[len(frames)-1].batchStart
	for i, f := range frames {
		if f.off == start {
			return frames[i:]
		}
	}
	t.Fatal("final batch not found")
	return nil
}

func TestTornTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		// damage tears the final batch of the segment at path and
		// returns how many of the final batch's entries survive.
		damage func(t *testing.T, path string, batch []frameInfo) (kept int)
		// quiet: nothing of the torn records reached the disk, so the
		// tail reads as the ordinary zeroed end of the log (no warning).
		quiet bool
		// dropsWhole: complete records of the torn write follow the hole
		// and are dropped with it.
		dropsWhole bool
	}{
		{"last record cut in half", func(t *testing.T, path string, batch []frameInfo) int {
			last := batch[len(batch)-1]
			if err := os.Truncate(path, last.off+last.size/2); err != nil {
				t.Fatal(err)
			}
			return len(batch) - 1
		}, false, false},
		{"last record header only", func(t *testing.T, path string, batch []frameInfo) int {
			last := batch[len(batch)-1]
			if err := os.Truncate(path, last.off+headerSize); err != nil {
				t.Fatal(err)
			}
			return len(batch) - 1
		}, false, false},
		{"second half of the last record zeroed", func(t *testing.T, path string, batch []frameInfo) int {
			last := batch[len(batch)-1]
			patchFile(t, path, last.off+last.size/2, make([]byte, last.size-last.size/2))
			return len(batch) - 1
		}, false, false},
		{"last record CRC mismatch, zeroes after", func(t *testing.T, path string, batch []frameInfo) int {
			last := batch[len(batch)-1]
			flipByte(t, path, last.off+last.size-9)
			return len(batch) - 1
		}, false, false},
		{"last three records never written", func(t *testing.T, path string, batch []frameInfo) int {
			d := batch[len(batch)-3]
			end := batch[len(batch)-1].off + batch[len(batch)-1].size
			patchFile(t, path, d.off, make([]byte, end-d.off))
			return len(batch) - 3
		}, true, false},
		{"a page in the middle of the final batch never written", func(t *testing.T, path string, batch []frameInfo) int {
			// The kernel wrote the batch's later pages but not this one:
			// complete records of the same batch follow the hole.
			end := batch[len(batch)-1].off + batch[len(batch)-1].size
			page := (batch[0].off/4096 + 1) * 4096
			if page+4096 >= end-1000 {
				t.Fatalf("final batch [%d, %d) too small for the test", batch[0].off, end)
			}
			patchFile(t, path, page, make([]byte, 4096))
			kept := 0
			for _, f := range batch {
				if f.off+f.size > page {
					break
				}
				kept++
			}
			return kept
		}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first, final := twoBatchLog(t, dir, 40, 300)
			path := lastSegment(t, dir)
			batch := finalBatch(t, path)
			if len(batch) != len(final) {
				t.Fatalf("final batch has %d records, want %d", len(batch), len(final))
			}
			kept := tc.damage(t, path, batch)
			tornAt := batch[kept].off

			opts, lb := testOptions(recoverySegBytes)
			l := mustOpen(t, dir, opts)
			want := append(first, final[:kept]...)
			checkEntries(t, l, want)
			checkHardState(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 5})
			logged := lb.String()
			if tc.quiet {
				if strings.Contains(logged, "level=WARN") {
					t.Fatalf("an all-zero tail warned:\n%s", logged)
				}
			} else if !strings.Contains(logged, "level=WARN") || !strings.Contains(logged, "torn write") ||
				!strings.Contains(logged, fmt.Sprintf("offset=%d", tornAt)) {
				t.Fatalf("torn write at offset %d not logged as a warning; log:\n%s", tornAt, logged)
			}
			if dropped := !strings.Contains(logged, "complete_records_dropped=0"); !tc.quiet && dropped != tc.dropsWhole {
				t.Fatalf("log says whole records dropped: %v, want %v; log:\n%s", dropped, tc.dropsWhole, logged)
			}
			if fileSize(t, path) < recoverySegBytes {
				t.Fatalf("segment is %d bytes after repair, want it preallocated to %d", fileSize(t, path), recoverySegBytes)
			}

			// Appends after the repair land where the torn write was and
			// survive another reopen, which finds nothing to repair.
			more := makeEntries(uint64(len(want)+1), uint64(len(want)+3), 2, 50)
			hs := raftpb.HardState{Term: 2, Vote: 1, Commit: uint64(len(want) + 3)}
			mustSave(t, l, hs, more)
			mustClose(t, l)
			opts, lb = testOptions(recoverySegBytes)
			l = mustOpen(t, dir, opts)
			checkEntries(t, l, append(want, more...))
			checkHardState(t, l, hs)
			if strings.Contains(lb.String(), "level=WARN") {
				t.Fatalf("second reopen warned:\n%s", lb)
			}
		})
	}
}

// Zeroes after the last record are the ordinary state of a preallocated
// segment: nothing to repair, nothing to warn about. A segment cut exactly
// after its last record (a crash during rotation) is also whole.
func TestCleanTail(t *testing.T) {
	for _, cut := range []bool{false, true} {
		t.Run(fmt.Sprintf("cut=%v", cut), func(t *testing.T) {
			dir := t.TempDir()
			first, final := twoBatchLog(t, dir, 12, 100)
			path := lastSegment(t, dir)
			if cut {
				batch := finalBatch(t, path)
				last := batch[len(batch)-1]
				if err := os.Truncate(path, last.off+last.size); err != nil {
					t.Fatal(err)
				}
			}
			opts, lb := testOptions(recoverySegBytes)
			l := mustOpen(t, dir, opts)
			checkEntries(t, l, append(first, final...))
			if strings.Contains(lb.String(), "level=WARN") {
				t.Fatalf("clean tail warned:\n%s", lb)
			}
			if fileSize(t, path) < recoverySegBytes {
				t.Fatalf("segment is %d bytes, want it preallocated to %d", fileSize(t, path), recoverySegBytes)
			}
			mustSave(t, l, raftpb.HardState{Term: 1, Commit: 13}, makeEntries(13, 13, 1, 10))
			mustClose(t, l)
			l = mustOpen(t, dir, opts)
			checkEntries(t, l, append(append(first, final...), makeEntries(13, 13, 1, 10)...))
		})
	}
}

// wantCorrupt asserts that opening dir fails with a CorruptError at path
// (a file or the directory) and offset (-1: none), whose message says so.
func wantCorrupt(t *testing.T, dir, path string, offset int64, reason string) {
	t.Helper()
	opts, _ := testOptions(recoverySegBytes)
	l, err := Open(dir, opts)
	if err == nil {
		l.Close()
		t.Fatal("Open succeeded on a damaged WAL")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v; want an error matching ErrCorrupt", err)
	}
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Open: %T %v; want a *CorruptError", err, err)
	}
	if ce.Path != path || ce.Offset != offset {
		t.Fatalf("Open: %v\nreports %s offset %d, want %s offset %d", err, ce.Path, ce.Offset, path, offset)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || (offset >= 0 && !strings.Contains(msg, fmt.Sprintf("offset %d", offset))) {
		t.Fatalf("message %q does not name %s and offset %d", msg, path, offset)
	}
	if !strings.Contains(msg, reason) {
		t.Fatalf("message %q does not say %q", msg, reason)
	}
}

func TestCorruptionBeforeTheTail(t *testing.T) {
	t.Run("CRC mismatch followed by a later write", func(t *testing.T) {
		dir := t.TempDir()
		twoBatchLog(t, dir, 10, 100)
		path := lastSegment(t, dir)
		frames := framesOf(t, path)
		third := lastOfType(t, frames[:len(frames)-5], typeEntry) // an entry of the first batch
		flipByte(t, path, third.off+headerSize+5)
		wantCorrupt(t, dir, path, third.off, "CRC mismatch")
	})
	t.Run("zeroed sector followed by a later write", func(t *testing.T) {
		// Looks unwritten, but a whole later write follows it: the
		// first write was fsynced, so this is damage, not a torn write.
		dir := t.TempDir()
		twoBatchLog(t, dir, 8, 2000)
		path := lastSegment(t, dir)
		frames := framesOf(t, path)
		var victim frameInfo
		for _, f := range frames {
			if f.typ == typeEntry && f.size > 1100 {
				victim = f
				break
			}
		}
		sector := (victim.off/512 + 1) * 512
		patchFile(t, path, sector, make([]byte, 512))
		wantCorrupt(t, dir, path, victim.off, "later write")
	})
	t.Run("damage in the final write that does not look unwritten", func(t *testing.T) {
		// A flipped bit with complete records of the same write after it
		// and no zeroed sector: the write reached the disk whole and was
		// damaged later, so its records may have been acknowledged.
		dir := t.TempDir()
		_, final := twoBatchLog(t, dir, 20, 200)
		path := lastSegment(t, dir)
		batch := finalBatch(t, path)
		if len(batch) != len(final) {
			t.Fatal("unexpected final batch")
		}
		victim := batch[len(batch)/2]
		flipByte(t, path, victim.off+headerSize+3)
		wantCorrupt(t, dir, path, victim.off, "do not look unwritten")
	})
	t.Run("length field damaged in the middle", func(t *testing.T) {
		dir := t.TempDir()
		twoBatchLog(t, dir, 10, 100)
		path := lastSegment(t, dir)
		frames := framesOf(t, path)
		victim := frames[3]
		patchFile(t, path, victim.off, []byte{0xff, 0xff, 0xff, 0x7f})
		wantCorrupt(t, dir, path, victim.off, "later write")
	})
}

// multiSegmentLog writes enough entries into small segments to fill several.
func multiSegmentLog(t *testing.T, dir string) []raftpb.Entry {
	t.Helper()
	opts, _ := testOptions(8 << 10)
	l := mustCreate(t, dir, []byte("md"), opts)
	var all []raftpb.Entry
	for i := uint64(1); i <= 200; i += 10 {
		e := makeEntries(i, i+9, 1, 100)
		mustSave(t, l, raftpb.HardState{Term: 1, Commit: i + 9}, e)
		all = append(all, e...)
	}
	mustClose(t, l)
	if n := len(segmentNames(t, dir)); n < 4 {
		t.Fatalf("want at least 4 segments, got %d", n)
	}
	return all
}

func TestCorruptionInEarlierSegment(t *testing.T) {
	t.Run("CRC mismatch at the end of a non-last segment", func(t *testing.T) {
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		path := filepath.Join(dir, segmentNames(t, dir)[1])
		frames := framesOf(t, path)
		last := frames[len(frames)-1]
		flipByte(t, path, last.off+last.size-9)
		wantCorrupt(t, dir, path, last.off, "not the last segment")
	})
	t.Run("non-last segment cut short", func(t *testing.T) {
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		path := filepath.Join(dir, segmentNames(t, dir)[0])
		frames := framesOf(t, path)
		last := frames[len(frames)-1]
		if err := os.Truncate(path, last.off+last.size-8); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, dir, path, last.off, "cut short")
	})
	t.Run("non-last segment with zeroes after its records", func(t *testing.T) {
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		path := filepath.Join(dir, segmentNames(t, dir)[0])
		size := fileSize(t, path)
		if err := os.Truncate(path, size+4096); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, dir, path, size, "zeroed space")
	})
	t.Run("missing middle segment", func(t *testing.T) {
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		names := segmentNames(t, dir)
		if err := os.Remove(filepath.Join(dir, names[2])); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, dir, dir, -1, "segment 2 is missing")
	})
	t.Run("segment renamed out of order", func(t *testing.T) {
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		names := segmentNames(t, dir)
		seq, _ := parseSegmentName(names[1])
		if err := os.Rename(filepath.Join(dir, names[1]), filepath.Join(dir, segmentName(seq+100, 1))); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, dir, dir, -1, "is missing")
	})
	t.Run("missing oldest segment", func(t *testing.T) {
		// Without Compact's guarantee (a snapshot covering the removed
		// entries), the remaining log has a hole at its start.
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		if err := os.Remove(filepath.Join(dir, segmentNames(t, dir)[0])); err != nil {
			t.Fatal(err)
		}
		wantCorrupt(t, dir, dir, -1, "entries 1 to")
	})
	t.Run("last segment without a head", func(t *testing.T) {
		dir := t.TempDir()
		multiSegmentLog(t, dir)
		path := lastSegment(t, dir)
		patchFile(t, path, 0, make([]byte, 64))
		wantCorrupt(t, dir, path, 0, "head")
	})
}
