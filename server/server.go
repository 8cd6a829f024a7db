package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/raftlog"
	"github.com/cairnkv/cairn/store"
)

// Server is one running cluster member. Its methods are safe for concurrent
// use. Create it with New and stop it with Close.
type Server struct {
	cfg       Config
	log       *slog.Logger
	memberID  uint64
	clusterID uint64

	wal   *raftlog.Log
	store *store.Store
	watch *store.WatchHub // the store's watch hub (watch.go)
	node  raft.Node

	ids     *idGenerator
	waits   *waitRegistry
	applied indexWaiter

	// Written by the Ready loop, read anywhere.
	lead      atomic.Uint64
	term      atomic.Uint64
	committed atomic.Uint64
	// appliedIndex is written by the applier, read anywhere.
	appliedIndex atomic.Uint64

	applyc     chan *applyJob
	snapc      chan snapshotJob
	readStatec chan raft.ReadState
	readWake   chan struct{}
	readMu     sync.Mutex
	nextRead   *readRound

	// Owned by the Ready loop: campaign once the bootstrap configuration is
	// applied; the index of the last entry saved to the raft log.
	campaignSoon   bool
	persistedIndex uint64

	stopOnce sync.Once
	stopc    chan struct{}
	loops    sync.WaitGroup
	fatalErr atomic.Pointer[error]
}

// walMetadata is the WAL's first record: who this member is.
type walMetadata struct {
	MemberID  uint64 `json:"member_id"`
	ClusterID uint64 `json:"cluster_id"`
	Name      string `json:"name"`
}

