package snapshot

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/raftlog"
	"github.com/cairnkv/cairn/store"
)

// RestoreConfig names the member of a new cluster that Restore makes, with
// the flags etcd's snapshot restore takes: --name, --initial-cluster,
// --initial-cluster-token and, if given, --initial-advertise-peer-urls
// (PeerURLs, checked against the member's entry in InitialCluster).
type RestoreConfig struct {
	DataDir string
	// WALDir, if set, receives the raft log instead of DataDir/wal (etcd's
	// --wal-dir); start the member with the same --wal-dir.
	WALDir              string
	Name                string
	InitialCluster      []membership.Peer
	InitialClusterToken string
	PeerURLs            []string
	Logger              *slog.Logger // nil: slog.Default()
}

// Restore makes cfg.DataDir the data dir of a member of a new cluster whose
// data is the backup at backup (a file snapshot.Save wrote, or a bare store
// file), as etcdutl snapshot restore does. Every member of the new cluster
// is restored from the same backup with the same InitialCluster and
// InitialClusterToken (and its own Name); then each starts with cairn on
// its data dir, which holds its identity from then on.
//
// It verifies the backup's SHA-256, copies the store file in with its
// consistent index set to 0, and writes the raft log of the new cluster:
// its metadata and the configuration changes that add the members
// (committed, as raft's own bootstrap writes them), plus the cluster state.
// The store keeps every revision, compaction and lease of the backup. It
// refuses a data dir that already holds a member.
//
// The backup may also be etcd 3's (etcdctl snapshot save, or an etcd data
// dir's member/snap/db): its keyspace is converted on the way in (see
// store.ImportEtcd), which is how an etcd cluster's data moves to cairn.
func Restore(cfg RestoreConfig, backup string) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	walDir := cfg.WALDir
	if walDir == "" {
		walDir = filepath.Join(cfg.DataDir, "wal")
	}
	if raftlog.Exist(walDir) {
		return fmt.Errorf("%s already holds a member; restore into a new data dir", cfg.DataDir)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "store.db")); err == nil {
		return fmt.Errorf("%s already holds a store; restore into a new data dir", cfg.DataDir)
	}
	members, self, clusterID, err := membership.Initial(cfg.InitialCluster, cfg.InitialClusterToken, cfg.Name, cfg.PeerURLs)
	if err != nil {
		return err
	}
	md := membership.Identity{MemberID: self, ClusterID: clusterID, Name: cfg.Name}
	dbSize, _, err := Verify(backup)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(cfg.DataDir, "store.db.restore")
	if err := CopyStoreFile(backup, tmp, dbSize); err != nil {
		return err
	}
	if err := fromEtcd(tmp, cfg.Logger); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := store.PrepareRestore(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := fsutil.Rename(tmp, filepath.Join(cfg.DataDir, "store.db")); err != nil {
		return err
	}
	c := membership.New(cfg.DataDir)
	for _, m := range members {
		c.Ensure(m)
	}
	if err := c.Save(); err != nil {
		return err
	}
	mdBytes, _ := json.Marshal(md)
	wal, err := raftlog.Create(walDir, mdBytes, raftlog.Options{Logger: cfg.Logger})
	if err != nil {
		return err
	}
	ents := make([]raftpb.Entry, len(members))
	for i, m := range members {
		ctx, _ := json.Marshal(m)
		cc := raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: m.ID, Context: ctx}
		data, err := cc.Marshal()
		if err != nil {
			wal.Close()
			return err
		}
		ents[i] = raftpb.Entry{Type: raftpb.EntryConfChange, Term: 1, Index: uint64(i + 1), Data: data}
	}
	hs := raftpb.HardState{Term: 1, Commit: uint64(len(ents))}
	err = wal.Save(hs, ents)
	if cerr := wal.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("writing the raft log of the restored member"), err)
	}
	return nil
}

// fromEtcd converts the store file at path in place when it is an etcd 3
// backend, logging what it brought over.
func fromEtcd(path string, log *slog.Logger) error {
	is, err := store.IsEtcdBackend(path)
	if err != nil || !is {
		return err
	}
	conv := path + ".etcd"
	st, err := store.ImportEtcd(path, conv)
	if err != nil {
		return err
	}
	log.Info("converted an etcd backup", "revisions", st.Revisions, "leases", st.Leases,
		"revision", st.Rev, "compact_revision", st.CompactRev)
	if len(st.Skipped) > 0 {
		log.Warn("etcd state not brought over (cairn keeps its own members; etcd's auth is not migrated)", "buckets", st.Skipped)
	}
	return fsutil.Rename(conv, path)
}
