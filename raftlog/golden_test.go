package raftlog

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// TestDocWorkedExample (doc_test.go) pins the segment, metadata, entry and
// hardstate records of a first segment. The tests here pin the rest of
// what replay reads: snapshot records of both modes, the head of a later
// segment, which restates the snapshot and the HardState, under its file
// name, and a commit-only HardState written without an fdatasync. A change
// that fails them changes what existing logs hold.

// The golden segments, one record a string: length, CRC, type and
// reserved bytes, back distance, synced offset, payload, padding
// (little-endian header, doc.go "Records"); payloads are protobuf, field by
// field.

// goldenSegment0 is 0000000000000000-0000000000000001.wal after
// writeGoldenLog, cut to size when the next segment began.
var goldenSegment0 = []string{
	"18000000 ef9d1530 01000000 00000000 636169726e77616c 02000000 00000000 0000000000000000",       // segment: magic, version 2, seq 0 (no synced offset)
	"0a000000 865765f2 02000000 28000000 0000000000000000 6d31 000000000000",                        // metadata "m1", synced 0 (the head)
	"11000000 7c0ca743 04000000 00000000 4800000000000000 0800 1002 1801 220161 00000000000000",     // entry {type normal, term 2, index 1, "a"}, synced 0x48 (the head's end)
	"11000000 885225fe 04000000 28000000 4800000000000000 0800 1002 1802 220162 00000000000000",     // entry {term 2, index 2, "b"}
	"11000000 ae1ccbc8 04000000 50000000 4800000000000000 0801 1002 1803 220163 00000000000000",     // entry {type conf change, term 2, index 3, "c"}
	"0e000000 f6c7f1f9 03000000 78000000 4800000000000000 0802 1001 1802 0000",                      // hardstate {term 2, vote 1, commit 2}
	"17000000 39eb1180 05000000 00000000 e000000000000000 01 0a08 0801 0802 1003 2800 1002 1802 00", // snapshot, mode 1 (keep): {conf state {voters 1 2, learner 3}, index 2, term 2}
}

// goldenSegment1 is the start of 0000000000000001-0000000000000004.wal
// (zeroes follow): its head restates the snapshot (mode 1) and the
// HardState; then a Save, a commit-only Save (not fsynced: the snapshot
// record after it still says the file is durable up to 0xd8 only) and a
// received snapshot.
var goldenSegment1 = []string{
	"18000000 c8e02979 01000000 00000000 636169726e77616c 02000000 00000000 0100000000000000",       // segment: version 2, seq 1
	"0a000000 865765f2 02000000 28000000 0000000000000000 6d31 000000000000",                        // metadata "m1"
	"17000000 451ea002 05000000 48000000 0000000000000000 01 0a08 0801 0802 1003 2800 1002 1802 00", // snapshot restated, mode 1
	"0e000000 d9021464 03000000 70000000 0000000000000000 0802 1001 1802 0000",                      // hardstate restated
	"11000000 0cdaac0f 04000000 00000000 9000000000000000 0800 1002 1804 220164 00000000000000",     // entry {term 2, index 4, "d"}, synced 0x90
	"0e000000 fe7d6407 03000000 28000000 9000000000000000 0802 1001 1803 0000",                      // hardstate {term 2, vote 1, commit 3}
	"0e000000 abef87a6 03000000 00000000 d800000000000000 0802 1001 1804 0000",                      // hardstate {term 2, vote 1, commit 4}: commit only
	"13000000 82c4dbcb 05000000 00000000 d800000000000000 02 0a04 0801 2800 100a 1803 0000000000",   // snapshot, mode 2 (replace): {conf state {voter 1}, index 10, term 3}
}

// goldenV1Segment0 and goldenV1Segment1 are the same two segments as
// format 1 wrote them (cairn before the synced offset), from the same
// history without the commit-only Save. This build still reads them.
var goldenV1Segment0 = []string{
	"18000000 1cfded23 01000000 00000000 636169726e77616c 01000000 00000000 0000000000000000", // segment: magic, version 1, seq 0
	"02000000 f3c7ff2a 02000000 28000000 6d31 000000000000",                                   // metadata "m1"
	"09000000 9ebcfc97 04000000 00000000 0800 1002 1801 220161 00000000000000",                // entry {type normal, term 2, index 1, "a"}
	"09000000 d5fca0e0 04000000 20000000 0800 1002 1802 220162 00000000000000",                // entry {term 2, index 2, "b"}
	"09000000 c3e7c08c 04000000 40000000 0801 1002 1803 220163 00000000000000",                // entry {type conf change, term 2, index 3, "c"}
	"06000000 85f7392a 03000000 60000000 0802 1001 1802 0000",                                 // hardstate {term 2, vote 1, commit 2}
	"0f000000 f40c8a4d 05000000 00000000 01 0a08 0801 0802 1003 2800 1002 1802 00",            // snapshot, mode 1 (keep): {conf state {voters 1 2, learner 3}, index 2, term 2}
}

