package server

// The Ready loop: one goroutine owns raft's Ready cycle and handles each
// Ready in raft's order (persist, send, apply, advance), and records raft
// snapshots between Readies. Everything here runs on that goroutine.

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/raftnode"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/internal/failpoint"
)

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
		case <-s.node.Wake():
			if h := s.beforeReady.Load(); h != nil {
				(*h)()
			}
			// One Ready per turn, so that ticks and snapshot jobs are served
			// under load too; advance wakes the loop again if raft has more.
			rd, ok := s.node.Ready()
			if !ok {
				continue
			}
			if !s.handleReady(rd) {
				return
			}
			s.node.Advance(rd)
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
			s.node.LeaderChanged()
			if rd.SoftState.Lead != raft.None {
				s.metrics.LeaderChanges.Inc()
			}
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
	// acknowledged or a vote given, wait for the fsync (see raftnode.SplitMessages).
	early, late := raftnode.SplitMessages(rd.Messages)
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
	failpoint.Hit("server/beforeRaftSnapshot")
	if err := s.wal.SaveSnapshot(snap); errors.Is(err, raft.ErrSnapOutOfDate) {
		return nil
	} else if err != nil {
		return err
	}
	failpoint.Hit("server/afterRaftSnapshot")
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
