package peer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http/httputil"
	"slices"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// ents makes entries first..last of term, each with data "e<index>".
func ents(term, first, last uint64) []raftpb.Entry {
	var es []raftpb.Entry
	for i := first; i <= last; i++ {
		es = append(es, raftpb.Entry{Term: term, Index: i, Data: []byte(fmt.Sprintf("e%d", i))})
	}
	return es
}

func app(term, index, logTerm, commit uint64, es []raftpb.Entry) raftpb.Message {
	return raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: term, Index: index, LogTerm: logTerm, Commit: commit, Entries: es}
}

func TestCoalesce(t *testing.T) {
	resp := func(term, index uint64, reject bool) raftpb.Message {
		return raftpb.Message{Type: raftpb.MsgAppResp, From: 2, To: 1, Term: term, Index: index, Reject: reject}
	}
	prop := func(data string) raftpb.Message {
		return raftpb.Message{Type: raftpb.MsgProp, From: 2, To: 1, Entries: []raftpb.Entry{{Data: []byte(data)}}}
	}
	hb := raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 2, Commit: 5}
	cases := []struct {
		name string
		in   []raftpb.Message
		want []raftpb.Message
	}{
		{"chained appends become one, last commit",
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), app(2, 6, 2, 5, ents(2, 7, 8)), app(2, 8, 2, 6, ents(2, 9, 9))},
			[]raftpb.Message{app(2, 5, 2, 6, ents(2, 6, 9))}},
		{"an empty append (commit only) chains on",
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 7)), app(2, 7, 2, 7, nil)},
			[]raftpb.Message{app(2, 5, 2, 7, ents(2, 6, 7))}},
		{"an append after an empty one at the same place",
			[]raftpb.Message{app(2, 5, 2, 5, nil), app(2, 5, 2, 5, ents(2, 6, 6))},
			[]raftpb.Message{app(2, 5, 2, 5, ents(2, 6, 6))}},
		{"a gap is not merged",
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), app(2, 7, 2, 5, ents(2, 8, 8))},
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), app(2, 7, 2, 5, ents(2, 8, 8))}},
		{"another log term at the join is not merged",
			[]raftpb.Message{app(3, 5, 2, 4, ents(2, 6, 6)), app(3, 6, 3, 5, ents(3, 7, 7))},
			[]raftpb.Message{app(3, 5, 2, 4, ents(2, 6, 6)), app(3, 6, 3, 5, ents(3, 7, 7))}},
		{"another message term is not merged",
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), app(3, 6, 2, 5, ents(3, 7, 7))},
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), app(3, 6, 2, 5, ents(3, 7, 7))}},
		{"a heartbeat between keeps both, in order",
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), hb, app(2, 6, 2, 5, ents(2, 7, 7))},
			[]raftpb.Message{app(2, 5, 2, 4, ents(2, 6, 6)), hb, app(2, 6, 2, 5, ents(2, 7, 7))}},
		{"accepted answers keep the last",
			[]raftpb.Message{resp(2, 6, false), resp(2, 8, false), resp(2, 9, false)},
			[]raftpb.Message{resp(2, 9, false)}},
		{"a rejection is kept apart",
			[]raftpb.Message{resp(2, 6, false), resp(2, 6, true), resp(2, 9, false)},
			[]raftpb.Message{resp(2, 6, false), resp(2, 6, true), resp(2, 9, false)}},
		{"answers of two terms are kept",
			[]raftpb.Message{resp(2, 6, false), resp(3, 7, false)},
			[]raftpb.Message{resp(2, 6, false), resp(3, 7, false)}},
		{"forwarded proposals become one, entries in order",
			[]raftpb.Message{prop("a"), prop("b"), prop("c")},
			[]raftpb.Message{{Type: raftpb.MsgProp, From: 2, To: 1, Entries: []raftpb.Entry{{Data: []byte("a")}, {Data: []byte("b")}, {Data: []byte("c")}}}}},
		{"runs of each kind in one write",
			[]raftpb.Message{prop("a"), prop("b"), resp(2, 6, false), resp(2, 7, false), prop("c")},
			[]raftpb.Message{{Type: raftpb.MsgProp, From: 2, To: 1, Entries: []raftpb.Entry{{Data: []byte("a")}, {Data: []byte("b")}}},
				resp(2, 7, false), prop("c")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := coalesce(slices.Clone(tc.in))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d messages, want %d:\n%v", len(got), len(tc.want), got)
			}
			for i := range got {
				if g, w := got[i].String(), tc.want[i].String(); g != w {
					t.Errorf("message %d:\n got %s\nwant %s", i, g, w)
				}
			}
		})
	}
}