var goldenV1Segment1 = []string{
	"18000000 3b80d16a 01000000 00000000 636169726e77616c 01000000 00000000 0100000000000000", // segment: seq 1
	"02000000 f3c7ff2a 02000000 28000000 6d31 000000000000",                                   // metadata "m1"
	"0f000000 ba6add8d 05000000 40000000 01 0a08 0801 0802 1003 2800 1002 1802 00",            // snapshot restated, mode 1
	"06000000 85f7392a 03000000 60000000 0802 1001 1802 0000",                                 // hardstate restated
	"09000000 c9336a04 04000000 00000000 0800 1002 1804 220164 00000000000000",                // entry {term 2, index 4, "d"}
	"06000000 ffa59731 03000000 20000000 0802 1001 1804 0000",                                 // hardstate {term 2, vote 1, commit 4}
	"0b000000 aa2a99ef 05000000 00000000 02 0a04 0801 2800 100a 1803 0000000000",              // snapshot, mode 2 (replace): {conf state {voter 1}, index 10, term 3}
}

// writeGoldenLog writes the history behind the golden segments in dir.
func writeGoldenLog(tb testing.TB, dir string) {
	tb.Helper()
	opts, _ := testOptions(4096)
	l := mustCreate(tb, dir, []byte("m1"), opts)
	mustSave(tb, l, raftpb.HardState{Term: 2, Vote: 1, Commit: 2}, []raftpb.Entry{
		{Term: 2, Index: 1, Data: []byte("a")},
		{Term: 2, Index: 2, Data: []byte("b")},
		{Term: 2, Index: 3, Type: raftpb.EntryConfChange, Data: []byte("c")},
	})
	if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 2, Term: 2,
		ConfState: raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}}}); err != nil {
		tb.Fatal(err)
	}
	if err := l.rotate(); err != nil { // as a Save that does not fit would
		tb.Fatal(err)
	}
	mustSave(tb, l, raftpb.HardState{Term: 2, Vote: 1, Commit: 3}, []raftpb.Entry{{Term: 2, Index: 4, Data: []byte("d")}})
	mustSave(tb, l, raftpb.HardState{Term: 2, Vote: 1, Commit: 4}, nil) // commit only: no fdatasync
	if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 10, Term: 3,
		ConfState: raftpb.ConfState{Voters: []uint64{1}}}}); err != nil {
		tb.Fatal(err)
	}
	mustClose(tb, l)
}

