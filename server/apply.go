package server

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/internal/failpoint"
	"github.com/cairnkv/cairn/internal/logattr"
	"github.com/cairnkv/cairn/store"
)

// applyJob carries the committed entries of one Ready to the applier; done is
// closed once they are applied.
type applyJob struct {
	snapshot *raftpb.Snapshot // a received snapshot to install first, or nil
	entries  []raftpb.Entry
	done     chan struct{}
}

// maxJobsPerBatch caps how many Readies' worth of entries share one store
// batch, so one batch stays bounded.
const maxJobsPerBatch = 64

// applyState is owned by the applier goroutine.
type applyState struct {
	confState raftpb.ConfState
	snapIndex uint64
	// removed is set once this member's own removal is applied.
	removed bool
}

// applyLoop applies committed entries in log order. When several jobs are
// queued it applies them together in one store batch.
func (s *Server) applyLoop() {
	defer s.loops.Done()
	var st applyState
	if snap, err := s.wal.Snapshot(); err == nil {
		st.snapIndex = snap.Metadata.Index
		st.confState = snap.Metadata.ConfState
	}
	if _, cs, err := s.wal.InitialState(); err == nil {
		st.confState = cs
	}
	for {
		var jobs []*applyJob
		select {
		case j := <-s.applyc:
			jobs = append(jobs, j)
		case fn := <-s.applierc:
			fn() // maintenance that needs the store to itself (defragment)
			continue
		case <-s.stopc:
			return
		}
	drain:
		for len(jobs) < maxJobsPerBatch {
			select {
			case j := <-s.applyc:
				jobs = append(jobs, j)
			default:
				break drain
			}
		}
		start := time.Now()
		if err := s.apply(&st, jobs); err != nil {
			s.fatal(err)
			return
		}
		// Two clock reads per batch, none per entry: cheap enough to keep.
		if took := time.Since(start); took > s.cfg.WarningApplyDuration {
			s.warnSlowApply(jobs, took)
		}
		for _, j := range jobs {
			close(j.done)
		}
		if st.removed {
			s.stopRemoved()
		}
		s.maybeSnapshot(&st)
	}
}

// warnSlowApply says that applying jobs took longer than
// --experimental-warning-apply-duration, and what they were: the entries'
// index range and how many requests of each kind (a slow batch is usually
// one big transaction, a compaction or a snapshot install). It decodes the
// entries again, which only a slow batch pays for.
func (s *Server) warnSlowApply(jobs []*applyJob, took time.Duration) {
	kinds := map[string]int{}
	var first, last uint64
	var n int
	snapshot := false
	for _, j := range jobs {
		snapshot = snapshot || j.snapshot != nil
		for i := range j.entries {
			e := &j.entries[i]
			if first == 0 {
				first = e.Index
			}
			last = e.Index
			n++
			switch {
			case e.Type != raftpb.EntryNormal:
				kinds["conf_change"]++
			case len(e.Data) == 0:
				kinds["leader_empty_entry"]++
			default:
				if req, err := entry.Unmarshal(e.Data); err == nil {
					kinds[req.Kind()]++
				}
			}
		}
	}
	var what []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		what = append(what, fmt.Sprintf("%s=%d", k, kinds[k]))
	}
	s.log.Warn("apply took too long", logattr.MS("took_ms", took),
		logattr.MS("expected_ms", s.cfg.WarningApplyDuration), "entries", n,
		"first_index", first, "last_index", last, "requests", strings.Join(what, " "),
		"snapshot_installed", snapshot)
}

type pendingResult struct {
	id  uint64
	res applyResult
}

