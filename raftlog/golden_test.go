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
// what replay reads: snapshot records of both modes, and the head of a
// later segment, which restates the snapshot and the HardState, under its
// file name. A change that fails them changes what existing logs hold.

// The golden segments, one record a string: length, CRC, type and
// reserved bytes, back distance, payload, padding (little-endian header,
// doc.go "Records"); payloads are protobuf, field by field.

// goldenSegment0 is 0000000000000000-0000000000000001.wal after
// writeGoldenLog, cut to size when the next segment began.
var goldenSegment0 = []string{
	"18000000 1cfded23 01000000 00000000 636169726e77616c 01000000 00000000 0000000000000000", // segment: magic, version 1, seq 0
	"02000000 f3c7ff2a 02000000 28000000 6d31 000000000000",                                   // metadata "m1"
	"09000000 9ebcfc97 04000000 00000000 0800 1002 1801 220161 00000000000000",                // entry {type normal, term 2, index 1, "a"}
	"09000000 d5fca0e0 04000000 20000000 0800 1002 1802 220162 00000000000000",                // entry {term 2, index 2, "b"}
	"09000000 c3e7c08c 04000000 40000000 0801 1002 1803 220163 00000000000000",                // entry {type conf change, term 2, index 3, "c"}
	"06000000 85f7392a 03000000 60000000 0802 1001 1802 0000",                                 // hardstate {term 2, vote 1, commit 2}
	"0f000000 f40c8a4d 05000000 00000000 01 0a08 0801 0802 1003 2800 1002 1802 00",            // snapshot, mode 1 (keep): {conf state {voters 1 2, learner 3}, index 2, term 2}
}

// goldenSegment1 is the start of 0000000000000001-0000000000000004.wal
// (zeroes follow): its head restates the snapshot (mode 1) and the
// HardState; then a Save and a received snapshot.
var goldenSegment1 = []string{
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
	mustSave(tb, l, raftpb.HardState{Term: 2, Vote: 1, Commit: 4}, []raftpb.Entry{{Term: 2, Index: 4, Data: []byte("d")}})
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

// Segment files of exactly the golden bytes replay to the state the
// history left: the first alone (as after a crash before the second
// existed), then both.
func TestRecordsGoldenReplay(t *testing.T) {
	snap1 := raftpb.SnapshotMetadata{Index: 2, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}}
	for _, c := range []struct {
		name     string
		segments [][]string
		snap     raftpb.SnapshotMetadata
		hs       raftpb.HardState
		ents     []raftpb.Entry
	}{
		{"first segment", [][]string{goldenSegment0}, snap1, raftpb.HardState{Term: 2, Vote: 1, Commit: 2},
			[]raftpb.Entry{{Term: 2, Index: 3, Type: raftpb.EntryConfChange, Data: []byte("c")}}},
		// The received snapshot replaced the log; replay raises the
		// commit index and term to it, without a vote (doc.go, "Replay").
		{"both segments", [][]string{goldenSegment0, goldenSegment1},
			raftpb.SnapshotMetadata{Index: 10, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1}}},
			raftpb.HardState{Term: 3, Commit: 10}, nil},
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
			l := mustOpen(t, dir, opts)
			if md := l.Metadata(); string(md) != "m1" {
				t.Errorf("metadata %q, want m1", md)
			}
			snap, err := l.Snapshot()
			if err != nil || !reflect.DeepEqual(snap.Metadata, c.snap) {
				t.Errorf("snapshot %+v (%v), want %+v", snap.Metadata, err, c.snap)
			}
			hs, _, err := l.InitialState()
			if err != nil || hs != c.hs {
				t.Errorf("hardstate %+v (%v), want %+v", hs, err, c.hs)
			}
			checkEntries(t, l, c.ents)
		})
	}
}