// unhexGolden returns the bytes of golden records.
func unhexGolden(tb testing.TB, records []string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(records, ""), " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestRecordsGolden(t *testing.T) {
	dir := t.TempDir()
	writeGoldenLog(t, dir)
	names := segmentNames(t, dir)
	if want := []string{"0000000000000000-0000000000000001.wal", "0000000000000001-0000000000000004.wal"}; !slices.Equal(names, want) {
		t.Fatalf("segments %v, want %v", names, want)
	}
	seg0, err := os.ReadFile(filepath.Join(dir, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	seg1, err := os.ReadFile(filepath.Join(dir, names[1]))
	if err != nil {
		t.Fatal(err)
	}
	want0, want1 := unhexGolden(t, goldenSegment0), unhexGolden(t, goldenSegment1)
	if string(seg0) != string(want0) {
		t.Errorf("%s changed:\n%s\nwant\n%s", names[0], hex.Dump(seg0), hex.Dump(want0))
	}
	if n := min(len(want1), len(seg1)); string(seg1[:n]) != string(want1) || !isZero(seg1[n:]) {
		t.Errorf("%s changed:\n%s\nwant\n%s", names[1], hex.Dump(seg1[:min(len(seg1), len(want1)+64)]), hex.Dump(want1))
	}
}

// Segment files of exactly the golden bytes, of either format, replay to
// the state the history left: the first alone (as after a crash before the
// second existed), then both. A log of format 1 goes on in a new segment of
// format 2, and reopens with what was saved there.
func TestRecordsGoldenReplay(t *testing.T) {
	snap1 := raftpb.SnapshotMetadata{Index: 2, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}}
	for _, c := range []struct {
		name     string
		segments [][]string
		snap     raftpb.SnapshotMetadata
		hs       raftpb.HardState
		ents     []raftpb.Entry
		format1  bool // Open starts a format 2 segment for the appends
	}{
		{"first segment", [][]string{goldenSegment0}, snap1, raftpb.HardState{Term: 2, Vote: 1, Commit: 2},
			[]raftpb.Entry{{Term: 2, Index: 3, Type: raftpb.EntryConfChange, Data: []byte("c")}}, false},
		// The received snapshot replaced the log; replay raises the
		// commit index and term to it, without a vote (doc.go, "Replay").
		{"both segments", [][]string{goldenSegment0, goldenSegment1},
			raftpb.SnapshotMetadata{Index: 10, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1}}},
			raftpb.HardState{Term: 3, Commit: 10}, nil, false},
		{"format 1, first segment", [][]string{goldenV1Segment0}, snap1, raftpb.HardState{Term: 2, Vote: 1, Commit: 2},
			[]raftpb.Entry{{Term: 2, Index: 3, Type: raftpb.EntryConfChange, Data: []byte("c")}}, true},
		{"format 1, both segments", [][]string{goldenV1Segment0, goldenV1Segment1},
			raftpb.SnapshotMetadata{Index: 10, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1}}},
			raftpb.HardState{Term: 3, Commit: 10}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			names := []string{"0000000000000000-0000000000000001.wal", "0000000000000001-0000000000000004.wal"}
			for i, seg := range c.segments {
				if err := os.WriteFile(filepath.Join(dir, names[i]), unhexGolden(t, seg), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			opts, _ := testOptions(4096)
			check := func(l *Log, hs raftpb.HardState, ents []raftpb.Entry) {
				t.Helper()
				if md := l.Metadata(); string(md) != "m1" {
					t.Errorf("metadata %q, want m1", md)
				}
				snap, err := l.Snapshot()
				if err != nil || !reflect.DeepEqual(snap.Metadata, c.snap) {
					t.Errorf("snapshot %+v (%v), want %+v", snap.Metadata, err, c.snap)
				}
				checkHardState(t, l, hs)
				checkEntries(t, l, ents)
			}
			l := mustOpen(t, dir, opts)
			check(l, c.hs, c.ents)

			// Appends go into a format 2 segment.
			want := len(c.segments)
			if c.format1 {
				want++
			}
			if segs := segmentNames(t, dir); len(segs) != want {
				t.Fatalf("segments %v after Open, want %d", segs, want)
			}
			frames := framesOf(t, lastSegment(t, dir))
			if f := frames[0].rec.format; f != formatVersion {
				t.Fatalf("last segment has format %d, want %d", f, formatVersion)
			}
			e := raftpb.Entry{Term: c.snap.Term, Index: c.snap.Index + uint64(len(c.ents)) + 1, Data: []byte("e")}
			hs := raftpb.HardState{Term: c.hs.Term, Vote: c.hs.Vote, Commit: e.Index}
			mustSave(t, l, hs, []raftpb.Entry{e})
			mustClose(t, l)
			l = mustOpen(t, dir, opts)
			check(l, hs, append(slices.Clone(c.ents), e))
		})
	}
}

// A last segment of format 1 has no synced offsets: its tail is judged as
// format 1 did, a torn final write cut off, damage followed by a later
// write refused.
func TestFormat1Tail(t *testing.T) {
	seg := append(unhexGolden(t, goldenV1Segment0), make([]byte, 1024)...)
	write := func(t *testing.T, damage func(b []byte)) (dir, path string) {
		dir = t.TempDir()
		path = filepath.Join(dir, "0000000000000000-0000000000000001.wal")
		b := slices.Clone(seg)
		damage(b)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return dir, path
	}
	const snapAt, entryB = 0xb8, 0x60 // the snapshot record, the entry "b"
	t.Run("torn final write", func(t *testing.T) {
		dir, _ := write(t, func(b []byte) { clear(b[snapAt+16 : snapAt+32]) })
		opts, lb := testOptions(4096)
		l := mustOpen(t, dir, opts)
		checkHardState(t, l, raftpb.HardState{Term: 2, Vote: 1, Commit: 2})
		if snap, _ := l.Snapshot(); snap.Metadata.Index != 0 {
			t.Fatalf("snapshot at %d survived a torn write", snap.Metadata.Index)
		}
		if !strings.Contains(lb.String(), "torn write") {
			t.Fatalf("no torn write logged:\n%s", lb)
		}
	})
	t.Run("damage followed by a later write", func(t *testing.T) {
		dir, path := write(t, func(b []byte) { b[entryB+20] ^= 1 })
		wantCorrupt(t, dir, path, entryB, "later write")
	})
}
