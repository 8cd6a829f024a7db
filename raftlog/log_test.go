package raftlog

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

func TestCreateSaveReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	opts, _ := testOptions(0)
	if Exist(dir) {
		t.Fatalf("Exist(%s) = true before Create", dir)
	}
	md := []byte(`{"member_id":"8e9e05c52164694d","cluster_id":"cdf818194e3a8c32"}`)
	l := mustCreate(t, dir, md, opts)
	if !Exist(dir) {
		t.Fatalf("Exist(%s) = false after Create", dir)
	}
	if hs, cs, _ := l.InitialState(); !raft.IsEmptyHardState(hs) || len(cs.Voters) != 0 {
		t.Fatalf("new log: InitialState = %+v, %+v; want empty", hs, cs)
	}
	if first, _ := l.FirstIndex(); first != 1 {
		t.Fatalf("new log: FirstIndex = %d, want 1", first)
	}
	if last, _ := l.LastIndex(); last != 0 {
		t.Fatalf("new log: LastIndex = %d, want 0", last)
	}

	// Three Readys: hardstate alone, entries with hardstate, entries alone.
	var want []raftpb.Entry
	mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1}, nil)
	e := makeEntries(1, 3, 1, 40)
	want = append(want, e...)
	mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 2}, e)
	e = makeEntries(4, 10, 1, 300)
	want = append(want, e...)
	mustSave(t, l, raftpb.HardState{}, e)
	hs := raftpb.HardState{Term: 1, Vote: 1, Commit: 10}
	mustSave(t, l, hs, nil)
	checkEntries(t, l, want)
	checkHardState(t, l, hs)
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	if got := l.Metadata(); !bytes.Equal(got, md) {
		t.Fatalf("Metadata = %q, want %q", got, md)
	}
	checkEntries(t, l, want)
	checkHardState(t, l, hs)
	if term, err := l.Term(7); err != nil || term != 1 {
		t.Fatalf("Term(7) = %d, %v; want 1", term, err)
	}

	// Appends after a reopen survive another one.
	e = makeEntries(11, 12, 2, 10)
	want = append(want, e...)
	hs = raftpb.HardState{Term: 2, Vote: 3, Commit: 12}
	mustSave(t, l, hs, e)
	mustClose(t, l)
	l = mustOpen(t, dir, opts)
	checkEntries(t, l, want)
	checkHardState(t, l, hs)
}

func TestMetadataIsACopy(t *testing.T) {
	opts, _ := testOptions(0)
	md := []byte("abc")
	l := mustCreate(t, t.TempDir(), md, opts)
	md[0] = 'X'
	got := l.Metadata()
	if string(got) != "abc" {
		t.Fatalf("Metadata = %q after the caller changed its slice, want %q", got, "abc")
	}
	got[1] = 'Y'
	if again := l.Metadata(); string(again) != "abc" {
		t.Fatalf("Metadata = %q after the caller changed a returned slice, want %q", again, "abc")
	}
}

func TestCreateAndOpenErrors(t *testing.T) {
	opts, _ := testOptions(0)

	t.Run("open missing dir", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "nope"), opts)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open of a missing dir: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("open empty dir", func(t *testing.T) {
		_, err := Open(t.TempDir(), opts)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open of an empty dir: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("create over a WAL", func(t *testing.T) {
		dir := t.TempDir()
		mustClose(t, mustCreate(t, dir, []byte("one"), opts))
		_, err := Create(dir, []byte("two"), opts)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Create over a WAL: %v, want fs.ErrExist", err)
		}
		if l := mustOpen(t, dir, opts); string(l.Metadata()) != "one" {
			t.Fatalf("the failed Create changed the WAL: metadata %q", l.Metadata())
		}
	})
	t.Run("create in a non-empty dir", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Create(dir, nil, opts); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("Create in a non-empty dir: %v, want a not-empty error", err)
		}
		if Exist(dir) {
			t.Fatal("the failed Create left a WAL behind")
		}
	})
	t.Run("create after a crashed create", func(t *testing.T) {
		dir := t.TempDir()
		left := filepath.Join(dir, segmentName(0, 1)+tmpExt)
		if err := os.WriteFile(left, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if Exist(dir) {
			t.Fatal("Exist = true for a dir with only a temporary file")
		}
		l := mustCreate(t, dir, []byte("md"), opts)
		mustClose(t, l)
		if _, err := os.Stat(left); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("leftover temporary file still there: %v", err)
		}
		mustOpen(t, dir, opts)
	})
	t.Run("negative segment size", func(t *testing.T) {
		if _, err := Create(t.TempDir(), nil, Options{SegmentBytes: -1}); err == nil {
			t.Fatal("Create with SegmentBytes -1 succeeded")
		}
	})
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	if _, err := Open(dir, opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open of a WAL in use: %v, want ErrLocked", err)
	}
	mustClose(t, l)
	mustOpen(t, dir, opts)
}