// New opens the member in cfg.DataDir (creating a new single-member cluster
// there if the directory holds none) and starts it. The member is serving
// when New returns; it answers writes once it has elected itself leader.
func New(cfg Config) (*Server, error) {
	cfg.fillDefaults()
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		waits:      newWaitRegistry(),
		applyc:     make(chan *applyJob, 64),
		snapc:      make(chan snapshotJob, 1),
		readStatec: make(chan raft.ReadState, 64),
		readWake:   make(chan struct{}, 1),
		nextRead:   newReadRound(),
		stopc:      make(chan struct{}),
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	walDir := filepath.Join(cfg.DataDir, "wal")
	fresh := !raftlog.Exist(walDir)

	var peers []raft.Peer
	if fresh {
		if cfg.InitialClusterState != "new" {
			return nil, fmt.Errorf("not implemented: joining an existing cluster (--initial-cluster-state=%s)", cfg.InitialClusterState)
		}
		md, ps, err := bootstrapIdentity(cfg)
		if err != nil {
			return nil, err
		}
		peers = ps
		mdBytes, _ := json.Marshal(md)
		s.wal, err = raftlog.Create(walDir, mdBytes, raftlog.Options{Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		s.memberID, s.clusterID = md.MemberID, md.ClusterID
	} else {
		var err error
		s.wal, err = raftlog.Open(walDir, raftlog.Options{Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		var md walMetadata
		if err := json.Unmarshal(s.wal.Metadata(), &md); err != nil {
			s.wal.Close()
			return nil, fmt.Errorf("wal metadata: %w", err)
		}
		s.memberID, s.clusterID = md.MemberID, md.ClusterID
	}
	s.log = cfg.Logger.With("member_id", fmt.Sprintf("%x", s.memberID))
	s.ids = newIDGenerator(s.memberID, time.Now())

	st, err := s.openStore(filepath.Join(cfg.DataDir, "store.db"))
	if err != nil {
		s.wal.Close()
		return nil, err
	}
	s.store = st

	hs, _, err := s.wal.InitialState()
	if err != nil {
		s.closeStorage()
		return nil, err
	}
	applied := st.ConsistentIndex()
	if applied > hs.Commit {
		// The store applies only committed entries, so everything up to its
		// applied index was committed; the HardState that said so was lost
		// with a torn WAL tail. Record the commit again, provided the log
		// still holds those entries. A store ahead of its log's entries means
		// the two do not belong together.
		last, _ := s.wal.LastIndex()
		if applied > last {
			s.closeStorage()
			return nil, fmt.Errorf("store applied index %d is ahead of the raft log's last index %d: the data dir is inconsistent", applied, last)
		}
		s.log.Warn("raft log commit index behind the store's applied index; restoring it", "commit", hs.Commit, "applied", applied)
		hs.Commit = applied
		if err := s.wal.Save(hs, nil); err != nil {
			s.closeStorage()
			return nil, err
		}
	}
	s.appliedIndex.Store(applied)
	s.applied.advance(applied)

	var snapIndex uint64
	if snap, err := s.wal.Snapshot(); err == nil {
		snapIndex = snap.Metadata.Index
	}
	rc := &raft.Config{
		ID:            s.memberID,
		ElectionTick:  int(cfg.ElectionTimeout / cfg.HeartbeatInterval),
		HeartbeatTick: 1,
		Storage:       s.wal,
		// raft re-delivers every entry after the snapshot: the applier skips
		// the normal ones the store already has, but must hand the
		// configuration changes to raft again, since raft rebuilds its
		// configuration from the snapshot and the entries after it.
		Applied:                   snapIndex,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  16 << 20,
		MaxUncommittedEntriesSize: 1 << 30,
		MaxInflightMsgs:           512,
		CheckQuorum:               true,
		PreVote:                   true,
		Logger:                    raftLogger{s.log},
	}
	if rc.ElectionTick < 5 {
		s.closeStorage()
		return nil, fmt.Errorf("--election-timeout must be at least 5 heartbeat intervals")
	}
	if fresh {
		s.node = raft.StartNode(rc, peers)
	} else {
		s.node = raft.RestartNode(rc)
	}
	s.log.Info("member started", "name", cfg.Name, "cluster_id", fmt.Sprintf("%x", s.clusterID),
		"data_dir", cfg.DataDir, "applied_index", applied, "revision", st.Rev(), "new", fresh)

	s.persistedIndex, _ = s.wal.LastIndex()
	// Nobody else can win an election: campaign as soon as the bootstrap
	// configuration is applied instead of waiting out an election timeout.
	s.campaignSoon = s.soleVoter(fresh, peers)
	s.loops.Add(3)
	go s.run()
	go s.applyLoop()
	go s.readLoop()
	return s, nil
}

// soleVoter reports whether this member is the only voter of its cluster.
func (s *Server) soleVoter(fresh bool, peers []raft.Peer) bool {
	if fresh {
		return len(peers) == 1
	}
	_, cs, err := s.wal.InitialState()
	if err != nil {
		return false
	}
	return len(cs.Voters) == 1 && cs.Voters[0] == s.memberID && len(cs.Learners) == 0
}

func bootstrapIdentity(cfg Config) (walMetadata, []raft.Peer, error) {
	var ids []uint64
	var self uint64
	var peers []raft.Peer
	for _, p := range cfg.InitialCluster {
		id := memberID(p.URLs, cfg.InitialClusterToken)
		ids = append(ids, id)
		ctx, _ := json.Marshal(p)
		peers = append(peers, raft.Peer{ID: id, Context: ctx})
		if p.Name == cfg.Name {
			self = id
		}
	}
	if self == 0 {
		return walMetadata{}, nil, fmt.Errorf("--initial-cluster has no member named %q (--name)", cfg.Name)
	}
	if len(peers) > 1 {
		return walMetadata{}, nil, errors.New("not implemented: clusters of more than one member (peer transport)")
	}
	return walMetadata{MemberID: self, ClusterID: clusterID(ids), Name: cfg.Name}, peers, nil
}

// MemberID is this member's id.
func (s *Server) MemberID() uint64 { return s.memberID }

// ClusterID is the id of this member's cluster.
func (s *Server) ClusterID() uint64 { return s.clusterID }

// Close stops the member: new and waiting requests fail with
// store.ErrStopped, the loops finish what they hold, and the raft log and the
// store are closed. Everything acknowledged is already durable. Close is
// idempotent.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		close(s.stopc)
		s.node.Stop()
		s.loops.Wait()
		s.closeStorage()
		s.log.Info("member stopped")
	})
	if p := s.fatalErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Server) closeStorage() {
	s.CloseWatches()
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("closing store", "err", err)
		}
	}
	if s.wal != nil {
		if err := s.wal.Close(); err != nil {
			s.log.Error("closing raft log", "err", err)
		}
	}
}

// fatal records an error the member cannot go on from (a failed fsync, a
// failed store commit) and stops it. Nothing unacknowledged is lost: the
// raft log is replayed on the next start.
func (s *Server) fatal(err error) {
	s.fatalErr.CompareAndSwap(nil, &err)
	s.log.Error("member failed; stopping", "err", err)
	go s.Close()
}

// Done is closed when the member has stopped, by Close or by a fatal error.
func (s *Server) Done() <-chan struct{} { return s.stopc }

// Err is the fatal error that stopped the member, or nil.
func (s *Server) Err() error {
	if p := s.fatalErr.Load(); p != nil {
		return *p
	}
	return nil
}

