package server

import (
	"fmt"
	"os"
	"path/filepath"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3"

	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/peer"
	"github.com/cairnkv/cairn/raftlog"
)

// openWAL opens the member's raft log, creating it for a new member, and
// sets the member's identity. A data dir that already holds a raft log is a
// restart: the bootstrap settings (InitialCluster, InitialClusterState,
// InitialClusterToken) are ignored, as etcd ignores them. For a new member:
//
//   - InitialClusterState "new": every member of InitialCluster is a
//     founding voter; ids derive from the peer URLs and the token, so every
//     member computes the same ids. The returned peers start raft.
//   - "existing": the member was added with a member add; it asks the other
//     members listed in InitialCluster for the cluster's members, finds
//     itself among them by its peer URLs, and starts with an empty log that
//     the leader fills (returned peers are nil).
func (s *Server) walOptions() raftlog.Options {
	return raftlog.Options{Logger: s.cfg.Logger, ObserveFsync: s.metrics.ObserveFsync}
}

func (s *Server) openWAL() (fresh bool, peers []raft.Peer, err error) {
	cfg := &s.cfg
	walDir := cfg.walDir()
	if raftlog.Exist(walDir) {
		s.wal, err = raftlog.Open(walDir, s.walOptions())
		if err != nil {
			return false, nil, err
		}
		var md membership.Identity
		if err := json.Unmarshal(s.wal.Metadata(), &md); err != nil {
			s.wal.Close()
			return false, nil, fmt.Errorf("wal metadata: %w", err)
		}
		s.memberID, s.clusterID = md.MemberID, md.ClusterID
		return false, nil, nil
	}

	var md membership.Identity
	switch cfg.InitialClusterState {
	case "new":
		var members []*membership.Member
		md, members, peers, err = bootstrapIdentity(*cfg)
		if err != nil {
			return false, nil, err
		}
		for _, m := range members {
			s.cluster.Ensure(m)
		}
	case "existing":
		var members []*membership.Member
		md, members, err = s.joinIdentity()
		if err != nil {
			return false, nil, err
		}
		for _, m := range members {
			s.cluster.Ensure(m)
		}
	default:
		return false, nil, fmt.Errorf("--initial-cluster-state must be new or existing, not %q", cfg.InitialClusterState)
	}
	// The cluster state goes to disk before the raft log exists, so a member
	// that crashes in between starts over as new.
	if err := s.cluster.Save(); err != nil {
		return false, nil, fmt.Errorf("saving the cluster state: %w", err)
	}
	mdBytes, _ := json.Marshal(md)
	s.wal, err = raftlog.Create(walDir, mdBytes, s.walOptions())
	if err != nil {
		return false, nil, err
	}
	s.memberID, s.clusterID = md.MemberID, md.ClusterID
	return true, peers, nil
}

// checkWALPlace refuses to start a member whose raft log is not where the
// flags say, rather than start a new member beside its store: a raft log in
// DataDir/wal while WALDir names another directory, or a store without a
// raft log (the log is in a --wal-dir that was not given). So it refuses a
// data dir that holds etcd's (member/wal, member/snap/db).
func checkWALPlace(cfg *Config) error {
	for _, p := range []string{filepath.Join("member", "wal"), filepath.Join("member", "snap", "db")} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, p)); err == nil {
			return fmt.Errorf("%s holds an etcd data dir (%s): cairn does not read etcd's files, and will not start a new cluster beside them. "+
				"To move the data to cairn, restore it into another --data-dir: cairn snapshot restore %s --data-dir <new dir> ... "+
				"(docs/operations.md, \"Coming from etcd\")", cfg.DataDir, p, filepath.Join(cfg.DataDir, "member", "snap", "db"))
		}
	}
	walDir := cfg.walDir()
	inData := filepath.Join(cfg.DataDir, "wal")
	if walDir != inData && raftlog.Exist(inData) {
		return fmt.Errorf("--wal-dir is %s, but the raft log of this member is in %s: move its files to %s, or start without --wal-dir", walDir, inData, walDir)
	}
	if raftlog.Exist(walDir) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "store.db")); err == nil {
		return fmt.Errorf("%s holds a store but %s holds no raft log: if this member's raft log is in another directory, give it with --wal-dir", cfg.DataDir, walDir)
	}
	return nil
}

// bootstrapIdentity derives the ids of a new cluster from InitialCluster and
// the token.
func bootstrapIdentity(cfg Config) (membership.Identity, []*membership.Member, []raft.Peer, error) {
	members, self, clusterID, err := membership.Initial(cfg.InitialCluster, cfg.InitialClusterToken, cfg.Name, cfg.PeerURLs)
	if err != nil {
		return membership.Identity{}, nil, nil, err
	}
	peers := make([]raft.Peer, len(members))
	for i, m := range members {
		ctx, _ := json.Marshal(m)
		peers[i] = raft.Peer{ID: m.ID, Context: ctx}
	}
	return membership.Identity{MemberID: self, ClusterID: clusterID, Name: cfg.Name}, members, peers, nil
}

// joinIdentity finds this member in the running cluster named in
// InitialCluster (membership.Join), asking the other members over the peer
// transport's client.
func (s *Server) joinIdentity() (membership.Identity, []*membership.Member, error) {
	return membership.Join(s.cfg.InitialCluster, s.cfg.Name, s.cfg.PeerURLs,
		func(urls []string, decode func([]byte) error) (uint64, error) {
			return peer.FetchMembers(urls, s.cfg.PeerTLS, decode)
		})
}

// recoverStore opens the store, first installing a received snapshot whose
// install a crash interrupted (the raft log has its snapshot, the store
// does not have its data yet; see package snapshot).
func (s *Server) recoverStore() error {
	path := s.storePath()
	st, err := s.openStore(path)
	if err != nil {
		return err
	}
	var snapIndex uint64
	if snap, err := s.wal.Snapshot(); err == nil {
		snapIndex = snap.Metadata.Index
	}
	if ci := st.ConsistentIndex(); ci < snapIndex {
		if !s.snaps.Has(snapIndex) {
			st.Close()
			return fmt.Errorf("the raft log starts after a snapshot at index %d, but the store holds only up to %d and %s has no store file for it: the data dir is inconsistent",
				snapIndex, ci, s.snaps.Path())
		}
		s.log.Warn("finishing the install of a received snapshot", "index", snapIndex, "store_consistent_index", ci)
		if err := st.Close(); err != nil {
			return err
		}
		data, err := s.snaps.Cluster(snapIndex)
		if err != nil {
			return err
		}
		if err := s.snaps.Install(snapIndex, path); err != nil {
			return err
		}
		if err := s.cluster.Restore(data); err != nil {
			return err
		}
		if err := s.cluster.Save(); err != nil {
			return err
		}
		if st, err = s.openStore(path); err != nil {
			return err
		}
		if ci := st.ConsistentIndex(); ci < snapIndex {
			st.Close()
			return fmt.Errorf("the received snapshot's store holds up to index %d, below the snapshot's index %d", ci, snapIndex)
		}
	}
	// Anything else in the snapshot directory is a receive that raft never
	// took, or one installed already.
	if idx, err := s.snaps.Indexes(); err == nil && len(idx) > 0 {
		s.snaps.Prune(idx[len(idx)-1])
	}
	s.store = st
	return nil
}