func TestClosed(t *testing.T) {
	opts, _ := testOptions(0)
	l := mustCreate(t, t.TempDir(), nil, opts)
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 1}, makeEntries(1, 1, 1, 8))
	mustClose(t, l)
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := l.Save(raftpb.HardState{Term: 2}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Save after Close: %v, want ErrClosed", err)
	}
	if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("SaveSnapshot after Close: %v, want ErrClosed", err)
	}
	if err := l.Compact(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Compact after Close: %v, want ErrClosed", err)
	}
	if last, err := l.LastIndex(); err != nil || last != 1 {
		t.Fatalf("LastIndex after Close = %d, %v; want 1", last, err)
	}
}

func TestOverwriteSuffix(t *testing.T) {
	for _, tc := range []struct {
		name     string
		segBytes int64
	}{
		{"one segment", 0},
		{"across segments", 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts, _ := testOptions(tc.segBytes)
			l := mustCreate(t, dir, nil, opts)
			mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 3}, makeEntries(1, 10, 1, 200))
			mustSave(t, l, raftpb.HardState{}, makeEntries(11, 20, 1, 200))
			// A new leader in term 2 replaces 6..20 with 6..8.
			mustSave(t, l, raftpb.HardState{Term: 2, Vote: 2, Commit: 3}, makeEntries(6, 8, 2, 200))
			want := append(makeEntries(1, 5, 1, 200), makeEntries(6, 8, 2, 200)...)
			checkEntries(t, l, want)
			// And term 3 replaces 8 and appends.
			mustSave(t, l, raftpb.HardState{Term: 3, Vote: 3, Commit: 7}, makeEntries(8, 9, 3, 200))
			want = append(want[:7], makeEntries(8, 9, 3, 200)...)
			checkEntries(t, l, want)
			if tc.segBytes > 0 && len(segmentNames(t, dir)) < 2 {
				t.Fatalf("want several segments with SegmentBytes %d, got %v", tc.segBytes, segmentNames(t, dir))
			}
			mustClose(t, l)

			l = mustOpen(t, dir, opts)
			checkEntries(t, l, want)
			checkHardState(t, l, raftpb.HardState{Term: 3, Vote: 3, Commit: 7})
		})
	}
}

func TestSaveRejectsBadEntries(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	want := makeEntries(1, 5, 2, 16)
	hs := raftpb.HardState{Term: 2, Commit: 5}
	mustSave(t, l, hs, want)
	for _, tc := range []struct {
		name string
		ents []raftpb.Entry
	}{
		{"gap after the last entry", makeEntries(7, 8, 2, 16)},
		{"not consecutive", append(makeEntries(6, 6, 2, 16), makeEntries(8, 8, 2, 16)...)},
		{"term goes down inside", append(makeEntries(6, 6, 3, 16), makeEntries(7, 7, 2, 16)...)},
		{"term lower than the entry before", makeEntries(6, 6, 1, 16)},
	} {
		if err := l.Save(raftpb.HardState{Term: 9, Commit: 5}, tc.ents); err == nil {
			t.Errorf("%s: Save succeeded", tc.name)
		}
	}
	if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 3, Term: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(raftpb.HardState{Term: 9, Commit: 5}, makeEntries(3, 6, 2, 16)); err == nil {
		t.Error("Save of entries starting at the snapshot index succeeded")
	}
	checkEntries(t, l, want)
	checkHardState(t, l, hs)
	mustClose(t, l)
	l = mustOpen(t, dir, opts)
	checkEntries(t, l, want[3:])
	checkHardState(t, l, hs)
}

