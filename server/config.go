package server

import (
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/compactor"
	"github.com/cairnkv/cairn/lessor"
	"github.com/cairnkv/cairn/membership"
)

// Config describes one member. Field names follow etcd's flags; DefaultConfig
// gives etcd's defaults.
type Config struct {
	// Name is the member's name (--name).
	Name string
	// DataDir holds the raft log and the store (--data-dir).
	DataDir string
	// WALDir, if set, holds the raft log instead of DataDir/wal (--wal-dir,
	// as etcd's: a dedicated disk for the log's fsyncs). The segment files
	// are directly in it.
	WALDir string
	// InitialCluster lists the members of a new cluster (--initial-cluster);
	// it must name this member. Ignored when DataDir already holds a member.
	InitialCluster []membership.Peer
	// InitialClusterState is "new" or "existing" (--initial-cluster-state).
	InitialClusterState string
	// PeerURLs are the peer URLs this member advertises
	// (--initial-advertise-peer-urls). A new member checks them against its
	// entry in InitialCluster; a joining member finds itself by them. Empty
	// means its entry in InitialCluster.
	PeerURLs []string
	// ClientURLs are the client URLs this member advertises
	// (--advertise-client-urls); it publishes them to the cluster, whose
	// member lists show them.
	ClientURLs []string
	// InitialClusterToken goes into the member and cluster ids
	// (--initial-cluster-token), so two clusters built from the same URLs
	// differ.
	InitialClusterToken string
	// SnapshotCount is how many applied entries trigger a raft snapshot
	// (--snapshot-count, etcd default 10000).
	SnapshotCount uint64
	// SnapshotCatchUpEntries is how many entries stay in the raft log behind
	// a snapshot, so a slightly slow follower catches up from the log rather
	// than from a whole snapshot (etcd's
	// --experimental-snapshot-catchup-entries, default 5000).
	SnapshotCatchUpEntries uint64
	// MaxRequestBytes caps an encoded request (--max-request-bytes, etcd
	// default 1.5 MiB); a larger one fails with cairn.ErrRequestTooLarge.
	MaxRequestBytes int
	// MaxTxnOps caps the operations in one transaction branch (--max-txn-ops,
	// etcd default 128).
	MaxTxnOps int
	// QuotaBackendBytes is the store size in bytes above which writes fail
	// with cairn.ErrNoSpace (--quota-backend-bytes, default 2 GiB; 0 means the
	// default, negative means no quota).
	QuotaBackendBytes int64
	// HeartbeatInterval is the raft tick (--heartbeat-interval, etcd default
	// 100ms).
	HeartbeatInterval time.Duration
	// ElectionTimeout is the raft election timeout (--election-timeout, etcd
	// default 1s); it must be a multiple of at least 5 heartbeats.
	ElectionTimeout time.Duration
	// Watch configures the watch hub (watch.go).
	Watch WatchConfig
	// LeaseClock is the lessor's clock; nil means the system's monotonic
	// clock. Tests inject one they advance by hand.
	LeaseClock lessor.Clock
	// LeaseRevokeRate caps how many expired leases the leader revokes per
	// second (etcd's leaseRevokeRate, 1000, which etcd does not expose), so
	// a mass expiry does not crowd out client writes.
	LeaseRevokeRate int
	// LeaseCheckInterval is how often the leader looks for expired leases
	// (etcd: every 500ms). Each look revokes at most LeaseRevokeRate x the
	// interval leases, so a shorter interval spreads a mass expiry in
	// smaller bursts; cairn's default is 100ms.
	LeaseCheckInterval time.Duration
	// ForceNewCluster is etcd's --force-new-cluster: a member restarted from
	// its data dir becomes a one-member cluster with its data, every other
	// member removed (membership.ForceNewCluster). Disaster recovery after
	// the loss of a quorum; it has no effect on a new member.
	ForceNewCluster bool
	// WarningApplyDuration is etcd's --experimental-warning-apply-duration
	// (default 100ms): the applier logs a warning, with what it applied,
	// when applying one batch of committed entries takes longer.
	WarningApplyDuration time.Duration
	// V2Prefix is --v2-prefix: the store prefix of the v2 keys tree ("" or
	// "/name"; see v2store.NewTree and docs/v2-mapping.md). Every member of
	// a cluster should use the same one.
	V2Prefix string
	// AutoCompaction configures the compactions the leader proposes by
	// itself (--auto-compaction-mode, --auto-compaction-retention;
	// package compactor). The zero value turns them off, etcd's default.
	AutoCompaction compactor.Config
	// Metrics, if set, receives the member's Prometheus metrics (etcd's
	// names; metrics.go). Registration fails New if a metric of the same
	// name is already registered (one member per registry).
	Metrics prometheus.Registerer
	// PeerTLS gives the client TLS configuration of each new connection to
	// a peer at an https URL (the --peer-* TLS flags); serverName is the
	// URL's host. nil means https peers cannot be reached. The member's own
	// peer listener is the caller's: it serves PeerHandler.
	PeerTLS func(serverName string) *tls.Config
	// Auth configures users, roles and tokens (auth_api.go).
	Auth AuthConfig
	// Logger receives the member's logs; nil means slog.Default().
	Logger *slog.Logger
}

