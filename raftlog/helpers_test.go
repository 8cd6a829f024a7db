package raftlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// logBuffer collects slog output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testOptions returns options with a logger that writes into the returned
// buffer.
func testOptions(segBytes int64) (Options, *logBuffer) {
	lb := &logBuffer{}
	h := slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})
	return Options{SegmentBytes: segBytes, Logger: slog.New(h)}, lb
}

// mustCreate creates a WAL in dir and closes it when the test ends.
func mustCreate(tb testing.TB, dir string, md []byte, opts Options) *Log {
	tb.Helper()
	l, err := Create(dir, md, opts)
	if err != nil {
		tb.Fatalf("Create(%s): %v", dir, err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// mustOpen opens the WAL in dir and closes it when the test ends.
func mustOpen(tb testing.TB, dir string, opts Options) *Log {
	tb.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

func mustClose(tb testing.TB, l *Log) {
	tb.Helper()
	if err := l.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

func mustSave(tb testing.TB, l *Log, hs raftpb.HardState, ents []raftpb.Entry) {
	tb.Helper()
	if err := l.Save(hs, ents); err != nil {
		tb.Fatalf("Save(%v, %d entries from %d): %v", hs, len(ents), firstIndexOf(ents), err)
	}
}

func firstIndexOf(ents []raftpb.Entry) uint64 {
	if len(ents) == 0 {
		return 0
	}
	return ents[0].Index
}

// makeEntries returns entries lo..hi (inclusive) of the given term, each
// with size bytes of data that name the entry.
func makeEntries(lo, hi, term uint64, size int) []raftpb.Entry {
	var ents []raftpb.Entry
	for i := lo; i <= hi; i++ {
		data := []byte(fmt.Sprintf("entry %d term %d|", i, term))
		for len(data) < size {
			data = append(data, byte('a'+i%26))
		}
		ents = append(ents, raftpb.Entry{Index: i, Term: term, Type: raftpb.EntryNormal, Data: data[:max(size, 0)]})
	}
	return ents
}

// checkEntries asserts that the log's storage holds exactly want, from
// want[0].Index to its last index.
func checkEntries(tb testing.TB, l *Log, want []raftpb.Entry) {
	tb.Helper()
	first, _ := l.FirstIndex()
	last, _ := l.LastIndex()
	if len(want) == 0 {
		if last >= first {
			tb.Fatalf("log holds entries %d..%d, want none", first, last)
		}
		return
	}
	if first != want[0].Index || last != want[len(want)-1].Index {
		tb.Fatalf("log holds entries %d..%d, want %d..%d", first, last, want[0].Index, want[len(want)-1].Index)
	}
	got, err := l.Entries(first, last+1, 1<<62)
	if err != nil {
		tb.Fatalf("Entries(%d, %d): %v", first, last+1, err)
	}
	if len(got) != len(want) {
		tb.Fatalf("Entries returned %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !entryEqual(got[i], want[i]) {
			tb.Fatalf("entry %d: got {Index:%d Term:%d Type:%v %d bytes}, want {Index:%d Term:%d Type:%v %d bytes}",
				want[i].Index, got[i].Index, got[i].Term, got[i].Type, len(got[i].Data),
				want[i].Index, want[i].Term, want[i].Type, len(want[i].Data))
		}
	}
}

func entryEqual(a, b raftpb.Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

func checkHardState(tb testing.TB, l *Log, want raftpb.HardState) {
	tb.Helper()
	hs, _, err := l.InitialState()
	if err != nil {
		tb.Fatalf("InitialState: %v", err)
	}
	if hs != want {
		tb.Fatalf("HardState = %+v, want %+v", hs, want)
	}
}

// segmentNames lists the segment files in dir, oldest first.
func segmentNames(tb testing.TB, dir string) []string {
	tb.Helper()
	segs, _, err := listSegments(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, s := range segs {
		names = append(names, s.name)
	}
	return names
}

func lastSegment(tb testing.TB, dir string) string {
	tb.Helper()
	names := segmentNames(tb, dir)
	if len(names) == 0 {
		tb.Fatalf("no segments in %s", dir)
	}
	return filepath.Join(dir, names[len(names)-1])
}

// frameInfo locates one record in a segment file.
type frameInfo struct {
	off, size  int64
	typ        recordType
	batchStart int64
	synced     int64  // format 2: the offset its write said was durable
	rec        record // the decoded payload
}

// framesOf decodes a closed segment file and returns its records.
func framesOf(tb testing.TB, path string) []frameInfo {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	var out []frameInfo
	_, err = scanSegment(f, fi.Size(), path, true, func(off int64, fr frame) error {
		rec, err := decodePayload(fr)
		out = append(out, frameInfo{off: off, size: fr.size, typ: fr.typ, batchStart: off - int64(fr.back), synced: fr.synced, rec: rec})
		return err
	})
	if err != nil {
		tb.Fatalf("scanning %s: %v", path, err)
	}
	return out
}

// patchFile overwrites bytes of path at off.
func patchFile(tb testing.TB, path string, off int64, b []byte) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// flipByte inverts one byte of path at off.
func flipByte(tb testing.TB, path string, off int64) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	patchFile(tb, path, off, []byte{^b[off]})
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

func lastOfType(tb testing.TB, frames []frameInfo, typ recordType) frameInfo {
	tb.Helper()
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].typ == typ {
			return frames[i]
		}
	}
	tb.Fatalf("no %s record", typ)
	return frameInfo{}
}
