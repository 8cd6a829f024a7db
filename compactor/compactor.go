package compactor

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cairnkv/cairn"
)

// Target is what the loop compacts: the member.
type Target interface {
	// Rev is the store's current revision.
	Rev() int64
	// IsLeader reports whether this member leads now.
	IsLeader() bool
	// Compact compacts the history up to rev through raft and returns once
	// it is applied. Errors: cairn.ErrCompacted (counted as done),
	// cairn.ErrStopped (the loop ends at its next tick), any other (tried
	// again later).
	Compact(ctx context.Context, rev int64) error
}

// Run runs the loop of c against t until stop is closed; it returns at once
// when c is off. done is called after each compaction this loop saw
// applied (not for one already compacted); it may be nil.
func Run(stop <-chan struct{}, c Config, t Target, log *slog.Logger, done func()) {
	l := loop{stop: stop, t: t, log: log, done: done}
	switch {
	case c.Mode == ModePeriodic && c.Period > 0:
		log.Info("auto compaction on", "mode", c.Mode, "retention", c.Period)
		l.periodic(c.Period)
	case c.Mode == ModeRevision && c.Revisions > 0:
		every := c.RevisionInterval
		if every <= 0 {
			every = DefaultRevisionInterval
		}
		log.Info("auto compaction on", "mode", c.Mode, "retention_revisions", c.Revisions, "interval", every)
		l.revision(c.Revisions, every)
	}
}

type loop struct {
	stop <-chan struct{}
	t    Target
	log  *slog.Logger
	done func()
}

func (l loop) periodic(period time.Duration) {
	interval := min(period, time.Hour) // between compactions, after the first
	step := interval / 10              // between notes, and between tries
	keep := int(period/step) + 1       // notes spanning period
	revs := make([]int64, 0, keep+1)
	lastDone := time.Now()
	wait := period // the first compaction waits a whole period
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		revs = append(revs, l.t.Rev())
		if len(revs) > keep {
			revs = append(revs[:0], revs[1:]...) // revs[0]: the revision period ago
		}
		select {
		case <-tick.C:
		case <-l.stop:
			return
		}
		if !l.t.IsLeader() || time.Since(lastDone) < wait {
			continue
		}
		wait = interval
		if l.compact(revs[0], "periodic", "retention", period) {
			lastDone = time.Now()
		}
	}
}

func (l loop) revision(retain int64, every time.Duration) {
	var prev int64
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-l.stop:
			return
		}
		if !l.t.IsLeader() {
			continue
		}
		rev := l.t.Rev() - retain
		if rev <= 0 || rev == prev {
			continue
		}
		if l.compact(rev, "revision", "retention_revisions", retain) {
			prev = rev
		}
	}
}

// compact compacts to rev and reports whether it is done (applied, or rev
// was already compacted), logging either way with the mode's retention as
// attribute key=value.
func (l loop) compact(rev int64, mode, key string, value any) bool {
	start := time.Now()
	log := l.log.With("mode", mode, "revision", rev, key, value)
	log.Info("auto compaction starting")
	err := l.t.Compact(context.Background(), rev)
	switch {
	case err == nil:
		if l.done != nil {
			l.done()
		}
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
