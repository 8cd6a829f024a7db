package server

import (
	"errors"
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
	"github.com/cairnkv/cairn/peer"
	"github.com/cairnkv/cairn/raftlog"
	"github.com/cairnkv/cairn/snapshot"
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
	watch *store.WatchHub // the store's watch hub (watch.go)
	node  *raftNode
	snaps *snapshot.Dir
	// store is replaced when a received snapshot is installed: the applier
	// swaps it holding storeMu; every other user holds storeMu shared.
	storeMu sync.RWMutex
	store   *store.Store

	cluster *cluster
	tr      *peer.Transport
	// isLearner is true while this member is a learner.
	isLearner atomic.Bool
	// raising is set while this member proposes its NOSPACE alarm.
	raising atomic.Bool
	// beforeInstall, if set, runs before a received snapshot is installed
	// (tests: an error stops the member there, as a crash would).
	beforeInstall atomic.Pointer[func() error]

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
	applierc   chan func() // work for the applier goroutine between batches
	snapc      chan snapshotJob
	readStatec chan raft.ReadState
	readWake   chan struct{}
	readMu     sync.Mutex
	nextRead   *readRound

	// The lessor and the lease forwarder (lease*.go).
	leaseState
	// v2 is the state of the v2 stats (v2_stats.go).
	v2 v2State

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

// walMetadata is the WAL's first record: who this member is.
type walMetadata struct {
	MemberID  uint64 `json:"member_id"`
	ClusterID uint64 `json:"cluster_id"`
	Name      string `json:"name"`
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
		waits:      newWaitRegistry(),
		applyc:     make(chan *applyJob, 64),
		applierc:   make(chan func()),
		snapc:      make(chan snapshotJob, 1),
		readStatec: make(chan raft.ReadState, 64),
		readWake:   make(chan struct{}, 1),
		nextRead:   newReadRound(),
		stopc:      make(chan struct{}),
		publishedc: make(chan struct{}),
		v2:         v2State{startTime: time.Now()},
		cluster:    newCluster(cfg.DataDir),
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := s.cluster.load(); err != nil {
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
	s.ids = newIDGenerator(s.memberID, time.Now())
	if s.cluster.isRemoved(s.memberID) {
		s.wal.Close()
		return nil, errMemberRemoved
	}
	if err := s.recoverStore(); err != nil {
		s.wal.Close()
		return nil, err
	}
	st := s.store
	s.lessor = newLessor(cfg.LeaseClock, cfg.ElectionTimeout, st.Leases())
	// A data dir from before the cluster state was kept knows only itself.
	s.cluster.ensure(&member{ID: s.memberID, Name: cfg.Name, PeerURLs: s.selfPeerURLs()})

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
	s.appliedIndex.Store(applied)
	s.applied.advance(applied)
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
		Logger:                    raftLogger{s.log},
	}
	if rc.ElectionTick < 5 {
		s.closeStorage()
		return nil, fmt.Errorf("--election-timeout must be at least 5 heartbeat intervals")
	}
	if !fresh {
		peers = nil // a restarted member's configuration is in its log
	}
	if s.node, err = newRaftNode(rc, peers); err != nil {
		s.closeStorage()
		return nil, fmt.Errorf("starting raft: %w", err)
	}
	s.tr = s.newTransport()
	s.node.forward = func(m raftpb.Message) { s.tr.Send([]raftpb.Message{m}) }
	s.node.stopped = s.stopc
	for _, m := range s.cluster.list() {
		s.tr.SetPeer(m.ID, m.PeerURLs)
	}
	s.log.Info("member started", "name", cfg.Name, "cluster_id", fmt.Sprintf("%x", s.clusterID),
		"data_dir", cfg.DataDir, "applied_index", applied, "revision", st.Rev(), "new", fresh,
		"members", len(s.cluster.list()))

	s.persistedIndex, _ = s.wal.LastIndex()
	// Nobody else can win an election: campaign as soon as the bootstrap
	// configuration is applied instead of waiting out an election timeout.
	s.campaignSoon = s.soleVoter(fresh, peers)
	s.loops.Add(5)
	go s.run()
	go s.applyLoop()
	go s.readLoop()
	go s.publish()
	go s.leaseLoop()
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
		case <-s.node.wake:
			// One Ready per turn, so that ticks and snapshot jobs are served
			// under load too; advance wakes the loop again if raft has more.
			rd, ok := s.node.ready()
			if !ok {
				continue
			}
			if !s.handleReady(rd) {
				return
			}
			s.node.advance(rd)
			if s.campaignSoon && s.appliedIndex.Load() >= s.committed.Load() {
				s.campaignSoon = false
				if err := s.node.Campaign(); err != nil {
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
			s.node.leaderChanged()
			s.log.Info("leader changed", "leader", fmt.Sprintf("%x", rd.SoftState.Lead), "state", rd.SoftState.RaftState.String())
		}
		s.isLeader = rd.SoftState.RaftState == raft.StateLeader
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		s.term.Store(rd.HardState.Term)
		s.committed.Store(rd.HardState.Commit)
	}
	if rd.SoftState != nil {
		s.leaseLeadership(s.isLeader)
	}
	// Messages that vouch for nothing on this member's disk are sent before
	// it persists: a leader's appends and heartbeats for entries it is
	// writing now (it counts itself in a quorum only once its own write is
	// done; raft's README allows this, etcd does it), a follower's
	// heartbeat answers, forwarded proposals and read requests, a
	// candidate's vote requests (its own vote counts only once persisted,
	// at advance). The answers that do vouch for the disk, an append
	// acknowledged or a vote given, wait for the fsync (see afterPersist).
	early, late := splitMessages(rd.Messages)
	s.tr.Send(early)
	// 1. Persist: a received snapshot's metadata (its store file is already
	// in the snapshot directory), then HardState and entries, one fsync,
	// before an answer that vouches for them is sent or anything is
	// acknowledged.
	var snap *raftpb.Snapshot
	if !raft.IsEmptySnap(rd.Snapshot) {
		snap = &rd.Snapshot
		if !s.snaps.Has(snap.Metadata.Index) {
			s.fatal(fmt.Errorf("raft delivered a snapshot at index %d without its store file in %s", snap.Metadata.Index, s.snaps.Path()))
			return false
		}
		if err := s.wal.SaveSnapshot(*snap); err != nil {
			s.fatal(fmt.Errorf("saving a received snapshot to the raft log: %w", err))
			return false
		}
		s.persistedIndex = snap.Metadata.Index
	}
	// Committed entries that an earlier Ready already persisted are applied
	// while this Ready's entries are being fsynced (etcd does the same):
	// they are durable, and the apply pipeline loses a whole fsync of
	// latency. Entries that this very Ready persists (a follower catching
	// up) are applied only after the fsync below, as is a received snapshot.
	applied := false
	if n := len(rd.CommittedEntries); snap == nil && n > 0 && rd.CommittedEntries[n-1].Index <= s.persistedIndex {
		if !s.dispatchApply(nil, rd.CommittedEntries) {
			return false
		}
		applied = true
	}
	if err := s.wal.Save(rd.HardState, rd.Entries); err != nil {
		s.fatal(fmt.Errorf("saving to the raft log: %w", err))
		return false
	}
	if n := len(rd.Entries); n > 0 {
		s.persistedIndex = rd.Entries[n-1].Index
	}
	// 2. Send the answers that needed the fsync.
	s.tr.Send(late)
	// 3. Read states confirm linearizable read rounds.
	for _, rs := range rd.ReadStates {
		select {
		case s.readStatec <- rs:
		case <-s.stopc:
			return false
		}
	}
	// 4. Apply what was not dispatched above: a received snapshot first,
	// then the committed entries.
	if !applied && (snap != nil || len(rd.CommittedEntries) > 0) {
		if !s.dispatchApply(snap, rd.CommittedEntries) {
			return false
		}
	}
	return true // the caller advances
}

// afterPersist reports whether a message of type t may only be sent once
// the Ready it came in is persisted: an append acknowledged and a vote (or
// pre-vote) answered promise what is on this member's disk. These are the
// types raft itself holds back until the storage write when it drives the
// storage asynchronously (raft.go, send: msgsAfterAppend); a rejection is
// held back too, as raft does.
func afterPersist(t raftpb.MessageType) bool {
	return t == raftpb.MsgAppResp || t == raftpb.MsgVoteResp || t == raftpb.MsgPreVoteResp
}

// splitMessages splits a Ready's messages into those that may be sent
// before the Ready is persisted and those that must wait for it. raft puts
// the held-back answers after all the others in a Ready (rawnode.go,
// readyWithoutAccept), so the split is where the first of them is; should
// anything follow it, it waits too, which is always safe.
func splitMessages(msgs []raftpb.Message) (early, late []raftpb.Message) {
	for i := range msgs {
		if afterPersist(msgs[i].Type) {
			return msgs[:i], msgs[i:]
		}
	}
	return msgs, nil
}

// dispatchApply hands a received snapshot (or nil) and committed entries to
// the applier, in order. A configuration change must be applied before the
// next Ready, since raft needs the new configuration to go on, so then it
// waits for the apply; so it does for a snapshot. It returns false when the
// member is stopping.
func (s *Server) dispatchApply(snap *raftpb.Snapshot, ents []raftpb.Entry) bool {
	job := &applyJob{snapshot: snap, entries: ents, done: make(chan struct{})}
	select {
	case s.applyc <- job:
	case <-s.stopc:
		return false
	}
	if snap != nil || hasConfChange(ents) {
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
	if errors.Is(err, raft.ErrCompacted) || errors.Is(err, raft.ErrUnavailable) {
		// A received snapshot moved the log past this index, or the store
		// it brought is ahead of the log: nothing to record now.
		s.log.Debug("raft snapshot skipped", "index", job.index, "reason", err)
		return nil
	}
	if err != nil {
		return err
	}
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: job.index, Term: term, ConfState: job.confState}}
	if err := s.wal.SaveSnapshot(snap); errors.Is(err, raft.ErrSnapOutOfDate) {
		return nil
	} else if err != nil {
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

// errStoppedOr returns cairn.ErrStopped when the member is stopping, else err.
func (s *Server) errStoppedOr(err error) error {
	select {
	case <-s.stopc:
		return cairn.ErrStopped
	default:
		return err
	}
}
