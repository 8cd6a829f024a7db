package server

import (
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/membership"
)

// forceNewCluster is --force-new-cluster on a restarted member: it
// rewrites the raft log whose HardState is hs (membership.ForceNewCluster
// says how) and returns the HardState that commits the rewrite. changed is
// false when this member was alone already.
func (s *Server) forceNewCluster(hs raftpb.HardState) (_ raftpb.HardState, changed bool, err error) {
	f, err := membership.ForceNewCluster(s.wal, hs, s.memberID, s.cluster.Get(s.memberID))
	switch {
	case err != nil:
		return hs, false, err
	case f == nil:
		s.log.Warn("--force-new-cluster: this member is a one-member cluster already; nothing to do (start it without the flag)")
		return hs, false, nil
	}
	s.log.Warn("--force-new-cluster: forcing a one-member cluster from this member's data; the other members are removed",
		"removed", f.Removed, "entries_after_commit_dropped", f.Dropped, "commit", f.HardState.Commit, "term", f.HardState.Term)
	return f.HardState, true, nil
}
