package server

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn/store"
)

// The member's Prometheus metrics. Their names, types, labels and help are
// etcd 3.4's, so that etcd's Grafana dashboard and alert rules read a cairn
// member as they read an etcd member (docs/operations.md lists them).
//
// The hot paths pay one observation each: the raft log's fsync and the
// store's bbolt commits a histogram observation, a proposal an atomic add
// (pending) and, only when it fails, a counter. What is already kept
// elsewhere (indexes, sizes, leadership, watcher counts) is read when
// Prometheus scrapes, by GaugeFuncs.

// metrics are the member's counters and histograms. They exist whether or
// not Config.Metrics is set, so the paths that feed them never check.
type metrics struct {
	leaderChanges   prometheus.Counter
	proposalsFailed prometheus.Counter
	// pending counts the proposals that raft took and that wait for their
	// apply (etcd_server_proposals_pending).
	pending atomic.Int64

	walFsync      prometheus.Histogram
	backendCommit prometheus.Histogram

	leaseGranted prometheus.Counter
	leaseRevoked prometheus.Counter
	leaseRenewed prometheus.Counter
	leaseExpired prometheus.Counter
	leaseTTL     prometheus.Histogram

	autoCompactions prometheus.Counter
	// authFailures counts failed password checks (v3 authenticate, v2
	// basic auth): a brute force shows here.
	authFailures prometheus.Counter
}

func newMetrics() *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	// etcd's disk histograms: 1ms to 8s.
	diskBuckets := prometheus.ExponentialBuckets(0.001, 2, 14)
	return &metrics{
		leaderChanges:   counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen."),
		proposalsFailed: counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen."),
		walFsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_disk_wal_fsync_duration_seconds",
			Help:    "The latency distributions of fsync called by WAL.",
			Buckets: diskBuckets,
		}),
		backendCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_disk_backend_commit_duration_seconds",
			Help:    "The latency distributions of commit called by backend.",
			Buckets: diskBuckets,
		}),
		leaseGranted: counter("etcd_debugging_lease_granted_total", "The total number of granted leases."),
		leaseRevoked: counter("etcd_debugging_lease_revoked_total", "The total number of revoked leases."),
		leaseRenewed: counter("etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader."),
		leaseExpired: counter("etcd_debugging_server_lease_expired_total", "The total number of expired leases."),
		leaseTTL: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_debugging_lease_ttl_total",
			Help:    "Bucketed histogram of lease TTLs.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 24),
		}),
		autoCompactions: counter("cairn_server_auto_compactions_total",
			"The number of compactions the auto-compactor of this member proposed and saw applied (--auto-compaction-mode)."),
		authFailures: counter("cairn_auth_failed_authentications_total",
			"The number of password checks that failed on this member (v3 authenticate and v2 basic auth)."),
	}
}

// observeFsync feeds raftlog.Options.ObserveFsync.
func (m *metrics) observeFsync(d time.Duration) { m.walFsync.Observe(d.Seconds()) }

// observeCommit feeds store.Options.ObserveCommit.
func (m *metrics) observeCommit(d time.Duration) { m.backendCommit.Observe(d.Seconds()) }

// registerMetrics registers the member's metrics with reg: the counters and
// histograms, the transport's, and the gauges read at scrape time.
func (s *Server) registerMetrics(reg prometheus.Registerer) error {
	m := s.metrics
	cs := []prometheus.Collector{
		m.leaderChanges, m.proposalsFailed, m.walFsync, m.backendCommit,
		m.leaseGranted, m.leaseRevoked, m.leaseRenewed, m.leaseExpired, m.leaseTTL,
		m.autoCompactions, m.authFailures,
	}
	cs = append(cs, s.tr.Collectors()...)
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauges := []struct {
		name, help string
		f          func() float64
	}{
		{"etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
			func() float64 { return b2f(s.lead.Load() != 0) }},
		{"etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
			func() float64 { return b2f(s.lead.Load() == s.memberID) }},
		{"etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
			func() float64 { return b2f(s.isLearner.Load()) }},
		// etcd exports these two indexes as gauges despite their names.
		{"etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
			func() float64 { return float64(s.committed.Load()) }},
		{"etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
			func() float64 { return float64(s.appliedIndex.Load()) }},
		{"etcd_server_proposals_pending", "The current number of pending proposals to commit.",
			func() float64 { return float64(m.pending.Load()) }},
		{"etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
			func() float64 { return float64(s.storeNow().Size()) }},
		{"etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
			func() float64 { return float64(s.storeNow().SizeInUse()) }},
		{"etcd_debugging_mvcc_keys_total", "Total number of keys.",
			func() float64 { return float64(s.storeNow().KeyCount()) }},
		{"etcd_debugging_mvcc_current_revision", "The current revision of store.",
			func() float64 { return float64(s.storeNow().Rev()) }},
		{"etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
			func() float64 { return float64(s.storeNow().CompactRev()) }},
		{"etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.",
			func() float64 { return float64(s.watchStats().Streams) }},
		{"etcd_debugging_mvcc_watcher_total", "Total number of watchers.",
			func() float64 { return float64(s.watchStats().Watchers) }},
		{"etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.",
			func() float64 { return float64(s.watchStats().Unsynced) }},
	}
	if q := s.cfg.QuotaBackendBytes; q > 0 { // negative: no quota, no ratio to alert on
		gauges = append(gauges, struct {
			name, help string
			f          func() float64
		}{"etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.",
			func() float64 { return float64(q) }})
	}
	for _, g := range gauges {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help}, g.f))
	}
	id := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "etcd_server_id",
		Help:        "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
		ConstLabels: prometheus.Labels{"server_id": strconv.FormatUint(s.memberID, 16)},
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

// watchStats returns the counts of the current watch hub (a snapshot
// install replaces it).
func (s *Server) watchStats() store.WatchStats {
	s.storeMu.RLock()
	hub := s.watch
	s.storeMu.RUnlock()
	return hub.Stats()
}
