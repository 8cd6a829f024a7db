// Package raftnode drives a member's raft state machine: a raft.RawNode
// behind a mutex (Node), whose Ready loop the member core (package server)
// runs. Proposals wait for a leader, go straight to the leader's peer
// stream on a follower, and carry the term they may be appended in, so a
// lost proposal is safe to propose again (Propose, StepProposal).
package raftnode

import (
	"context"
	"errors"
	"sync"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Node is this member's raft state machine: a raft.RawNode behind a
// mutex, driven by the Ready loop (package server, ready.go) and stepped directly by the
// goroutines that have something for it (proposers, the peer transport,
// the read loop, the applier for configuration changes).
//
// raft.Node, the library's own driver, runs the RawNode on a goroutine of
// its own and hands every proposal, every Ready and every Advance across
// channels: three goroutine wake-ups per Ready, on top of ours. Here a
// proposal is appended to the raft log by its proposer's goroutine, and a
// single-voter member learns that its entries are committed inside Advance,
// so the Ready loop picks the committed entries up without waiting for
// anybody. The mutex is held only while raft itself runs, never across disk
// or network I/O.
type Node struct {
	mu sync.Mutex
	rn *raft.RawNode
	// wake tells the Ready loop that raft may have a Ready (capacity 1: a
	// pending wake-up covers any number of changes).
	wake chan struct{}
	// leadc is closed, and replaced, whenever the Ready loop sees the
	// leader change; proposers dropped for want of a leader wait on it.
	leadc chan struct{}
	// stopped, if set, is closed when the member stops: proposers waiting
	// for a leader give up then (raft.ErrStopped).
	stopped <-chan struct{}
	// forward, if set, queues a follower's proposal for the leader on the
	// peer transport (see Propose); it must not block.
	forward func(m raftpb.Message)
}

// New starts raft from c's storage; peers, if any, bootstrap a new
// cluster (raft.StartNode's bootstrap; an already bootstrapped log is left
// as it is). stopped, if not nil, is closed when the member stops;
// forward, if not nil, queues a follower's proposal for the leader on the
// peer transport and must not block (see Propose).
func New(c *raft.Config, peers []raft.Peer, stopped <-chan struct{}, forward func(raftpb.Message)) (*Node, error) {
	rn, err := raft.NewRawNode(c)
	if err != nil {
		return nil, err
	}
	if len(peers) > 0 {
		if err := rn.Bootstrap(peers); err != nil {
			c.Logger.Warningf("bootstrapping raft: %v", err)
		}
	}
	return &Node{rn: rn, wake: make(chan struct{}, 1), leadc: make(chan struct{}),
		stopped: stopped, forward: forward}, nil
}

// Wake is signalled when raft may have a Ready for the Ready loop
// (capacity 1: a pending wake-up covers any number of changes).
func (n *Node) Wake() <-chan struct{} { return n.wake }

// Poke wakes the Ready loop.
func (n *Node) Poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// do runs f on the RawNode under the lock and wakes the Ready loop.
func (n *Node) do(f func(rn *raft.RawNode) error) error {
	n.mu.Lock()
	err := f(n.rn)
	n.mu.Unlock()
	n.Poke()
	return err
}

// Tick advances raft's logical clock by one heartbeat interval.
func (n *Node) Tick() {
	n.do(func(rn *raft.RawNode) error { rn.Tick(); return nil })
}

// Campaign starts an election.
func (n *Node) Campaign() error {
	return n.do(func(rn *raft.RawNode) error { return rn.Campaign() })
}

// Propose appends data to the raft log (forwarded to the leader on a
// follower) and returns the term in which it may be appended: the
// leader's term as this member knows it. A proposal is appended in that
// term or never (a forwarded proposal carries the term, and the receiver
// drops it unless it leads in that term; see StepProposal), so once this
// member applies an entry of a later term without having applied the
// proposal, the proposal is lost for good and may be proposed again
// (package server, inflight). While the cluster has no leader Propose waits for one,
// until ctx ends or the member stops, as raft.Node.Propose does. Errors:
// raft.ErrProposalDropped when raft refuses the proposal with a leader
// known (a leadership transfer is under way), ctx.Err(), raft.ErrStopped.
//
// On a follower that knows its leader the proposal goes straight to the
// leader's peer stream, as the MsgProp raft itself would forward: a
// follower's raft only readdresses a proposal to the leader (stepFollower),
// but its message would leave in the next Ready, after the fsync the Ready
// loop may be in the middle of, and after that Ready's own fsync, since a
// follower sends once it has persisted. A proposal promises nothing durable,
// so it need not wait for either.
func (n *Node) Propose(ctx context.Context, data []byte) (term uint64, err error) {
	for {
		n.mu.Lock()
		st := n.rn.BasicStatus()
		switch {
		case st.RaftState == raft.StateLeader:
			// raft.ErrProposalDropped here: a leadership transfer is under way.
			err := n.rn.Propose(data)
			n.mu.Unlock()
			if err != nil {
				return 0, err
			}
			n.Poke()
			return st.Term, nil
		case st.Lead != raft.None && st.Lead != st.ID && n.forward == nil:
			// No transport to forward on (tests of the raft node alone):
			// raft forwards it, without a term.
			err := n.rn.Propose(data)
			n.mu.Unlock()
			n.Poke()
			return st.Term, err
		case st.Lead != raft.None && st.Lead != st.ID:
			n.mu.Unlock()
			n.forward(raftpb.Message{
				Type:    raftpb.MsgProp,
				From:    st.ID,
				To:      st.Lead,
				Term:    st.Term,
				Entries: []raftpb.Entry{{Data: data}},
			})
			return st.Term, nil
		}
		leadc := n.leadc
		n.mu.Unlock()
		select {
		case <-leadc:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-n.stopped:
			return 0, raft.ErrStopped
		}
	}
}

// StepProposal hands raft a proposal a follower forwarded: it is appended
// only if this member leads in the term the follower named (m.Term), else
// dropped without an error, so that a proposal delayed on the way cannot be
// appended in a later term after its proposer gave it up for lost. A
// proposal without a term (from a member that does not name one) is
// stepped as it is.
func (n *Node) StepProposal(m raftpb.Message) error {
	return n.do(func(rn *raft.RawNode) error {
		if m.Term != 0 {
			st := rn.BasicStatus()
			if st.RaftState != raft.StateLeader || st.Term != m.Term {
				return nil
			}
			m.Term = 0 // a local message type to raft
		}
		return rn.Step(m)
	})
}

// ProposeConfChange proposes a configuration change, waiting for a leader
// as Propose does.
func (n *Node) ProposeConfChange(ctx context.Context, cc raftpb.ConfChangeI) error {
	return n.proposeWhenLed(ctx, func(rn *raft.RawNode) error { return rn.ProposeConfChange(cc) })
}

func (n *Node) proposeWhenLed(ctx context.Context, propose func(rn *raft.RawNode) error) error {
	for {
		n.mu.Lock()
		err := propose(n.rn)
		leaderless := errors.Is(err, raft.ErrProposalDropped) && n.rn.BasicStatus().Lead == raft.None
		leadc := n.leadc
		n.mu.Unlock()
		if err == nil {
			n.Poke()
			return nil
		}
		if !leaderless {
			return err
		}
		select {
		case <-leadc:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stopped:
			return raft.ErrStopped
		}
	}
}

// LeaderChange returns a channel closed at the next change of leader.
func (n *Node) LeaderChange() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leadc
}

