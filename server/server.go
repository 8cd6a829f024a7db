package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/compactor"
	"github.com/cairnkv/cairn/internal/raftslog"
	"github.com/cairnkv/cairn/internal/wait"
	"github.com/cairnkv/cairn/lessor"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/metrics"
	"github.com/cairnkv/cairn/peer"
	"github.com/cairnkv/cairn/raftlog"
	"github.com/cairnkv/cairn/raftnode"
	"github.com/cairnkv/cairn/snapshot"
	"github.com/cairnkv/cairn/store"
	"github.com/cairnkv/cairn/v2store"
)

// Server is one running cluster member. Its methods are safe for concurrent
// use. Create it with New and stop it with Close.
type Server struct {
	cfg       Config
	log       *slog.Logger
	memberID  uint64
	clusterID uint64

	wal   *raftlog.Log
	watch *store.WatchHub // the store's watch hub (watch.go)
	node  *raftnode.Node
	snaps *snapshot.Dir
	// store is replaced when a received snapshot is installed: the applier
	// swaps it holding storeMu; every other user holds storeMu shared.
	storeMu sync.RWMutex
	store   *store.Store

	cluster *membership.Cluster
	// auth is the users, roles and tokens; the applier
	// changes it, loaded again whenever the store is opened.
	auth *auth.State
	// Service is the contract's Auth and Authorizer over auth
	// (package auth; auth_api.go gives it the member).
	*auth.Service
	tr *peer.Transport
	// isLearner is true while this member is a learner.
	isLearner atomic.Bool
	// raising is set while this member proposes its NOSPACE alarm.
	raising atomic.Bool
	// beforeInstall, if set, runs before a received snapshot is installed
	// (tests: an error stops the member there, as a crash would).
	beforeInstall atomic.Pointer[func() error]
	// beforeReady, if set, runs on the Ready loop before each Ready is
	// taken (tests: blocking in it freezes the member's raft as a stalled
	// process would, ticks included).
	beforeReady atomic.Pointer[func()]

	metrics *metrics.Member
	ids     *wait.IDGenerator
	waits   *wait.Registry[applyResult]
	// inflight tracks the waiting proposals, to propose again those lost
	// with their leader (internal/wait, Inflight).
	inflight *wait.Inflight
	applied  wait.Index

	// Written by the Ready loop, read anywhere.
	lead      atomic.Uint64
	term      atomic.Uint64
	committed atomic.Uint64
	// appliedIndex is written by the applier, read anywhere.
	appliedIndex atomic.Uint64

	applyc     chan *applyJob
	applierc   chan func() // work for the applier goroutine between batches
	snapc      chan snapshotJob
	readStatec chan raft.ReadState
	readWake   chan struct{}
	readMu     sync.Mutex
	nextRead   *readRound

	// The lessor and the lease forwarder (lease*.go).
	leaseState
	// The v2 stats (v2_stats.go): the v2 store's counters, and the
	// member's start and leader times.
	v2Stats  v2store.Stats
	v2Member *v2store.MemberStats

	// Owned by the Ready loop: campaign once the bootstrap configuration is
	// applied; the index of the last entry saved to the raft log; whether
	// this member is the leader.
	campaignSoon   bool
	persistedIndex uint64
	isLeader       bool

	// confMu lets one configuration change at a time through this member.
	confMu     sync.Mutex
	removeOnce sync.Once
	stopOnce   sync.Once
	stopc      chan struct{}
	// publishedc is closed once the cluster state holds this member's
	// name and client URLs (publish.go).
	publishedc chan struct{}
	loops      sync.WaitGroup
	fatalErr   atomic.Pointer[error]
}

