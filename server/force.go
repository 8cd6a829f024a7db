package server

import (
	"fmt"
	"maps"
	"math"
	"slices"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3/raftpb"
)

// forceNewCluster is --force-new-cluster (etcd's disaster recovery): it
// turns this restarted member into a one-member cluster that keeps its data,
// for when the other members are lost for good and the cluster has no
// quorum left to remove them. A write the lost members committed that this
// member had not received is lost, as with etcd.
//
// It rewrites the raft log before raft starts: the entries after the commit
// index it knows are dropped (this member cannot tell whether they were
// committed; etcd drops them too), and committed configuration
// changes are appended that remove every other member (and make this one a
// voter, were it a learner), at the current term. Raft then delivers them as
// committed entries, and the applier applies them like any other removal:
// raft's configuration becomes this member alone, cluster.json lists only
// it and marks the others removed (they are refused if they come back), and
// the peer transport stops calling them. The store is not touched.
//
// hs is the raft log's HardState; the returned one commits the new entries.
// changed is false when the configuration was this member alone already
// (nothing is rewritten then). Like etcd, it does this on every start with
// the flag: drop the flag once the member runs.
func (s *Server) forceNewCluster(hs raftpb.HardState) (_ raftpb.HardState, changed bool, err error) {
	voters, learners, err := s.committedConf(hs.Commit)
	if err != nil {
		return hs, false, err
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
	for _, id := range slices.Sorted(maps.Keys(mergeSets(voters, learners))) {
		if id == s.memberID {
			continue
		}
		removed = append(removed, fmt.Sprintf("%x", id))
		if err := add(raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: id}); err != nil {
			return hs, false, err
		}
	}
	if !voters[s.memberID] {
		self := s.cluster.Get(s.memberID)
		ctx, _ := json.Marshal(self)
		if err := add(raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: s.memberID, Context: ctx}); err != nil {
			return hs, false, err
		}
	}
	if len(ents) == 0 {
		s.log.Warn("--force-new-cluster: this member is a one-member cluster already; nothing to do (start it without the flag)")
		return hs, false, nil
	}
	var dropped uint64
	if last, _ := s.wal.LastIndex(); last > hs.Commit {
		dropped = last - hs.Commit
	}
	hs.Commit = ents[len(ents)-1].Index
	// Entries at or below the last index replace the uncommitted tail.
	if err := s.wal.Save(hs, ents); err != nil {
		return hs, false, fmt.Errorf("--force-new-cluster: rewriting the raft log: %w", err)
	}
	s.log.Warn("--force-new-cluster: forcing a one-member cluster from this member's data; the other members are removed",
		"removed", removed, "entries_after_commit_dropped", dropped, "commit", hs.Commit, "term", hs.Term)
	return hs, true, nil
}

// committedConf returns the voters and learners of the configuration as of
// the entry at commit: the latest raft snapshot's, changed by the
// configuration changes committed after it.
func (s *Server) committedConf(commit uint64) (voters, learners map[uint64]bool, err error) {
	snap, err := s.wal.Snapshot()
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
	ents, err := s.wal.Entries(snap.Metadata.Index+1, commit+1, math.MaxUint64)
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