// run is the Ready loop, the only goroutine that touches the raft log. It
// handles each Ready in raft's order: persist, send, apply, advance.
func (s *Server) run() {
	defer s.loops.Done()
	ticker := time.NewTicker(s.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.node.Tick()
		case rd := <-s.node.Ready():
			if !s.handleReady(rd) {
				return
			}
			if s.campaignSoon && s.appliedIndex.Load() >= s.committed.Load() {
				s.campaignSoon = false
				if err := s.node.Campaign(context.Background()); err != nil {
					s.log.Warn("campaign", "err", err)
				}
			}
		case job := <-s.snapc:
			if err := s.saveSnapshot(job); err != nil {
				s.fatal(fmt.Errorf("raft snapshot at %d: %w", job.index, err))
				return
			}
		case <-s.stopc:
			return
		}
	}
}

func (s *Server) handleReady(rd raft.Ready) bool {
	if rd.SoftState != nil {
		if old := s.lead.Swap(rd.SoftState.Lead); old != rd.SoftState.Lead {
			s.log.Info("leader changed", "leader", fmt.Sprintf("%x", rd.SoftState.Lead), "state", rd.SoftState.RaftState.String())
		}
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		s.term.Store(rd.HardState.Term)
		s.committed.Store(rd.HardState.Commit)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		// Only a leader's MsgSnap brings one; with one member there is none.
		s.fatal(errors.New("not implemented: receiving a raft snapshot"))
		return false
	}
	// Committed entries that an earlier Ready already persisted are applied
	// while this Ready's entries are being fsynced (etcd does the same):
	// they are durable, and the apply pipeline loses a whole fsync of
	// latency. Entries that this very Ready persists (a follower catching
	// up) are applied only after the fsync below.
	applied := false
	if n := len(rd.CommittedEntries); n > 0 && rd.CommittedEntries[n-1].Index <= s.persistedIndex {
		if !s.dispatchApply(rd.CommittedEntries) {
			return false
		}
		applied = true
	}
	// 1. Persist: HardState and entries, one fsync, before anything is sent
	// or acknowledged.
	if err := s.wal.Save(rd.HardState, rd.Entries); err != nil {
		s.fatal(fmt.Errorf("saving to the raft log: %w", err))
		return false
	}
	if n := len(rd.Entries); n > 0 {
		s.persistedIndex = rd.Entries[n-1].Index
	}
	// 2. Send: a single member has no peers; the peer transport will go here.
	// 3. Read states confirm linearizable read rounds.
	for _, rs := range rd.ReadStates {
		select {
		case s.readStatec <- rs:
		case <-s.stopc:
			return false
		}
	}
	// 4. Apply what was not dispatched above.
	if !applied && len(rd.CommittedEntries) > 0 {
		if !s.dispatchApply(rd.CommittedEntries) {
			return false
		}
	}
	// 5. Advance.
	s.node.Advance()
	return true
}

// dispatchApply hands committed entries to the applier, in order. A
// configuration change must be applied before the next Ready, since raft
// needs the new configuration to go on, so then it waits for the apply.
// It returns false when the member is stopping.
func (s *Server) dispatchApply(ents []raftpb.Entry) bool {
	job := &applyJob{entries: ents, done: make(chan struct{})}
	select {
	case s.applyc <- job:
	case <-s.stopc:
		return false
	}
	if hasConfChange(ents) {
		select {
		case <-job.done:
		case <-s.stopc:
			return false
		}
	}
	return true
}

func hasConfChange(ents []raftpb.Entry) bool {
	for i := range ents {
		if ents[i].Type == raftpb.EntryConfChange || ents[i].Type == raftpb.EntryConfChangeV2 {
			return true
		}
	}
	return false
}

// snapshotJob asks the Ready loop to record a raft snapshot at index.
type snapshotJob struct {
	index     uint64
	confState raftpb.ConfState
}

func (s *Server) saveSnapshot(job snapshotJob) error {
	term, err := s.wal.Term(job.index)
	if err != nil {
		return err
	}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: job.index, Term: term, ConfState: job.confState}}
	if err := s.wal.SaveSnapshot(snap); err != nil {
		return err
	}
	compactTo := uint64(1)
	if keep := s.cfg.SnapshotCatchUpEntries; job.index > keep {
		compactTo = job.index - keep
	}
	if err := s.wal.Compact(compactTo); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return err
	}
	s.log.Info("raft snapshot saved", "index", job.index, "term", term, "log_compacted_to", compactTo)
	return nil
}

// errStoppedOr returns store.ErrStopped when the member is stopping, else err.
func (s *Server) errStoppedOr(err error) error {
	select {
	case <-s.stopc:
		return store.ErrStopped
	default:
		return err
	}
}