// TestCoalesceLeavesRaftsEntriesAlone: a merged append gets entries of its
// own; the first message's Entries, a window on raft's log with room
// after it, is not written through.
func TestCoalesceLeavesRaftsEntriesAlone(t *testing.T) {
	log := ents(2, 6, 9)
	first := app(2, 5, 2, 4, log[:1:4]) // room for three more: raft's array
	second := app(2, 6, 2, 5, ents(3, 7, 7))
	second.LogTerm = 2
	second.Entries[0].Term = 2
	second.Entries[0].Data = []byte("other")
	got := coalesce([]raftpb.Message{first, second})
	if len(got) != 1 || len(got[0].Entries) != 2 || string(got[0].Entries[1].Data) != "other" {
		t.Fatalf("not merged as expected: %v", got)
	}
	if string(log[1].Data) != "e7" {
		t.Fatalf("raft's entry 7 was overwritten with %q", log[1].Data)
	}
}

// TestCoalescedAppendsSameFollowerState hands a real raft follower the
// appends a leader sent one per proposal, and another follower the same
// appends coalesced: both end with the same log and commit index, and the
// second answers once, with the index the first's last answer has.
func TestCoalescedAppendsSameFollowerState(t *testing.T) {
	newFollower := func() (*raft.RawNode, *raft.MemoryStorage) {
		ms := raft.NewMemoryStorage()
		ms.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 2,
			ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}}})
		rn, err := raft.NewRawNode(&raft.Config{ID: 2, ElectionTick: 10, HeartbeatTick: 1, Storage: ms,
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}})
		if err != nil {
			t.Fatal(err)
		}
		return rn, ms
	}
	// One append per proposal, commit catching up behind, then a commit-only
	// append: what a leader sends under load.
	var msgs []raftpb.Message
	for i := uint64(6); i <= 20; i++ {
		msgs = append(msgs, app(2, i-1, 2, max(5, i-3), ents(2, i, i)))
	}
	msgs = append(msgs, app(2, 20, 2, 19, nil))
	run := func(msgs []raftpb.Message) (last, commit uint64, answers []raftpb.Message) {
		rn, ms := newFollower()
		for _, m := range msgs {
			if err := rn.Step(m); err != nil {
				t.Fatal(err)
			}
		}
		for rn.HasReady() {
			rd := rn.Ready()
			ms.Append(rd.Entries)
			if !raft.IsEmptyHardState(rd.HardState) {
				ms.SetHardState(rd.HardState)
			}
			answers = append(answers, rd.Messages...)
			rn.Advance(rd)
		}
		last, _ = ms.LastIndex()
		return last, rn.BasicStatus().Commit, answers
	}
	last1, commit1, answers1 := run(slices.Clone(msgs))
	merged := coalesce(slices.Clone(msgs))
	if len(merged) != 1 {
		t.Fatalf("coalesced into %d messages, want 1", len(merged))
	}
	last2, commit2, answers2 := run(merged)
	if last1 != 20 || commit1 != 19 {
		t.Fatalf("one by one: last index %d commit %d, want 20 and 19", last1, commit1)
	}
	if last2 != last1 || commit2 != commit1 {
		t.Fatalf("coalesced: last index %d commit %d, one by one %d and %d", last2, commit2, last1, commit1)
	}
	if len(answers2) != 1 || answers2[0].Type != raftpb.MsgAppResp || answers2[0].Reject ||
		answers2[0].Index != answers1[len(answers1)-1].Index {
		t.Fatalf("coalesced answers %v; one by one the last was %v", answers2, answers1[len(answers1)-1])
	}
}

// TestPeerFramesRoundTrip: what the writer sends for two queues, each
// coalesced into one chunk of frames, decodes as HTTP/1.1 chunked body
// (net/http's reader) to the coalesced messages, frame by frame, as the
// receiver reads them; a keepalive chunk is one empty frame.
func TestPeerFramesRoundTrip(t *testing.T) {
	queues := [][]raftpb.Message{
		{app(2, 5, 2, 4, ents(2, 6, 6)), app(2, 6, 2, 5, ents(2, 7, 7)),
			{Type: raftpb.MsgHeartbeat, From: 1, To: 2, Term: 2, Commit: 5}},
		{app(2, 7, 2, 7, ents(2, 8, 300))},
	}
	var wire []byte
	for _, q := range queues {
		chunk := startChunk(nil)
		for _, m := range coalesce(slices.Clone(q)) {
			chunk = appendFrame(chunk, &m)
		}
		wire = append(wire, endChunk(chunk)...)
	}
	wire = append(wire, endChunk(append(startChunk(nil), 0, 0, 0, 0))...)
	wire = append(wire, "0\r\n\r\n"...)
	r := bufio.NewReader(httputil.NewChunkedReader(bytes.NewReader(wire)))
	var buf []byte
	var got []raftpb.Message
	keepalives := 0
	for {
		f, err := readFrame(r, &buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(f) == 0 {
			keepalives++
			continue
		}
		var m raftpb.Message
		if err := m.Unmarshal(f); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 3 || got[0].Type != raftpb.MsgApp || len(got[0].Entries) != 2 || got[0].Commit != 5 ||
		got[1].Type != raftpb.MsgHeartbeat || len(got[2].Entries) != 293 || keepalives != 1 {
		t.Fatalf("decoded %d messages and %d keepalives: %v", len(got), keepalives, got)
	}
}