// LeaderChanged wakes the proposers waiting for a leader; the Ready loop
// calls it when a Ready's soft state names another leader.
func (n *Node) LeaderChanged() {
	n.mu.Lock()
	close(n.leadc)
	n.leadc = make(chan struct{})
	n.mu.Unlock()
}

// Step hands raft a message from a peer. Errors: raft.ErrStepLocalMsg,
// raft.ErrStepPeerNotFound (a response from a member raft does not know).
func (n *Node) Step(m raftpb.Message) error {
	return n.do(func(rn *raft.RawNode) error { return rn.Step(m) })
}

// ReadIndex starts a ReadIndex round with request context rctx; its answer
// comes back in a Ready's ReadStates.
func (n *Node) ReadIndex(rctx []byte) {
	n.do(func(rn *raft.RawNode) error { rn.ReadIndex(rctx); return nil })
}

// ApplyConfChange applies an applied configuration change to raft's view
// of the configuration and returns the new configuration.
func (n *Node) ApplyConfChange(cc raftpb.ConfChangeI) *raftpb.ConfState {
	var cs *raftpb.ConfState
	n.do(func(rn *raft.RawNode) error { cs = rn.ApplyConfChange(cc); return nil })
	return cs
}

// Status returns raft's status, with the followers' progress on a leader.
func (n *Node) Status() raft.Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rn.Status()
}

// TransferLeadership asks the leader (this member) to hand leadership to
// member to.
func (n *Node) TransferLeadership(to uint64) {
	n.do(func(rn *raft.RawNode) error { rn.TransferLeader(to); return nil })
}

// ReportUnreachable tells raft that the last message to member id was
// not delivered.
func (n *Node) ReportUnreachable(id uint64) {
	n.do(func(rn *raft.RawNode) error { rn.ReportUnreachable(id); return nil })
}

// ReportSnapshot tells raft how sending a snapshot to member id ended.
func (n *Node) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	n.do(func(rn *raft.RawNode) error { rn.ReportSnapshot(id, status); return nil })
}

// Ready returns raft's next Ready, if it has one. The caller must persist,
// send and apply it as raft requires and then call advance, before ready
// is called again.
func (n *Node) Ready() (raft.Ready, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.rn.HasReady() {
		return raft.Ready{}, false
	}
	return n.rn.Ready(), true
}

// Advance tells raft that the last Ready is handled. On a single voter
// this is where the entries it persisted become committed, so the Ready
// loop is woken again if raft has more for it.
func (n *Node) Advance(rd raft.Ready) {
	n.mu.Lock()
	n.rn.Advance(rd)
	more := n.rn.HasReady()
	n.mu.Unlock()
	if more {
		n.Poke()
	}
}
