package metrics

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn/store"
)

// Store is what the gauges read of the member's current store (package
// store's Store).
type Store interface {
	Size() int64      // bytes the bbolt file takes
	SizeInUse() int64 // bytes of it in use
	KeyCount() int
	Rev() int64
	CompactRev() int64
}

// Source is what the gauges read at scrape time. Every function must be
// safe to call from any goroutine.
type Source struct {
	MemberID uint64
	// QuotaBackendBytes is exported as etcd_server_quota_backend_bytes when
	// positive (negative: no quota).
	QuotaBackendBytes int64

	HasLeader, IsLeader, IsLearner func() bool
	CommittedIndex, AppliedIndex   func() uint64
	// Store returns the current store (a snapshot install replaces it).
	Store func() Store
	// Watch returns the current watch hub's counts.
	Watch func() store.WatchStats
}

type gauge struct {
	name, help string
	f          func() float64
}

// Register registers m, the gauges that read src, and extra (the
// transport's metrics) with reg. Errors: a metric of the same name is
// registered already.
func (m *Member) Register(reg prometheus.Registerer, src Source, extra ...prometheus.Collector) error {
	cs := []prometheus.Collector{
		m.LeaderChanges, m.ProposalsFailed, m.WALFsync, m.BackendCommit,
		m.LeaseGranted, m.LeaseRevoked, m.LeaseRenewed, m.LeaseExpired, m.LeaseTTL,
		m.AutoCompactions, m.AuthFailures,
	}
	cs = append(cs, extra...)
	b2f := func(f func() bool) func() float64 {
		return func() float64 {
			if f() {
				return 1
			}
			return 0
		}
	}
	gauges := []gauge{
		{"etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", b2f(src.HasLeader)},
		{"etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", b2f(src.IsLeader)},
		{"etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", b2f(src.IsLearner)},
		// etcd exports these two indexes as gauges despite their names.
		{"etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
			func() float64 { return float64(src.CommittedIndex()) }},
		{"etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
			func() float64 { return float64(src.AppliedIndex()) }},
		{"etcd_server_proposals_pending", "The current number of pending proposals to commit.",
			func() float64 { return float64(m.Pending.Load()) }},
		{"etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
			func() float64 { return float64(src.Store().Size()) }},
		{"etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
			func() float64 { return float64(src.Store().SizeInUse()) }},
		{"etcd_debugging_mvcc_keys_total", "Total number of keys.",
			func() float64 { return float64(src.Store().KeyCount()) }},
		{"etcd_debugging_mvcc_current_revision", "The current revision of store.",
			func() float64 { return float64(src.Store().Rev()) }},
		{"etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
			func() float64 { return float64(src.Store().CompactRev()) }},
		{"etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.",
			func() float64 { return float64(src.Watch().Streams) }},
		{"etcd_debugging_mvcc_watcher_total", "Total number of watchers.",
			func() float64 { return float64(src.Watch().Watchers) }},
		{"etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.",
			func() float64 { return float64(src.Watch().Unsynced) }},
	}
	if q := src.QuotaBackendBytes; q > 0 {
		gauges = append(gauges, gauge{"etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
			func() float64 { return float64(q) }})
	}
	for _, g := range gauges {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help}, g.f))
	}
	id := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "etcd_server_id",
		Help:        "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
		ConstLabels: prometheus.Labels{"server_id": strconv.FormatUint(src.MemberID, 16)},
	})
	id.Set(1)
	cs = append(cs, id)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering the member's metrics: %w", err)
		}
	}
	return nil
}