// AuthConfig is etcd's auth flags.
type AuthConfig struct {
	// Tokens makes and resolves the tokens of Authenticate (--auth-token:
	// auth.NewSimpleTokens or auth.NewJWTTokens). nil means simple tokens
	// with TokenTTL.
	Tokens auth.TokenProvider
	// TokenTTL is --auth-token-ttl for simple tokens (0: 300 s).
	TokenTTL time.Duration
	// BcryptCost is --bcrypt-cost (0: 10, etcd's default), the cost of the
	// hashes this member makes of new passwords.
	BcryptCost int
}

// Defaults, as etcd's.
const (
	DefaultSnapshotCount          = 10000
	DefaultSnapshotCatchUpEntries = 5000
	DefaultMaxRequestBytes        = 1572864
	DefaultMaxTxnOps              = cairn.DefaultMaxTxnOps
	DefaultQuotaBackendBytes      = 2 << 30
	DefaultHeartbeatInterval      = 100 * time.Millisecond
	DefaultElectionTimeout        = 1000 * time.Millisecond
	DefaultLeaseRevokeRate        = 1000
	DefaultLeaseCheckInterval     = 100 * time.Millisecond
	DefaultWarningApplyDuration   = 100 * time.Millisecond
)

// DefaultConfig is a single member named "default" in "default.cairn" with
// etcd's default peer URL, as `etcd` with no flags.
func DefaultConfig() Config {
	return Config{
		Name:                   "default",
		DataDir:                "default.cairn",
		InitialCluster:         []membership.Peer{{Name: "default", URLs: []string{"http://127.0.0.1:2380"}}},
		InitialClusterState:    "new",
		InitialClusterToken:    "etcd-cluster",
		SnapshotCount:          DefaultSnapshotCount,
		SnapshotCatchUpEntries: DefaultSnapshotCatchUpEntries,
		MaxRequestBytes:        DefaultMaxRequestBytes,
		MaxTxnOps:              DefaultMaxTxnOps,
		QuotaBackendBytes:      DefaultQuotaBackendBytes,
		HeartbeatInterval:      DefaultHeartbeatInterval,
		ElectionTimeout:        DefaultElectionTimeout,
		LeaseRevokeRate:        DefaultLeaseRevokeRate,
		LeaseCheckInterval:     DefaultLeaseCheckInterval,
		WarningApplyDuration:   DefaultWarningApplyDuration,
	}
}

func (c *Config) fillDefaults() {
	d := DefaultConfig()
	if c.SnapshotCount == 0 {
		c.SnapshotCount = d.SnapshotCount
	}
	if c.SnapshotCatchUpEntries == 0 {
		c.SnapshotCatchUpEntries = d.SnapshotCatchUpEntries
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = d.MaxRequestBytes
	}
	if c.MaxTxnOps == 0 {
		c.MaxTxnOps = d.MaxTxnOps
	}
	if c.QuotaBackendBytes == 0 {
		c.QuotaBackendBytes = d.QuotaBackendBytes
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = d.HeartbeatInterval
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = d.ElectionTimeout
	}
	if c.LeaseRevokeRate <= 0 {
		c.LeaseRevokeRate = d.LeaseRevokeRate
	}
	if c.LeaseCheckInterval <= 0 {
		c.LeaseCheckInterval = d.LeaseCheckInterval
	}
	if c.WarningApplyDuration <= 0 {
		c.WarningApplyDuration = d.WarningApplyDuration
	}
	if c.InitialClusterState == "" {
		c.InitialClusterState = "new"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Auth.BcryptCost == 0 {
		c.Auth.BcryptCost = auth.DefaultBcryptCost
	}
	if c.Auth.Tokens == nil {
		c.Auth.Tokens = auth.NewSimpleTokens(c.Auth.TokenTTL, nil)
	}
}

// walDir is where the raft log lives: WALDir, else DataDir/wal.
func (c *Config) walDir() string {
	if c.WALDir != "" {
		return c.WALDir
	}
	return filepath.Join(c.DataDir, "wal")
}

// requestTimeout is how long a request may wait for commit and apply before
// it fails with cairn.ErrTimeout: etcd's 5s plus two election timeouts.
func (c *Config) requestTimeout() time.Duration {
	return 5*time.Second + 2*c.ElectionTimeout
}
