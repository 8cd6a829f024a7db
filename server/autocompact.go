package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cairnkv/cairn"
)

// Auto-compaction, as etcd 3.4's (--auto-compaction-mode,
// --auto-compaction-retention): a loop beside the lessor's proposes
// compactions through raft, as a client's compaction would go, while this
// member leads. Every member runs the loop (a periodic one keeps sampling
// the revision on followers too, as etcd's does, so a new leader can
// compact at once); only the leader proposes.
//
// Periodic, retention P: every P/10 (at most 6 minutes) the loop notes the
// store's revision, keeping the notes of the last P. Once P has passed
// since the loop started, and from then on every P (at most every hour),
// it compacts to the oldest note: the revision the store had P ago. A
// failed compaction is tried again at the next note.
//
// Revision, retention N: every RevisionInterval (etcd: 5 minutes, fixed)
// it compacts to the current revision minus N, unless that is not
// positive or is where it compacted last.
//
// A compaction that finds the revision already compacted counts as done,
// as in etcd. Each one is logged when it starts and when it ends; the
// ones applied are counted by cairn_server_auto_compactions_total.

// Auto-compaction modes (--auto-compaction-mode).
const (
	AutoCompactPeriodic = "periodic"
	AutoCompactRevision = "revision"
)

// DefaultAutoCompactionRevisionInterval is how often revision mode looks
// at the revision: etcd's fixed 5 minutes.
const DefaultAutoCompactionRevisionInterval = 5 * time.Minute

// AutoCompaction configures the compactions the leader proposes by itself.
// The zero value turns them off.
type AutoCompaction struct {
	// Mode is AutoCompactPeriodic, AutoCompactRevision, or "" for none.
	Mode string
	// Period is periodic mode's retention: the history of the last Period
	// is kept.
	Period time.Duration
	// Revisions is revision mode's retention: the last Revisions revisions
	// are kept.
	Revisions int64
	// RevisionInterval is how often revision mode compacts; 0 means
	// DefaultAutoCompactionRevisionInterval (tests shorten it).
	RevisionInterval time.Duration
}

// ParseAutoCompaction reads etcd's --auto-compaction-mode and
// --auto-compaction-retention. In periodic mode the retention is a
// duration ("30m") or a whole number of hours ("1"); in revision mode a
// number of revisions. A retention of 0 turns auto-compaction off. Unlike
// etcd, which takes a duration in revision mode as that many nanoseconds'
// worth of revisions ("1h": 3,600,000,000,000 revisions), it refuses one.
func ParseAutoCompaction(mode, retention string) (AutoCompaction, error) {
	if mode != AutoCompactPeriodic && mode != AutoCompactRevision {
		return AutoCompaction{}, fmt.Errorf("--auto-compaction-mode must be periodic or revision, not %q", mode)
	}
	var ac AutoCompaction
	n, err := strconv.ParseInt(retention, 10, 64)
	switch {
	case err == nil && n >= 0 && mode == AutoCompactRevision:
		ac.Revisions = n
	case err == nil && n >= 0:
		if n > math.MaxInt64/int64(time.Hour) {
			return AutoCompaction{}, fmt.Errorf("--auto-compaction-retention: %s hours is too long", retention)
		}
		ac.Period = time.Duration(n) * time.Hour
	case mode == AutoCompactRevision:
		return AutoCompaction{}, fmt.Errorf("--auto-compaction-retention: revision mode keeps a number of revisions (0 or more), not %q", retention)
	default:
		d, err := time.ParseDuration(retention)
		if err != nil || d < 0 {
			return AutoCompaction{}, fmt.Errorf("--auto-compaction-retention: %q is neither a number of hours nor a duration such as 30m", retention)
		}
		ac.Period = d
	}
	if ac.Period > 0 || ac.Revisions > 0 {
		ac.Mode = mode
	}
	return ac, nil
}

// autoCompact runs the auto-compaction loop of s.cfg.AutoCompaction until
// the member stops; it returns at once when auto-compaction is off.
func (s *Server) autoCompact() {
	ac := s.cfg.AutoCompaction
	switch {
	case ac.Mode == AutoCompactPeriodic && ac.Period > 0:
		s.log.Info("auto compaction on", "mode", ac.Mode, "retention", ac.Period)
		s.autoCompactPeriodic(ac.Period)
	case ac.Mode == AutoCompactRevision && ac.Revisions > 0:
		every := ac.RevisionInterval
		if every <= 0 {
			every = DefaultAutoCompactionRevisionInterval
		}
		s.log.Info("auto compaction on", "mode", ac.Mode, "retention_revisions", ac.Revisions, "interval", every)
		s.autoCompactRevision(ac.Revisions, every)
	}
}

func (s *Server) autoCompactPeriodic(period time.Duration) {
	interval := min(period, time.Hour) // between compactions, after the first
	step := interval / 10              // between notes, and between tries
	keep := int(period/step) + 1       // notes spanning period
	revs := make([]int64, 0, keep+1)
	lastDone := time.Now()
	wait := period // the first compaction waits a whole period
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		revs = append(revs, s.storeNow().Rev())
		if len(revs) > keep {
			revs = append(revs[:0], revs[1:]...) // revs[0]: the revision period ago
		}
		select {
		case <-tick.C:
		case <-s.stopc:
			return
		}
		if !s.leading() || time.Since(lastDone) < wait {
			continue
		}
		wait = interval
		if s.proposeAutoCompaction(revs[0], "periodic", "retention", period) {
			lastDone = time.Now()
		}
	}
}

func (s *Server) autoCompactRevision(retain int64, every time.Duration) {
	var prev int64
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-s.stopc:
			return
		}
		if !s.leading() {
			continue
		}
		rev := s.storeNow().Rev() - retain
		if rev <= 0 || rev == prev {
			continue
		}
		if s.proposeAutoCompaction(rev, "revision", "retention_revisions", retain) {
			prev = rev
		}
	}
}

// leading reports whether this member is the leader.
func (s *Server) leading() bool { return s.lead.Load() == s.memberID }

// proposeAutoCompaction compacts to rev through raft and reports whether
// it is done (applied, or rev was already compacted), logging either way
// with the mode's retention as attribute key=value.
func (s *Server) proposeAutoCompaction(rev int64, mode, key string, value any) bool {
	start := time.Now()
	log := s.log.With("mode", mode, "revision", rev, key, value)
	log.Info("auto compaction starting")
	_, err := s.Compact(context.Background(), &cairn.CompactionRequest{Revision: rev})
	switch {
	case err == nil:
		s.metrics.autoCompactions.Inc()
		log.Info("auto compaction done", "took", time.Since(start))
		return true
	case errors.Is(err, cairn.ErrCompacted):
		log.Info("auto compaction done: already compacted", "took", time.Since(start))
		return true
	case errors.Is(err, cairn.ErrStopped):
		return false
	}
	log.Warn("auto compaction failed; trying again later", "err", err)
	return false
}
