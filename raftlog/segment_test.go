package raftlog

import (
	"errors"
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// Entries bigger than a segment are written whole: their segment grows past
// SegmentBytes rather than splitting the record.
func TestLargeEntries(t *testing.T) {
	dir := t.TempDir()
	const segBytes = 1 << 20
	opts, _ := testOptions(segBytes)
	l := mustCreate(t, dir, nil, opts)
	rng := rand.New(rand.NewPCG(1, 2))
	big := func(i uint64, n int) raftpb.Entry {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		return raftpb.Entry{Index: i, Term: 1, Data: data}
	}
	want := []raftpb.Entry{big(1, 100)}
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 1}, want)
	e := []raftpb.Entry{big(2, 3<<20), big(3, 5<<20)} // one Ready, 8 MiB
	want = append(want, e...)
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 3}, e)
	e = []raftpb.Entry{big(4, 10)}
	want = append(want, e...)
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 4}, e)
	checkEntries(t, l, want)
	mustClose(t, l)

	names := segmentNames(t, dir)
	if len(names) != 3 {
		t.Fatalf("segments %v, want 3 (small, grown, small)", names)
	}
	if size := fileSize(t, dir+"/"+names[1]); size < 8<<20 {
		t.Fatalf("segment holding 8 MiB of entries is %d bytes", size)
	}
	l = mustOpen(t, dir, opts)
	checkEntries(t, l, want)
	checkHardState(t, l, raftpb.HardState{Term: 1, Commit: 4})
}

func TestRecordLimit(t *testing.T) {
	if _, err := appendRecord(nil, typeEntry, 0, MaxRecordBytes+1, func([]byte) error {
		t.Fatal("fill called for an oversized record")
		return nil
	}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("appendRecord of MaxRecordBytes+1: %v, want ErrTooLarge", err)
	}
	if _, err := appendRecord(nil, typeEntry, 0, MaxRecordBytes, func([]byte) error { return nil }); err != nil {
		t.Fatalf("appendRecord of MaxRecordBytes: %v", err)
	}
	// A length field beyond the limit (payload and synced offset) is
	// damage, and is rejected before anything is read or allocated.
	b := make([]byte, 64)
	b[0], b[1], b[2], b[3] = 0x09, 0x00, 0x00, 0x08 // 128 MiB + 9
	if _, err := decodeFrame(b); !errors.Is(err, errLength) {
		t.Fatalf("decodeFrame of an oversized length: %v, want errLength", err)
	}
}

// Thousands of entries in small segments; Compact removes the segments that
// only hold entries covered by the snapshot, and the log replays from what
// is left.
func TestManySegmentsAndCompact(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(16 << 10)
	l := mustCreate(t, dir, []byte("md"), opts)
	rng := rand.New(rand.NewPCG(3, 4))
	var all []raftpb.Entry
	var hs raftpb.HardState
	next := uint64(1)
	save := func(upTo uint64) {
		for next <= upTo {
			n := min(uint64(1+rng.IntN(64)), upTo-next+1)
			e := makeEntries(next, next+n-1, 1, 20+rng.IntN(200))
			next += n
			hs = raftpb.HardState{Term: 1, Vote: 1, Commit: next - 1}
			mustSave(t, l, hs, e)
			all = append(all, e...)
		}
	}
	save(3000)
	segs := segmentNames(t, dir)
	if len(segs) < 20 {
		t.Fatalf("%d segments for 3000 entries of SegmentBytes 16 KiB, want many", len(segs))
	}

	snap := func(i uint64) {
		t.Helper()
		err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: 1, ConfState: raftpb.ConfState{Voters: []uint64{1}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	snap(2500)
	if err := l.Compact(2000); err != nil {
		t.Fatal(err)
	}
	checkEntries(t, l, all[2000:])
	left := segmentNames(t, dir)
	if len(left) >= len(segs) {
		t.Fatalf("Compact(2000) removed nothing: %d segments", len(left))
	}
	// Every removed segment held only entries at or before 2000: replay
	// from the oldest remaining one covers 2001 on.
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	checkEntries(t, l, all[2500:])
	checkHardState(t, l, hs)
	if s, _ := l.Snapshot(); s.Metadata.Index != 2500 {
		t.Fatalf("snapshot after reopen at %d, want 2500", s.Metadata.Index)
	}

	// Keep going: more entries, a later snapshot, compaction up to it.
	save(5000)
	snap(4990)
	if err := l.Compact(4990); err != nil {
		t.Fatal(err)
	}
	checkEntries(t, l, all[4990:])
	if n := len(segmentNames(t, dir)); n > 3 {
		t.Fatalf("%d segments left after compacting to 4990 of 5000, want at most 3", n)
	}
	mustClose(t, l)
	l = mustOpen(t, dir, opts)
	checkEntries(t, l, all[4990:])
	checkHardState(t, l, hs)
	if string(l.Metadata()) != "md" {
		t.Fatalf("metadata after compaction = %q", l.Metadata())
	}
}

// Removed segments never hold entries after the compaction index, even when
// the snapshot is far ahead of it.
func TestCompactKeepsEntriesAfterIndex(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(8 << 10)
	l := mustCreate(t, dir, nil, opts)
	for i := uint64(1); i <= 1000; i += 10 {
		mustSave(t, l, raftpb.HardState{Term: 1, Commit: i + 9}, makeEntries(i, i+9, 1, 64))
	}
	if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 1000, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	before := len(segmentNames(t, dir))
	if err := l.Compact(300); err != nil {
		t.Fatal(err)
	}
	names := segmentNames(t, dir)
	if len(names) >= before {
		t.Fatalf("Compact(300) removed nothing of %d segments", before)
	}
	onDisk := map[uint64]bool{}
	for _, name := range names {
		path := dir + "/" + name
		for _, fi := range framesOf(t, path) {
			if fi.typ != typeEntry {
				continue
			}
			onDisk[fi.rec.ent.Index] = true
		}
	}
	for i := uint64(301); i <= 1000; i++ {
		if !onDisk[i] {
			t.Fatalf("entry %d is no longer on disk after Compact(300)", i)
		}
	}
	if onDisk[1] {
		t.Fatal("the first segment survived Compact(300)")
	}
	checkEntries(t, l, makeEntries(301, 1000, 1, 64))
}