func TestSnapshotThenReopen(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	all := append(makeEntries(1, 12, 1, 30), makeEntries(13, 20, 2, 30)...)
	hs := raftpb.HardState{Term: 2, Vote: 1, Commit: 18}
	mustSave(t, l, hs, all)
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 15, Term: 2, ConfState: cs}}
	if err := l.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	// A snapshot of our own log keeps the entries until Compact.
	checkEntries(t, l, all)
	if got, _ := l.Snapshot(); got.Metadata.Index != 15 || got.Metadata.Term != 2 || !slices.Equal(got.Metadata.ConfState.Voters, cs.Voters) {
		t.Fatalf("Snapshot = %+v, want index 15 term 2 voters %v", got.Metadata, cs.Voters)
	}
	if err := l.Compact(10); err != nil {
		t.Fatal(err)
	}
	checkEntries(t, l, all[10:])
	if term, err := l.Term(10); err != nil || term != 1 {
		t.Fatalf("Term(10) after Compact(10) = %d, %v; want 1", term, err)
	}
	if _, err := l.Entries(10, 12, 1<<20); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("Entries(10, 12) after Compact(10): %v, want ErrCompacted", err)
	}
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	if first, _ := l.FirstIndex(); first != 16 {
		t.Fatalf("FirstIndex after reopen = %d, want snapshot index + 1 = 16", first)
	}
	checkEntries(t, l, all[15:])
	checkHardState(t, l, hs)
	if term, err := l.Term(15); err != nil || term != 2 {
		t.Fatalf("Term(15) = %d, %v; want 2", term, err)
	}
	got, _ := l.Snapshot()
	if got.Metadata.Index != 15 || got.Metadata.Term != 2 || len(got.Data) != 0 {
		t.Fatalf("Snapshot after reopen = %+v (%d data bytes), want index 15 term 2, no data", got.Metadata, len(got.Data))
	}
	_, gotCS, _ := l.InitialState()
	if !slices.Equal(gotCS.Voters, cs.Voters) || !slices.Equal(gotCS.Learners, cs.Learners) {
		t.Fatalf("ConfState after reopen = %+v, want %+v", gotCS, cs)
	}
}

func TestSnapshotErrors(t *testing.T) {
	opts, _ := testOptions(0)
	l := mustCreate(t, t.TempDir(), nil, opts)
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 10}, makeEntries(1, 10, 1, 8))
	snap := func(i, term uint64) raftpb.Snapshot {
		return raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: term}}
	}
	if err := l.Compact(3); err == nil {
		t.Error("Compact before any snapshot succeeded")
	}
	if err := l.SaveSnapshot(raftpb.Snapshot{}); err == nil {
		t.Error("SaveSnapshot of an empty snapshot succeeded")
	}
	withData := snap(5, 1)
	withData.Data = []byte("state")
	if err := l.SaveSnapshot(withData); err == nil {
		t.Error("SaveSnapshot with data succeeded")
	}
	if err := l.SaveSnapshot(snap(5, 1)); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveSnapshot(snap(5, 1)); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Errorf("SaveSnapshot of the same index again: %v, want ErrSnapOutOfDate", err)
	}
	if err := l.SaveSnapshot(snap(4, 1)); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Errorf("SaveSnapshot of an older index: %v, want ErrSnapOutOfDate", err)
	}
	if err := l.Compact(6); err == nil {
		t.Error("Compact past the snapshot succeeded")
	}
	if err := l.Compact(5); err != nil {
		t.Fatal(err)
	}
	if err := l.Compact(4); !errors.Is(err, raft.ErrCompacted) {
		t.Errorf("Compact below the compaction point: %v, want ErrCompacted", err)
	}
}

