package membership

import (
	"fmt"
	"maps"
	"math"
	"slices"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3/raftpb"
)

// RaftLog is the part of the member's raft log (package raftlog's Log)
// that ForceNewCluster reads and rewrites.
type RaftLog interface {
	Snapshot() (raftpb.Snapshot, error)
	Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error)
	LastIndex() (uint64, error)
	// Save appends ents after truncating the log at ents[0].Index, and
	// stores hs; both durable when it returns.
	Save(hs raftpb.HardState, ents []raftpb.Entry) error
}

// Forced is what ForceNewCluster did.
type Forced struct {
	// HardState commits the appended configuration changes.
	HardState raftpb.HardState
	// Removed lists the removed members' ids, in hex, ascending.
	Removed []string
	// Dropped is the number of entries after the old commit index that
	// were dropped.
	Dropped uint64
}

// ForceNewCluster is --force-new-cluster (etcd's disaster recovery): it
// turns a restarted member into a one-member cluster that keeps its data,
// for when the other members are lost for good and the cluster has no
// quorum left to remove them. A write the lost members committed that this
// member had not received is lost, as with etcd.
//
// It rewrites the raft log wal, whose HardState is hs, before raft starts:
// the entries after the commit index are dropped (the member cannot tell
// whether they were committed; etcd drops them too), and committed
// configuration changes are appended, at hs's term, that remove every
// other member (and make member id, whose record is self, a voter, were
// it a learner). Raft then
// delivers them as committed entries and the member applies them like any
// other removal: raft's configuration becomes member id alone, the cluster
// state lists only it and marks the others removed (they are refused if
// they come back), and the transport stops calling them. The store is not
// touched. Like etcd, a member does this on every start with the flag.
//
// It returns nil, and rewrites nothing, when the configuration is member
// id alone already. Errors: reading or saving wal.
func ForceNewCluster(wal RaftLog, hs raftpb.HardState, id uint64, self *Member) (*Forced, error) {
	voters, learners, err := committedConf(wal, hs.Commit)
	if err != nil {
		return nil, err
	}
	var ents []raftpb.Entry
	var removed []string
	add := func(cc raftpb.ConfChange) error {
		data, err := cc.Marshal()
		if err != nil {
			return err
		}
		ents = append(ents, raftpb.Entry{Type: raftpb.EntryConfChange, Term: hs.Term,
			Index: hs.Commit + uint64(len(ents)) + 1, Data: data})
		return nil
	}
	for _, other := range slices.Sorted(maps.Keys(mergeSets(voters, learners))) {
		if other == id {
			continue
		}
		removed = append(removed, fmt.Sprintf("%x", other))
		if err := add(raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: other}); err != nil {
			return nil, err
		}
	}
	if !voters[id] {
		ctx, _ := json.Marshal(self)
		if err := add(raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: id, Context: ctx}); err != nil {
			return nil, err
		}
	}
	if len(ents) == 0 {
		return nil, nil
	}
	f := &Forced{Removed: removed}
	if last, _ := wal.LastIndex(); last > hs.Commit {
		f.Dropped = last - hs.Commit
	}
	hs.Commit = ents[len(ents)-1].Index
	// Entries at or below the last index replace the uncommitted tail.
	if err := wal.Save(hs, ents); err != nil {
		return nil, fmt.Errorf("--force-new-cluster: rewriting the raft log: %w", err)
	}
	f.HardState = hs
	return f, nil
}

// committedConf returns the voters and learners of the configuration as of
// the entry at commit: the latest raft snapshot's, changed by the
// configuration changes committed after it.
func committedConf(wal RaftLog, commit uint64) (voters, learners map[uint64]bool, err error) {
	snap, err := wal.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	voters, learners = map[uint64]bool{}, map[uint64]bool{}
	for _, id := range snap.Metadata.ConfState.Voters {
		voters[id] = true
	}
	for _, id := range snap.Metadata.ConfState.Learners {
		learners[id] = true
	}
	if commit <= snap.Metadata.Index {
		return voters, learners, nil
	}
	ents, err := wal.Entries(snap.Metadata.Index+1, commit+1, math.MaxUint64)
	if err != nil {
		return nil, nil, fmt.Errorf("--force-new-cluster: reading the committed entries: %w", err)
	}
	for _, e := range ents {
		var cc raftpb.ConfChangeI
		switch e.Type {
		case raftpb.EntryConfChange:
			var v1 raftpb.ConfChange
			err = v1.Unmarshal(e.Data)
			cc = v1
		case raftpb.EntryConfChangeV2:
			var v2 raftpb.ConfChangeV2
			err = v2.Unmarshal(e.Data)
			cc = v2
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("raft entry %d: undecodable conf change: %w", e.Index, err)
		}
		for _, c := range cc.AsV2().Changes {
			if c.NodeID == 0 {
				continue // withdrawn by its proposer; raft ignores it too
			}
			switch c.Type {
			case raftpb.ConfChangeAddNode:
				voters[c.NodeID], learners[c.NodeID] = true, false
			case raftpb.ConfChangeAddLearnerNode:
				voters[c.NodeID], learners[c.NodeID] = false, true
			case raftpb.ConfChangeRemoveNode:
				voters[c.NodeID], learners[c.NodeID] = false, false
			}
		}
	}
	return voters, learners, nil
}

// mergeSets returns the ids set in a or b.
func mergeSets(a, b map[uint64]bool) map[uint64]bool {
	out := map[uint64]bool{}
	for _, m := range []map[uint64]bool{a, b} {
		for id, in := range m {
			if in {
				out[id] = true
			}
		}
	}
	return out
}
