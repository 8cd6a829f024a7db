package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Member holds the member's counters and histograms. They exist whether or
// not they are registered, so the paths that feed them never check.
type Member struct {
	LeaderChanges   prometheus.Counter // etcd_server_leader_changes_seen_total
	ProposalsFailed prometheus.Counter // etcd_server_proposals_failed_total
	// Pending counts the proposals that raft took and that wait for their
	// apply (etcd_server_proposals_pending).
	Pending atomic.Int64

	WALFsync      prometheus.Histogram // etcd_disk_wal_fsync_duration_seconds
	BackendCommit prometheus.Histogram // etcd_disk_backend_commit_duration_seconds

	LeaseGranted prometheus.Counter   // etcd_debugging_lease_granted_total
	LeaseRevoked prometheus.Counter   // etcd_debugging_lease_revoked_total
	LeaseRenewed prometheus.Counter   // etcd_debugging_lease_renewed_total
	LeaseExpired prometheus.Counter   // etcd_debugging_server_lease_expired_total
	LeaseTTL     prometheus.Histogram // etcd_debugging_lease_ttl_total, seconds

	// AutoCompactions counts the compactions this member's auto-compactor
	// saw applied (cairn's own, cairn_server_auto_compactions_total).
	AutoCompactions prometheus.Counter
	// AuthFailures counts failed password checks (v3 authenticate, v2
	// basic auth): a brute force shows here
	// (cairn_auth_failed_authentications_total).
	AuthFailures prometheus.Counter
}

// New returns the member's metrics, unregistered.
func New() *Member {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	// etcd's disk histograms: 1ms to 8s.
	diskBuckets := prometheus.ExponentialBuckets(0.001, 2, 14)
	return &Member{
		LeaderChanges:   counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen."),
		ProposalsFailed: counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen."),
		WALFsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_disk_wal_fsync_duration_seconds",
			Help:    "The latency distributions of fsync called by WAL.",
			Buckets: diskBuckets,
		}),
		BackendCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_disk_backend_commit_duration_seconds",
			Help:    "The latency distributions of commit called by backend.",
			Buckets: diskBuckets,
		}),
		LeaseGranted: counter("etcd_debugging_lease_granted_total", "The total number of granted leases."),
		LeaseRevoked: counter("etcd_debugging_lease_revoked_total", "The total number of revoked leases."),
		LeaseRenewed: counter("etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader."),
		LeaseExpired: counter("etcd_debugging_server_lease_expired_total", "The total number of expired leases."),
		LeaseTTL: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "etcd_debugging_lease_ttl_total",
			Help:    "Bucketed histogram of lease TTLs.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 24),
		}),
		AutoCompactions: counter("cairn_server_auto_compactions_total",
			"The number of compactions the auto-compactor of this member proposed and saw applied (--auto-compaction-mode)."),
		AuthFailures: counter("cairn_auth_failed_authentications_total",
			"The number of password checks that failed on this member (v3 authenticate and v2 basic auth)."),
	}
}

// ObserveFsync records one raft log fsync (raftlog.Options.ObserveFsync).
func (m *Member) ObserveFsync(d time.Duration) { m.WALFsync.Observe(d.Seconds()) }

// ObserveCommit records one bbolt commit (store.Options.ObserveCommit).
func (m *Member) ObserveCommit(d time.Duration) { m.BackendCommit.Observe(d.Seconds()) }