// A snapshot that does not match the log (one from a leader) replaces it.
func TestSnapshotReplacesLog(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 5}, makeEntries(1, 10, 1, 8))
	cs := raftpb.ConfState{Voters: []uint64{1, 2, 3}}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 8, Term: 3, ConfState: cs}}
	if err := l.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if first, last := mustIndexes(t, l); first != 9 || last != 8 {
		t.Fatalf("after a replacing snapshot at 8: first %d last %d, want 9 and 8", first, last)
	}
	hs := raftpb.HardState{Term: 3, Vote: 0, Commit: 8}
	after := makeEntries(9, 12, 3, 8)
	mustSave(t, l, hs, after)
	checkEntries(t, l, after)
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	checkEntries(t, l, after)
	checkHardState(t, l, hs)
	if term, _ := l.Term(8); term != 3 {
		t.Fatalf("Term(8) = %d, want the snapshot's term 3", term)
	}
}

// A crash between SaveSnapshot and the Save of the same Ready leaves a
// HardState older than the snapshot; replay lifts it so raft can start.
func TestCrashBetweenSnapshotAndHardState(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 2}, makeEntries(1, 4, 1, 8))
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 20, Term: 4, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}
	if err := l.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	checkHardState(t, l, raftpb.HardState{Term: 4, Vote: 0, Commit: 20})
	// raft accepts the state (it panics on a commit outside the log).
	rn, err := raft.NewRawNode(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: l, MaxInflightMsgs: 16, Logger: quietRaftLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if st := rn.Status(); st.Commit != 20 || st.Term != 4 {
		t.Fatalf("raft restarted with commit %d term %d, want 20 and 4", st.Commit, st.Term)
	}
}

func mustIndexes(tb testing.TB, l *Log) (first, last uint64) {
	tb.Helper()
	first, err := l.FirstIndex()
	if err != nil {
		tb.Fatal(err)
	}
	last, err = l.LastIndex()
	if err != nil {
		tb.Fatal(err)
	}
	return first, last
}

func TestLeftoverTemporarySegment(t *testing.T) {
	dir := t.TempDir()
	opts, lb := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	want := makeEntries(1, 3, 1, 8)
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 3}, want)
	mustClose(t, l)
	// A rotation that crashed before its rename.
	tmp := filepath.Join(dir, segmentName(1, 4)+tmpExt)
	if err := os.WriteFile(tmp, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, dir, opts)
	checkEntries(t, l, want)
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary segment not removed: %v", err)
	}
	if !strings.Contains(lb.String(), "removed an unfinished segment") {
		t.Fatalf("removal not logged; log:\n%s", lb)
	}
}

// A failed write makes the log refuse writes until it is reopened.
func TestWriteFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(t, dir, nil, opts)
	want := makeEntries(1, 3, 1, 8)
	mustSave(t, l, raftpb.HardState{Term: 1, Commit: 3}, want)
	// Fault injection: the segment file goes away underneath the log.
	l.f.Close()
	if err := l.Save(raftpb.HardState{Term: 1, Commit: 4}, makeEntries(4, 4, 1, 8)); err == nil {
		t.Fatal("Save to a closed file succeeded")
	}
	err := l.Save(raftpb.HardState{Term: 1, Commit: 3}, nil)
	if err == nil || !strings.Contains(err.Error(), "earlier write failed") {
		t.Fatalf("Save after a failed write: %v, want the earlier failure", err)
	}
	checkEntries(t, l, want)
	l.lockf.Close()
	l.closed = true
	l = mustOpen(t, dir, opts)
	checkEntries(t, l, want)
}
