package raftlog

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// quietRaftLogger drops raft's chatter but keeps its panics.
type quietRaftLogger struct{}

func (quietRaftLogger) Debug(...any)              {}
func (quietRaftLogger) Debugf(string, ...any)     {}
func (quietRaftLogger) Error(...any)              {}
func (quietRaftLogger) Errorf(string, ...any)     {}
func (quietRaftLogger) Info(...any)               {}
func (quietRaftLogger) Infof(string, ...any)      {}
func (quietRaftLogger) Warning(...any)            {}
func (quietRaftLogger) Warningf(string, ...any)   {}
func (quietRaftLogger) Fatal(v ...any)            { panic(fmt.Sprint(v...)) }
func (quietRaftLogger) Fatalf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }
func (quietRaftLogger) Panic(v ...any)            { panic(fmt.Sprint(v...)) }
func (quietRaftLogger) Panicf(f string, v ...any) { panic(fmt.Sprintf(f, v...)) }

// member is a single-member raft group persisted in a Log, driven the way
// the server drives it: persist, apply, advance.
type member struct {
	t       *testing.T
	l       *Log
	rn      *raft.RawNode
	applied []string // data of applied normal entries
}

func startMember(t *testing.T, l *Log, fresh bool) *member {
	t.Helper()
	c := &raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: l,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Logger: quietRaftLogger{}}
	if snap, _ := l.Snapshot(); !fresh {
		c.Applied = snap.Metadata.Index
	}
	rn, err := raft.NewRawNode(c)
	if err != nil {
		t.Fatal(err)
	}
	if fresh {
		if err := rn.Bootstrap([]raft.Peer{{ID: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	m := &member{t: t, l: l, rn: rn}
	m.drain() // apply the bootstrap configuration first
	if err := rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	m.drain()
	if st := rn.Status(); st.RaftState != raft.StateLeader {
		t.Fatalf("single member is %v after campaigning", st.RaftState)
	}
	return m
}

// drain handles Readys until raft has nothing more to do.
func (m *member) drain() {
	m.t.Helper()
	for m.rn.HasReady() {
		rd := m.rn.Ready()
		if err := m.l.Save(rd.HardState, rd.Entries); err != nil {
			m.t.Fatal(err)
		}
		for _, e := range rd.CommittedEntries {
			switch e.Type {
			case raftpb.EntryNormal:
				if len(e.Data) > 0 {
					m.applied = append(m.applied, string(e.Data))
				}
			case raftpb.EntryConfChange:
				var cc raftpb.ConfChange
				if err := cc.Unmarshal(e.Data); err != nil {
					m.t.Fatal(err)
				}
				m.rn.ApplyConfChange(cc)
			}
		}
		m.rn.Advance(rd)
	}
}

func (m *member) propose(data string) {
	m.t.Helper()
	if err := m.rn.Propose([]byte(data)); err != nil {
		m.t.Fatal(err)
	}
	m.drain()
}

// A real raft node runs on the Log, restarts from it, snapshots, compacts
// and restarts again with everything it had committed.
func TestRaftNodeRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	opts, _ := testOptions(8 << 10)
	l := mustCreate(t, dir, []byte("member 1"), opts)
	m := startMember(t, l, true)
	var want []string
	for i := range 200 {
		d := fmt.Sprintf("put k%d", i)
		want = append(want, d)
		m.propose(d)
	}
	if len(m.applied) != len(want) {
		t.Fatalf("applied %d entries, want %d", len(m.applied), len(want))
	}
	st := m.rn.Status()
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	hs, _, _ := l.InitialState()
	if hs.Commit != st.Commit || hs.Term != st.Term {
		t.Fatalf("reopened HardState %+v, want commit %d term %d", hs, st.Commit, st.Term)
	}
	// Replaying the log from the start gives the same applied data.
	first, last := mustIndexes(t, l)
	ents, err := l.Entries(first, last+1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var replayed []string
	for _, e := range ents {
		if e.Type == raftpb.EntryNormal && len(e.Data) > 0 && e.Index <= hs.Commit {
			replayed = append(replayed, string(e.Data))
		}
	}
	if fmt.Sprint(replayed) != fmt.Sprint(want) {
		t.Fatalf("replayed %d committed entries, want %d", len(replayed), len(want))
	}

	// Restart raft on the reopened log (with no snapshot yet, it applies
	// the log again from the start, configuration included), snapshot at
	// the applied index, compact, keep going.
	m = &member{t: t, l: l}
	m.rn, err = raft.NewRawNode(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: l,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Logger: quietRaftLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	m.drain()
	if fmt.Sprint(m.applied) != fmt.Sprint(want) {
		t.Fatalf("raft re-applied %d entries after the restart, want %d", len(m.applied), len(want))
	}
	if err := m.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	m.drain()
	applied := m.rn.Status().Applied
	term, _ := l.Term(applied)
	if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: applied, Term: term, ConfState: raftpb.ConfState{Voters: []uint64{1}}}}); err != nil {
		t.Fatal(err)
	}
	before := len(segmentNames(t, dir))
	if err := l.Compact(applied - 10); err != nil {
		t.Fatal(err)
	}
	if after := len(segmentNames(t, dir)); after >= before {
		t.Fatalf("Compact left %d of %d segments", after, before)
	}
	for i := range 20 {
		m.propose(fmt.Sprintf("after snapshot %d", i))
	}
	st = m.rn.Status()
	mustClose(t, l)

	l = mustOpen(t, dir, opts)
	m = &member{t: t, l: l}
	m.rn, err = raft.NewRawNode(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: l,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Applied: applied, Logger: quietRaftLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.rn.Status(); got.Commit != st.Commit {
		t.Fatalf("after the second restart raft has commit %d, want %d", got.Commit, st.Commit)
	}
	if first, _ := l.FirstIndex(); first != applied+1 {
		t.Fatalf("FirstIndex = %d, want snapshot index + 1 = %d", first, applied+1)
	}
}

// The Storage methods may be called from other goroutines while the raft
// loop saves (the server's applier reads Snapshot and InitialState). Run
// with -race.
func TestStorageReadsDuringSaves(t *testing.T) {
	opts, _ := testOptions(16 << 10)
	l := mustCreate(t, t.TempDir(), nil, opts)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			hs, _, _ := l.InitialState()
			snap, _ := l.Snapshot()
			first, _ := l.FirstIndex()
			last, _ := l.LastIndex()
			if hs.Commit > last || snap.Metadata.Index > last {
				readErr = fmt.Errorf("read commit %d / snapshot %d beyond last index %d", hs.Commit, snap.Metadata.Index, last)
				return
			}
			if last >= first {
				if _, err := l.Term(last); err != nil {
					readErr = err
					return
				}
			}
		}
	}()
	for i := uint64(1); i <= 300; i++ {
		mustSave(t, l, raftpb.HardState{Term: 1, Commit: i}, makeEntries(i, i, 1, 64))
		if i%100 == 0 {
			if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: 1}}); err != nil {
				t.Fatal(err)
			}
			if err := l.Compact(i - 50); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
}
