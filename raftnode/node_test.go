package raftnode

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/raftslog"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// newTestRaftNode is member 1 of a group of voters (1, 2, 3 if none are
// given) at term 2 on a MemoryStorage, with every forwarded proposal
// captured.
func newTestRaftNode(t *testing.T, voters ...uint64) (*Node, *raft.MemoryStorage, *[]raftpb.Message) {
	t.Helper()
	if len(voters) == 0 {
		voters = []uint64{1, 2, 3}
	}
	ms := raft.NewMemoryStorage()
	var fwd []raftpb.Message
	ms.ApplySnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 5, Term: 2,
		ConfState: raftpb.ConfState{Voters: voters}}})
	n, err := New(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: ms,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, Logger: discardRaftLogger()}, nil,
		nil, func(m raftpb.Message) { fwd = append(fwd, m) })
	if err != nil {
		t.Fatal(err)
	}
	return n, ms, &fwd
}

// readyMessages drains the node's Readies, persisting them to ms, and
// returns their messages.
func readyMessages(n *Node, ms *raft.MemoryStorage) []raftpb.Message {
	var msgs []raftpb.Message
	for {
		rd, ok := n.Ready()
		if !ok {
			return msgs
		}
		ms.Append(rd.Entries)
		if !raft.IsEmptyHardState(rd.HardState) {
			ms.SetHardState(rd.HardState)
		}
		msgs = append(msgs, rd.Messages...)
		n.Advance(rd)
	}
}

// A follower that knows its leader hands a proposal straight to the
// transport, as the MsgProp raft would forward but naming the leader's
// term, and raft's own Ready does not carry it a second time.
func TestFollowerProposalGoesStraightToTheLeader(t *testing.T) {
	n, ms, fwd := newTestRaftNode(t)
	if err := n.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 5}); err != nil {
		t.Fatal(err)
	}
	readyMessages(n, ms)
	term, err := n.Propose(context.Background(), []byte("put"))
	if err != nil || term != 2 {
		t.Fatalf("Propose: term %d, %v; want the leader's term 2", term, err)
	}
	if len(*fwd) != 1 {
		t.Fatalf("forwarded %d messages, want 1", len(*fwd))
	}
	m := (*fwd)[0]
	if m.Type != raftpb.MsgProp || m.From != 1 || m.To != 2 || m.Term != 2 ||
		len(m.Entries) != 1 || string(m.Entries[0].Data) != "put" {
		t.Fatalf("forwarded %s", m.String())
	}
	for _, m := range readyMessages(n, ms) {
		if m.Type == raftpb.MsgProp {
			t.Fatalf("the proposal left through raft too: %s", m.String())
		}
	}
}

// A leader appends a forwarded proposal only in the term it names: one
// delayed past an election is dropped, so its proposer may propose it again
// without the old copy ever committing.
func TestForwardedProposalOnlyInItsTerm(t *testing.T) {
	n, ms, _ := newTestRaftNode(t, 1)
	if err := n.Campaign(); err != nil {
		t.Fatal(err)
	}
	readyMessages(n, ms) // a single voter: leader at once
	n.mu.Lock()
	st := n.rn.BasicStatus()
	n.mu.Unlock()
	if st.RaftState != raft.StateLeader {
		t.Fatalf("not leader: %v", st.RaftState)
	}
	last := func() uint64 { i, _ := ms.LastIndex(); return i }
	before := last()
	stale := []uint64{st.Term + 1, st.Term + 7} // 0 would be an untagged proposal
	if st.Term > 1 {
		stale = append(stale, st.Term-1)
	}
	for _, term := range stale {
		if err := n.StepProposal(raftpb.Message{Type: raftpb.MsgProp, From: 2, To: 1, Term: term, Entries: []raftpb.Entry{{Data: []byte("stale")}}}); err != nil {
			t.Fatal(err)
		}
		readyMessages(n, ms)
		if got := last(); got != before {
			t.Fatalf("a proposal for term %d was appended in term %d (last index %d -> %d)", term, st.Term, before, got)
		}
	}
	if err := n.StepProposal(raftpb.Message{Type: raftpb.MsgProp, From: 2, To: 1, Term: st.Term, Entries: []raftpb.Entry{{Data: []byte("now")}}}); err != nil {
		t.Fatal(err)
	}
	readyMessages(n, ms)
	if got := last(); got != before+1 {
		t.Fatalf("the proposal for the leader's term was not appended (last index %d -> %d)", before, got)
	}
}

