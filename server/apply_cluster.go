package server

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/internal/failpoint"
	"github.com/cairnkv/cairn/internal/logattr"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/store"
)

func (s *Server) storePath() string { return filepath.Join(s.cfg.DataDir, "store.db") }

// applyConfChange applies one committed configuration change: to raft (which
// must see every change, replayed ones too), to the cluster state (saved
// before the batch is acknowledged) and to the transport. It returns the
// result for the proposer's waiter (id 0: nobody here proposed it).
func (s *Server) applyConfChange(st *applyState, e *raftpb.Entry) (pendingResult, error) {
	var (
		changes []raftpb.ConfChange
		id      uint64
	)
	if e.Type == raftpb.EntryConfChange {
		var cc raftpb.ConfChange
		if err := cc.Unmarshal(e.Data); err != nil {
			return pendingResult{}, fmt.Errorf("raft entry %d: undecodable conf change: %w", e.Index, err)
		}
		st.confState = *s.node.ApplyConfChange(cc)
		changes, id = []raftpb.ConfChange{cc}, cc.ID
	} else {
		var cc raftpb.ConfChangeV2
		if err := cc.Unmarshal(e.Data); err != nil {
			return pendingResult{}, fmt.Errorf("raft entry %d: undecodable conf change: %w", e.Index, err)
		}
		st.confState = *s.node.ApplyConfChange(cc)
		for _, c := range cc.Changes {
			changes = append(changes, raftpb.ConfChange{Type: c.Type, NodeID: c.NodeID, Context: cc.Context})
		}
	}
	var res applyResult
	// A change replayed after a restart (raft re-delivers every entry after
	// its snapshot) is in cluster.json already, from which New set up the
	// transport: re-adding a member removed since would dial it until the
	// replay reached its removal.
	replayed := e.Index <= s.appliedIndex.Load()
	for _, cc := range changes {
		if cc.NodeID == 0 {
			continue // a change withdrawn by its proposer: raft ignores it too
		}
		m, err := s.cluster.ApplyConfChange(e.Index, cc)
		if err != nil {
			// raft has applied it; the cluster state can only record the id.
			s.log.Error("configuration change with a bad member record", "index", e.Index, "err", err)
			continue
		}
		res.member = m
		switch {
		case cc.Type == raftpb.ConfChangeRemoveNode:
			if !replayed {
				s.tr.RemovePeer(cc.NodeID)
				s.tr.ForgetStats(cc.NodeID)
			}
			if cc.NodeID == s.memberID {
				st.removed = true
			}
		case m != nil && !replayed:
			s.tr.SetPeer(m.ID, m.PeerURLs)
		}
		if m != nil && !replayed {
			s.log.Info("membership changed", "change", cc.Type.String(), "member", fmt.Sprintf("%x", cc.NodeID),
				"name", m.Name, "peer_urls", m.PeerURLs, "index", e.Index)
		}
	}
	if err := s.cluster.Save(); err != nil {
		return pendingResult{}, fmt.Errorf("saving the cluster state at index %d: %w", e.Index, err)
	}
	s.isLearner.Store(slices.Contains(st.confState.Learners, s.memberID))
	return pendingResult{id, res}, nil
}

// applyClusterRequest applies a normal entry that changes the cluster state
// rather than the store.
func (s *Server) applyClusterRequest(index uint64, req *entry.Request) (applyResult, error) {
	var r applyResult
	changed := false
	switch {
	case req.Attrs != nil:
		changed = s.cluster.SetAttributes(index, req.Attrs)
	case req.Alarm != nil:
		r.alarms = s.cluster.ApplyAlarm(index, req.Alarm)
		changed = len(r.alarms) > 0
		for _, a := range r.alarms {
			verb := "raised"
			if req.Alarm.Action != cairn.AlarmActivate {
				verb = "cleared"
			}
			s.log.Warn("alarm "+verb, "alarm", a.Type, "member", fmt.Sprintf("%x", a.MemberID), "index", index)
		}
	}
	if changed {
		if err := s.cluster.Save(); err != nil {
			return applyResult{}, fmt.Errorf("saving the cluster state at index %d: %w", index, err)
		}
	}
	return r, nil
}

// installSnapshot replaces the store with the one received with snap (see
// package snapshot for the order and its recovery), takes the cluster state
// that came with it, and moves the applied index to the new store's.
func (s *Server) installSnapshot(st *applyState, snap raftpb.Snapshot) error {
	index := snap.Metadata.Index
	start := time.Now()
	if h := s.beforeInstall.Load(); h != nil {
		if err := (*h)(); err != nil {
			return err // a test's crash between the raft log and the store
		}
	}
	failpoint.Hit("server/beforeSnapshotInstall")
	data, err := s.snaps.Cluster(index)
	if err != nil {
		return fmt.Errorf("installing the snapshot at %d: %w", index, err)
	}
	s.storeMu.Lock()
	oldHub := s.watch
	if err := s.store.Close(); err != nil {
		s.log.Warn("closing the store replaced by a snapshot", "err", err)
	}
	err = s.snaps.Install(index, s.storePath())
	var ns *store.Store
	if err == nil {
		ns, err = s.openStore(s.storePath()) // with a new watch hub
	}
	if err != nil {
		s.storeMu.Unlock()
		return fmt.Errorf("installing the snapshot at %d: %w", index, err)
	}
	s.store = ns
	s.storeMu.Unlock()
	failpoint.Hit("server/afterSnapshotInstall")
	// The old hub's watchers missed the revisions the snapshot brought:
	// their streams end, and clients resume from their next revision on the
	// new hub, as after any broken watch stream.
	if oldHub != nil {
		oldHub.Close()
	}

	ci := ns.ConsistentIndex()
	if ci < index || ci < s.appliedIndex.Load() {
		return fmt.Errorf("the snapshot at %d brought a store at index %d, behind the snapshot or this member (applied %d)", index, ci, s.appliedIndex.Load())
	}
	if err := s.cluster.Restore(data); err != nil {
		return err
	}
	s.cluster.Ensure(&membership.Member{ID: s.memberID, Name: s.cfg.Name, PeerURLs: s.selfPeerURLs()})
	if err := s.cluster.Save(); err != nil {
		return err
	}
	keep := map[uint64]bool{}
	for _, m := range s.cluster.List() {
		keep[m.ID] = true
		s.tr.SetPeer(m.ID, m.PeerURLs)
	}
	for _, id := range s.tr.Peers() {
		if !keep[id] {
			s.tr.RemovePeer(id)
		}
	}
	st.snapIndex = index
	st.confState = snap.Metadata.ConfState
	s.isLearner.Store(slices.Contains(st.confState.Learners, s.memberID))
	s.appliedIndex.Store(ci)
	s.applied.Advance(ci)
	if err := s.snaps.Prune(index); err != nil {
		s.log.Warn("removing installed snapshot files", "err", err)
	}
	s.log.Info("snapshot installed", "index", index, "term", snap.Metadata.Term, "store_consistent_index", ci,
		"revision", ns.Rev(), logattr.TookMS(start))
	return nil
}

// stopRemoved stops a member whose removal it applied, after a few
// heartbeats so that, as leader, it can still tell the others the removal
// is committed.
func (s *Server) stopRemoved() {
	s.removeOnce.Do(func() {
		s.log.Error(errMemberRemoved.Error() + "; stopping")
		time.AfterFunc(10*s.cfg.HeartbeatInterval, func() { s.fatal(errMemberRemoved) })
	})
}