func (s *Server) apply(st *applyState, jobs []*applyJob) error {
	applied := s.appliedIndex.Load()
	last := applied
	var b *store.Batch
	var results []pendingResult
	// promoteTerm is the term of a new leader's empty entry in the batch;
	// lastTerm the term of the last entry applied.
	var promoteTerm, lastTerm uint64
	// commit ends the batch in hand, tells the lessor what it granted and
	// revoked, and wakes its waiters.
	commit := func() error {
		if last == applied {
			return nil
		}
		if b == nil {
			b = s.store.Begin()
		}
		if err := b.Commit(last); err != nil {
			return fmt.Errorf("store commit at applied index %d: %w", last, err)
		}
		b = nil
		applied = last
		s.appliedIndex.Store(last)
		s.applied.Advance(last)
		for i := range results {
			s.leaseApplied(&results[i].res)
		}
		if promoteTerm != 0 {
			s.lessor.Promote(promoteTerm)
			promoteTerm = 0
		}
		for _, r := range results {
			s.inflight.Remove(r.id) // applied: never proposed again
			s.waits.Trigger(r.id, r.res)
		}
		results = results[:0]
		// After the waiters: what is still waiting from an earlier term
		// is lost (internal/wait, Inflight).
		s.inflight.Applied(lastTerm)
		return nil
	}
	for _, j := range jobs {
		if j.snapshot != nil {
			if err := commit(); err != nil {
				return err
			}
			if err := s.installSnapshot(st, *j.snapshot); err != nil {
				return err
			}
			s.inflight.SnapshotInstalled()
			s.reloadLeases()
			applied = s.appliedIndex.Load()
			last = applied
		}
		for i := range j.entries {
			e := &j.entries[i]
			if e.Index <= applied && e.Type == raftpb.EntryNormal {
				continue // applied before a restart: the store has it
			}
			failpoint.Hit("server/beforeApplyEntry")
			switch e.Type {
			case raftpb.EntryNormal:
				if len(e.Data) == 0 {
					// A new leader's empty entry: once it is applied, the
					// leader knows every lease of earlier terms.
					promoteTerm = e.Term
					break
				}
				req, err := entry.Unmarshal(e.Data)
				if err != nil {
					return fmt.Errorf("raft entry %d: undecodable request: %w", e.Index, err)
				}
				if req.IsCluster() {
					r, err := s.applyClusterRequest(e.Index, req)
					if err != nil {
						return err
					}
					results = append(results, pendingResult{req.ID, r})
					break
				}
				if b == nil {
					b = s.store.Begin()
				}
				if req.Auth != nil {
					var r applyResult
					r.auth, r.err = s.auth.Apply(b, e.Index, req.Auth)
					results = append(results, pendingResult{req.ID, r})
					break
				}
				results = append(results, pendingResult{req.ID, applyRequest(b, req)})
			case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
				r, err := s.applyConfChange(st, e)
				if err != nil {
					return err
				}
				if r.id != 0 {
					results = append(results, r)
				}
			}
			failpoint.Hit("server/afterApplyEntry")
			last = max(last, e.Index)
			lastTerm = max(lastTerm, e.Term)
		}
	}
	return commit()
}

// applyRequest runs one client request against the batch. Errors are the
// request's result (the store changed nothing for it), not the applier's.
func applyRequest(b *store.Batch, req *entry.Request) applyResult {
	var r applyResult
	switch {
	case req.Put != nil:
		r.put, r.err = b.Put(req.Put)
	case req.DeleteRange != nil:
		r.deleteRange, r.err = b.DeleteRange(req.DeleteRange)
	case req.Txn != nil:
		r.txn, r.err = b.Txn(req.Txn)
	case req.Compaction != nil:
		r.compaction, r.compacted, r.err = b.Compact(req.Compaction)
	case req.LeaseGrant != nil:
		r.leaseGrant, r.err = applyLeaseGrant(b, req.LeaseGrant)
	case req.LeaseRevoke != nil:
		l, _ := b.Lease(req.LeaseRevoke.ID)
		r.leaseRevoke, r.err = b.LeaseRevoke(req.LeaseRevoke)
		if r.err == nil {
			r.revokedLeases = []int64{req.LeaseRevoke.ID}
			if l.V2TTL {
				r.revokedV2TTLs = 1
			}
		}
	case req.LeaseExpire != nil:
		r.err = applyLeaseExpire(b, req.LeaseExpire, &r)
	case req.V2 != nil:
		applyV2(b, req.V2, &r)
	default:
		r.err = fmt.Errorf("empty request %d", req.ID)
	}
	return r
}

// maybeSnapshot asks the Ready loop for a raft snapshot once SnapshotCount
// entries were applied since the last one. The snapshot must not be ahead of
// what the store has in bbolt: after a crash the store reopens at its
// DurableIndex and raft re-delivers only the entries after the snapshot. So
// it flushes the store first (one bbolt commit per SnapshotCount entries),
// which brings DurableIndex to the applied index and its ConfState.
func (s *Server) maybeSnapshot(st *applyState) {
	applied := s.appliedIndex.Load()
	if applied-st.snapIndex < s.cfg.SnapshotCount {
		return
	}
	if err := s.store.Flush(); err != nil {
		s.fatal(fmt.Errorf("store flush before a raft snapshot at %d: %w", applied, err))
		return
	}
	index := s.store.DurableIndex() // = applied: this goroutine is the only committer
	select {
	case s.snapc <- snapshotJob{index: index, confState: st.confState}:
		st.snapIndex = index
	default: // the loop has one pending; ask again after the next batch
	}
}
