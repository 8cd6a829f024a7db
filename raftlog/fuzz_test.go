package raftlog

import (
	"bytes"
	"fmt"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// boundedReader is a segment in memory that fails the test when replay asks
// for bytes past its end (the decoder must check lengths before reading or
// allocating).
type boundedReader struct {
	t    *testing.T
	data []byte
}

func (r boundedReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(r.data)) {
		r.t.Fatalf("read of %d bytes at %d from a %d-byte segment", len(p), off, len(r.data))
	}
	return copy(p, r.data[off:]), nil
}

// seedSegment encodes a segment the way Log writes one: a head batch, then
// batches of entries with a HardState, each followed by a commit-only
// HardState, and a snapshot record.
func seedSegment(tb testing.TB) []byte {
	tb.Helper()
	must := func(b []byte, err error) []byte {
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	head := must(appendSegment(nil, 7))
	head = must(appendMetadata(head, 0, []byte("member 1 of cluster 2")))
	out := head
	for i := uint64(1); i <= 9; i += 3 {
		var batch []byte
		synced := int64(len(out))
		for _, e := range makeEntries(i, i+2, 2, int(i)*5) {
			batch = must(appendEntry(batch, synced, &e))
		}
		batch = must(appendHardState(batch, synced, &raftpb.HardState{Term: 2, Vote: 1, Commit: i + 1}))
		out = append(out, batch...)
		// A commit-only HardState, written without an fdatasync.
		out = append(out, must(appendHardState(nil, synced+int64(len(batch)), &raftpb.HardState{Term: 2, Vote: 1, Commit: i + 2}))...)
	}
	md := raftpb.SnapshotMetadata{Index: 5, Term: 2, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}
	out = append(out, must(appendSnapshot(nil, int64(len(out)), snapKeep, &md))...)
	return out
}

// FuzzDecode feeds arbitrary bytes to the record decoder and to the segment
// scanner that replay uses, both as the last segment (torn-tail rules) and
// as an earlier one. It must never panic or read past the input, and what
// it accepts must re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
	seg := seedSegment(f)
	f.Add(seg)
	f.Add(seg[:len(seg)-5])                               // torn last record
	f.Add(append(bytes.Clone(seg), make([]byte, 600)...)) // zeroed tail
	flipped := bytes.Clone(seg)
	flipped[len(seg)/2] ^= 0x40
	f.Add(flipped)
	holed := append(bytes.Clone(seg), make([]byte, 1024)...)
	clear(holed[200:712])
	f.Add(holed)
	f.Add([]byte{})
	f.Add(make([]byte, headerSize))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 4, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if fr, err := decodeFrame(data); err == nil {
			re, err := appendFrame(nil, fr.typ, fr.back, len(fr.payload), func(p []byte) error {
				copy(p, fr.payload)
				return nil
			})
			if err != nil {
				t.Fatalf("re-encoding a decoded %s frame: %v", fr.typ, err)
			}
			if !bytes.Equal(re, data[:fr.size]) {
				t.Fatalf("decoded frame re-encodes differently:\n got %x\nwant %x", re, data[:fr.size])
			}
			decodePayload(fr)
		}
		for _, last := range []bool{true, false} {
			var st replayState
			next := int64(0)
			res, err := scanSegment(boundedReader{t, data}, int64(len(data)), "fuzz", last, func(off int64, fr frame) error {
				if off != next {
					return fmt.Errorf("frame at %d, want it at %d", off, next)
				}
				next = off + fr.size
				rec, err := decodePayload(fr)
				if err != nil {
					return err
				}
				return st.apply(&rec)
			})
			if err != nil {
				continue
			}
			if res.end != next || res.end > int64(len(data)) || res.end%frameAlign != 0 {
				t.Fatalf("last=%v: scan ended at %d, records end at %d, input is %d bytes", last, res.end, next, len(data))
			}
			if !last && res.end != int64(len(data)) {
				t.Fatalf("an earlier segment was accepted with %d bytes after its last record", int64(len(data))-res.end)
			}
			st.finish()
		}
	})
}