// Without a leader the proposal is not forwarded to anybody: it waits for
// one, until its context ends.
func TestProposalWithoutLeaderWaits(t *testing.T) {
	n, _, fwd := newTestRaftNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := n.Propose(ctx, []byte("put")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Propose without a leader = %v, want the context's deadline", err)
	}
	if len(*fwd) != 0 {
		t.Fatalf("forwarded %v without a leader", *fwd)
	}
}

// A leader appends its proposals to its own log.
func TestLeaderProposalIsAppended(t *testing.T) {
	n, ms, fwd := newTestRaftNode(t, 1)
	if err := n.Campaign(); err != nil {
		t.Fatal(err)
	}
	readyMessages(n, ms)
	if st := n.Status(); st.RaftState != raft.StateLeader {
		t.Fatalf("state %s, want leader", st.RaftState)
	}
	last := n.Status().Commit
	if _, err := n.Propose(context.Background(), []byte("put")); err != nil {
		t.Fatal(err)
	}
	if len(*fwd) != 0 {
		t.Fatalf("a leader forwarded %v", *fwd)
	}
	readyMessages(n, ms)
	if st := n.Status(); st.Commit != last+1 {
		t.Fatalf("commit %d after the proposal, want %d", st.Commit, last+1)
	}
}

// Only the answers that vouch for this member's disk wait for the fsync.
func TestSplitMessages(t *testing.T) {
	msgs := []raftpb.Message{
		{Type: raftpb.MsgApp}, {Type: raftpb.MsgHeartbeat}, {Type: raftpb.MsgHeartbeatResp},
		{Type: raftpb.MsgProp}, {Type: raftpb.MsgReadIndex}, {Type: raftpb.MsgVote},
		{Type: raftpb.MsgAppResp}, {Type: raftpb.MsgVoteResp}, {Type: raftpb.MsgPreVoteResp},
	}
	early, late := SplitMessages(msgs)
	if len(early) != 6 || len(late) != 3 {
		t.Fatalf("early %d late %d, want 6 and 3", len(early), len(late))
	}
	for _, m := range late {
		if !afterPersist(m.Type) {
			t.Errorf("%s held back", m.Type)
		}
	}
	// Anything after a held-back answer is held back with it.
	_, late = SplitMessages([]raftpb.Message{{Type: raftpb.MsgAppResp}, {Type: raftpb.MsgHeartbeatResp}})
	if len(late) != 2 {
		t.Fatalf("late %d, want 2", len(late))
	}
	// A real follower's Ready: the append's answer is late, its heartbeat
	// answer early.
	n, _, _ := newTestRaftNode(t)
	n.Step(raftpb.Message{Type: raftpb.MsgApp, From: 2, To: 1, Term: 2, Index: 5, LogTerm: 2, Commit: 5,
		Entries: []raftpb.Entry{{Term: 2, Index: 6, Data: []byte("x")}}})
	n.Step(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 2, Commit: 5})
	rd, _ := n.Ready()
	early, late = SplitMessages(rd.Messages)
	if len(early) != 1 || early[0].Type != raftpb.MsgHeartbeatResp || len(late) != 1 || late[0].Type != raftpb.MsgAppResp {
		t.Fatalf("early %v late %v", early, late)
	}
}

// discardRaftLogger is a raft logger for tests that logs nothing.
func discardRaftLogger() raft.Logger { return raftslog.Logger{L: slog.New(slog.DiscardHandler)} }