// New opens the member in cfg.DataDir and starts it: a new member of a new
// cluster (InitialClusterState "new"), a new member joining a running
// cluster ("existing"), or, when the directory already holds a member, that
// member again (the bootstrap settings are then ignored). The member is
// serving when New returns; serve PeerHandler on its peer URLs so the other
// members reach it. It answers writes once the cluster has a leader.
func New(cfg Config) (*Server, error) {
	cfg.fillDefaults()
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		waits:      wait.NewRegistry[applyResult](),
		inflight:   wait.NewInflight(),
		applyc:     make(chan *applyJob, 64),
		applierc:   make(chan func()),
		snapc:      make(chan snapshotJob, 1),
		readStatec: make(chan raft.ReadState, 64),
		readWake:   make(chan struct{}, 1),
		nextRead:   newReadRound(),
		stopc:      make(chan struct{}),
		publishedc: make(chan struct{}),
		v2Member:   v2store.NewMemberStats(time.Now()),
		cluster:    membership.New(cfg.DataDir),
		metrics:    metrics.New(),
		auth:       auth.New(cfg.Auth.Tokens),
	}
	s.Service = auth.NewService(s.auth, authMember{s}, cfg.Auth.BcryptCost, s.metrics.AuthFailures.Inc, s.log)
	if err := checkWALPlace(&cfg); err != nil {
		return nil, err // before anything is written in the data dir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := s.cluster.Load(); err != nil {
		return nil, err
	}
	var err error
	if s.snaps, err = snapshot.OpenDir(filepath.Join(cfg.DataDir, "snap")); err != nil {
		return nil, err
	}
	fresh, peers, err := s.openWAL()
	if err != nil {
		return nil, err
	}
	s.log = cfg.Logger.With("member_id", fmt.Sprintf("%x", s.memberID))
	s.ids = wait.NewIDGenerator(s.memberID, time.Now())
	if s.cluster.IsRemoved(s.memberID) {
		s.wal.Close()
		return nil, errMemberRemoved
	}
	if err := s.recoverStore(); err != nil {
		s.wal.Close()
		return nil, err
	}
	st := s.store
	s.lessor = lessor.New(cfg.LeaseClock, cfg.ElectionTimeout, st.Leases())
	// A data dir from before the cluster state was kept knows only itself.
	s.cluster.Ensure(&membership.Member{ID: s.memberID, Name: cfg.Name, PeerURLs: s.selfPeerURLs()})

	hs, cs, err := s.wal.InitialState()
	if err != nil {
		s.closeStorage()
		return nil, err
	}
	applied := st.ConsistentIndex()
	if applied > hs.Commit {
		// The store applies only committed entries, so everything up to its
		// applied index was committed; the HardState that said so was lost
		// with a torn WAL tail. Record the commit again, provided the log
		// still holds those entries.
		last, _ := s.wal.LastIndex()
		switch {
		case applied <= last:
			s.log.Warn("raft log commit index behind the store's applied index; restoring it", "commit", hs.Commit, "applied", applied)
			hs.Commit = applied
			if err := s.wal.Save(hs, nil); err != nil {
				s.closeStorage()
				return nil, err
			}
		case len(cs.Voters)+len(cs.Learners) > 1:
			// A snapshot received from the leader brought a store that is
			// ahead of this member's log: the leader sends the entries in
			// between again, and the applier skips those it holds.
			s.log.Info("store ahead of the raft log (a received snapshot); the leader sends the rest", "last_index", last, "applied", applied)
		default:
			s.closeStorage()
			return nil, fmt.Errorf("store applied index %d is ahead of the raft log's last index %d: the data dir is inconsistent", applied, last)
		}
	}
	forced := false
	switch {
	case cfg.ForceNewCluster && fresh:
		s.log.Warn("--force-new-cluster has no effect on a new member: it recovers a member from its existing data dir")
	case cfg.ForceNewCluster:
		if hs, forced, err = s.forceNewCluster(hs); err != nil {
			s.closeStorage()
			return nil, err
		}
	}
	s.appliedIndex.Store(applied)
	s.applied.Advance(applied)
	// Headers carry the term from the first answer on, before raft's first
	// Ready reports it.
	s.term.Store(hs.Term)
	s.committed.Store(hs.Commit)
	s.isLearner.Store(slices.Contains(cs.Learners, s.memberID))

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
		StepDownOnRemoval:         true,
		Logger:                    raftslog.Logger{L: s.log},
	}
	if rc.ElectionTick < 5 {
		s.closeStorage()
		return nil, fmt.Errorf("--election-timeout must be at least 5 heartbeat intervals")
	}
	if !fresh {
		peers = nil // a restarted member's configuration is in its log
	}
	if s.node, err = raftnode.New(rc, peers, s.stopc, func(m raftpb.Message) { s.tr.Send([]raftpb.Message{m}) }); err != nil {
		s.closeStorage()
		return nil, fmt.Errorf("starting raft: %w", err)
	}
	s.tr = s.newTransport()
	if cfg.Metrics != nil {
		if err := s.registerMetrics(cfg.Metrics); err != nil {
			s.closeStorage()
			return nil, err
		}
	}
	for _, m := range s.cluster.List() {
		s.tr.SetPeer(m.ID, m.PeerURLs)
	}
	s.log.Info("member started", "name", cfg.Name, "cluster_id", fmt.Sprintf("%x", s.clusterID),
		"data_dir", cfg.DataDir, "applied_index", applied, "revision", st.Rev(), "new", fresh,
		"members", len(s.cluster.List()))

	s.persistedIndex, _ = s.wal.LastIndex()
	// Nobody else can win an election: campaign as soon as the bootstrap
	// configuration (or the one --force-new-cluster wrote) is applied
	// instead of waiting out an election timeout.
	s.campaignSoon = forced || s.soleVoter(fresh, peers)
	s.loops.Add(6)
	go s.run()
	go s.applyLoop()
	go s.readLoop()
	go s.publish()
	go func() {
		defer s.loops.Done()
		s.lessor.RunExpiry(s.stopc, cfg.LeaseCheckInterval, cfg.LeaseRevokeRate, s.revokeExpired, s.log)
	}()
	go func() {
		defer s.loops.Done()
		compactor.Run(s.stopc, cfg.AutoCompaction, compactTarget{s}, s.log, s.metrics.AutoCompactions.Inc)
	}()
	return s, nil
}

// selfPeerURLs returns the peer URLs this member advertises: Config.PeerURLs,
// else its entry in InitialCluster.
func (s *Server) selfPeerURLs() []string {
	if len(s.cfg.PeerURLs) > 0 {
		return slices.Clone(s.cfg.PeerURLs)
	}
	for _, p := range s.cfg.InitialCluster {
		if p.Name == s.cfg.Name {
			return slices.Clone(p.URLs)
		}
	}
	return nil
}

// PeerHandler serves the peer transport (raft messages, snapshots, member
// lists); serve it on the member's peer URLs.
func (s *Server) PeerHandler() http.Handler { return s.tr.Handler() }

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

// MemberID is this member's id.
func (s *Server) MemberID() uint64 { return s.memberID }

// ClusterID is the id of this member's cluster.
func (s *Server) ClusterID() uint64 { return s.clusterID }

// Close stops the member: new and waiting requests fail with
// cairn.ErrStopped, the loops finish what they hold, and the raft log and the
// store are closed. Everything acknowledged is already durable. Close is
// idempotent.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		close(s.stopc)
		s.CloseLeaseStreams()
		s.loops.Wait()
		s.tr.Stop()
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
	s.storeMu.Lock()
	defer s.storeMu.Unlock()
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

// errStoppedOr returns cairn.ErrStopped when the member is stopping, else err.
func (s *Server) errStoppedOr(err error) error {
	select {
	case <-s.stopc:
		return cairn.ErrStopped
	default:
		return err
	}
}
