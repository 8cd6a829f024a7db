package raftlog

import (
	"fmt"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func TestReplayRules(t *testing.T) {
	md := func(s string) record { return record{typ: typeMetadata, metadata: []byte(s)} }
	ent := func(i, term uint64) record {
		return record{typ: typeEntry, ent: raftpb.Entry{Index: i, Term: term}}
	}
	ents := func(lo, hi, term uint64) []record {
		var out []record
		for i := lo; i <= hi; i++ {
			out = append(out, ent(i, term))
		}
		return out
	}
	hs := func(term, commit uint64) record {
		return record{typ: typeHardState, hs: raftpb.HardState{Term: term, Vote: 1, Commit: commit}}
	}
	snap := func(mode byte, i, term uint64) record {
		return record{typ: typeSnapshot, snapMode: mode, snap: raftpb.SnapshotMetadata{Index: i, Term: term}}
	}
	cat := func(parts ...any) []record {
		var out []record
		for _, p := range parts {
			switch p := p.(type) {
			case record:
				out = append(out, p)
			case []record:
				out = append(out, p...)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		recs    []record
		snap    uint64 // want snapshot index
		log     string // want entries as "index/term ..."
		hs      raftpb.HardState
		wantErr string
	}{
		{name: "plain", recs: cat(md("a"), ents(1, 3, 1), hs(1, 2)),
			log: "1/1 2/1 3/1", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 2}},
		{name: "overwrite drops the rest", recs: cat(md("a"), ents(1, 5, 1), hs(1, 2), ents(3, 3, 2)),
			log: "1/1 2/1 3/2", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 2}},
		{name: "keep snapshot trims", recs: cat(md("a"), ents(1, 6, 1), hs(1, 6), snap(snapKeep, 4, 1)),
			snap: 4, log: "5/1 6/1", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 6}},
		{name: "head restating the snapshot changes nothing",
			recs: cat(md("a"), ents(1, 6, 1), hs(1, 6), snap(snapKeep, 4, 1), md("a"), snap(snapKeep, 4, 1), hs(1, 6), ents(7, 7, 1)),
			snap: 4, log: "5/1 6/1 7/1", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 6}},
		{name: "replace snapshot drops everything", recs: cat(md("a"), ents(1, 6, 1), hs(1, 3), snap(snapReplace, 9, 2), ents(10, 10, 2)),
			snap: 9, log: "10/2", hs: raftpb.HardState{Term: 2, Vote: 0, Commit: 9}},
		{name: "older segments removed: the gap is closed by a later snapshot",
			// head of a segment with snapshot 4; entries 5..8 lived in a
			// removed segment; snapshot 8 came after.
			recs: cat(md("a"), snap(snapKeep, 4, 1), hs(1, 8), ents(9, 12, 1), snap(snapKeep, 10, 1)),
			snap: 10, log: "11/1 12/1", hs: raftpb.HardState{Term: 1, Vote: 1, Commit: 10}},
		{name: "older segments removed and overwrite before the run",
			recs: cat(md("a"), snap(snapKeep, 4, 1), ents(9, 12, 1), ents(7, 7, 2), snap(snapKeep, 6, 1)),
			snap: 6, log: "7/2", hs: raftpb.HardState{Term: 1, Commit: 6}},
		{name: "gap left open", recs: cat(md("a"), snap(snapKeep, 4, 1), ents(9, 12, 1)),
			wantErr: "entries 5 to 8 are missing"},
		{name: "gap in the middle", recs: cat(md("a"), ents(1, 3, 1), ents(5, 5, 1)),
			wantErr: "entries are missing"},
		{name: "term goes backwards", recs: cat(md("a"), ents(1, 3, 2), ent(4, 1)),
			wantErr: "lower than the term"},
		{name: "entry term below the snapshot's", recs: cat(md("a"), snap(snapReplace, 4, 3), ent(5, 2)),
			wantErr: "lower than the snapshot's term"},
		{name: "snapshot goes backwards", recs: cat(md("a"), snap(snapReplace, 9, 2), snap(snapKeep, 8, 2)),
			wantErr: "after a snapshot at index 9"},
		{name: "keep snapshot beyond the log", recs: cat(md("a"), ents(1, 3, 1), snap(snapKeep, 5, 1)),
			wantErr: "the log ends at 3"},
		{name: "keep snapshot with the wrong term", recs: cat(md("a"), ents(1, 3, 1), snap(snapKeep, 2, 2)),
			wantErr: "but entry 2 has term 1"},
		{name: "metadata differs between segments", recs: cat(md("a"), ents(1, 1, 1), md("b")),
			wantErr: "metadata record differs"},
		{name: "commit beyond the log", recs: cat(md("a"), ents(1, 2, 1), hs(1, 5)),
			wantErr: "commit index 5 is beyond the last entry 2"},
		{name: "entry index zero", recs: cat(md("a"), ent(0, 1)),
			wantErr: "index 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st replayState
			var err error
			for i := range tc.recs {
				if err = st.apply(&tc.recs[i]); err != nil {
					break
				}
			}
			var gotHS raftpb.HardState
			if err == nil {
				gotHS, err = st.finish()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var log []string
			for _, e := range st.ents {
				log = append(log, fmt.Sprintf("%d/%d", e.Index, e.Term))
			}
			if got := strings.Join(log, " "); got != tc.log || st.snap.Index != tc.snap || gotHS != tc.hs {
				t.Fatalf("got snapshot %d, log %q, hardstate %+v\nwant snapshot %d, log %q, hardstate %+v",
					st.snap.Index, got, gotHS, tc.snap, tc.log, tc.hs)
			}
		})
	}
}
