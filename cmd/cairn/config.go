package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cairnkv/cairn/compactor"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/server"
	"github.com/cairnkv/cairn/v2store"
)

// Config is everything the flags set. DefaultConfig gives etcd's defaults
// (and true for --enable-v2, which etcd 3.4 defaults to false: serving v2
// is why cairn exists).
type Config struct {
	ConfigFile               string // etcd's YAML configuration file (configfile.go)
	Name                     string
	DataDir                  string
	WALDir                   string // the raft log's directory, if not <data-dir>/wal
	ListenClientURLs         string
	AdvertiseClientURLs      string
	ListenPeerURLs           string
	InitialAdvertisePeerURLs string
	InitialCluster           string
	InitialClusterState      string
	InitialClusterToken      string
	ForceNewCluster          bool
	SnapshotCount            uint64
	SnapshotCatchUpEntries   uint64
	MaxRequestBytes          uint
	MaxTxnOps                uint
	QuotaBackendBytes        int64
	HeartbeatInterval        uint // milliseconds, as etcd
	ElectionTimeout          uint // milliseconds, as etcd
	EnableV2                 bool
	Logger                   string // zap or capnslog: accepted, cairn logs with slog
	LogOutputs               string // comma-separated: default, stderr, stdout or file paths
	LogLevel                 string
	LogFormat                string
	EnablePprof              bool
	EnableUI                 bool // cairn's own: the dashboard at /ui/

	WarningApplyDuration        time.Duration // etcd's --experimental-warning-apply-duration
	WatchProgressNotifyInterval time.Duration // etcd's --experimental-watch-progress-notify-interval
	MaxWatchersPerConnection    int           // cairn's own
	MaxWatchPendingBytes        int           // cairn's own
	V2Prefix                    string        // cairn's own: where the v2 keys tree lives in the store
	ListenMetricsURLs           string        // etcd's: /metrics and /health there too
	AutoCompactionMode          string        // etcd's: periodic or revision
	AutoCompactionRetention     string        // etcd's: 0 (off), hours, a duration or revisions
	Security                    SecurityFlags // TLS, --cors, --host-whitelist (security.go)
	MaxConcurrentStreams        uint          // etcd's: gRPC streams per client connection
	GRPCKeepaliveMinTime        time.Duration // etcd's --grpc-keepalive-min-time
	GRPCKeepaliveInterval       time.Duration // etcd's --grpc-keepalive-interval
	GRPCKeepaliveTimeout        time.Duration // etcd's --grpc-keepalive-timeout
	Auth                        AuthFlags     // --auth-token, --auth-token-ttl, --bcrypt-cost (auth.go)

	// Not flags: etcd has none for these. DefaultConfig sets the constants
	// below; tests shorten them.
	ClientIdleTimeout       time.Duration // the client listener's http.Server IdleTimeout
	ClientReadHeaderTimeout time.Duration // and its ReadHeaderTimeout
}

// The timeouts of the client listener's HTTP server. etcd 3.4 has no flag
// for them and sets no idle timeout: it keeps an idle keep-alive connection
// open for as long as the client does.
const (
	// DefaultClientIdleTimeout is how long a client's keep-alive connection
	// stays open with no request on it. It is longer than the 90 seconds
	// after which Go's http.Transport closes its own idle connections, so
	// that such a client normally closes first. A request in progress (a
	// watch stream, a v2 long poll) is not idle.
	DefaultClientIdleTimeout = 2 * time.Minute
	// DefaultClientReadHeaderTimeout is how long a client has to send a
	// request's header, from the connection's opening or from the first
	// byte of a later request.
	DefaultClientReadHeaderTimeout = 10 * time.Second
)

// DefaultConfig returns etcd's defaults (with 127.0.0.1 for its localhost).
func DefaultConfig() Config {
	return Config{
		Name:                     "default",
		DataDir:                  "default.cairn",
		ListenClientURLs:         "http://127.0.0.1:2379",
		AdvertiseClientURLs:      "http://127.0.0.1:2379",
		ListenPeerURLs:           "http://127.0.0.1:2380",
		InitialAdvertisePeerURLs: "http://127.0.0.1:2380",
		InitialClusterState:      "new",
		InitialClusterToken:      "etcd-cluster",
		SnapshotCount:            server.DefaultSnapshotCount,
		SnapshotCatchUpEntries:   server.DefaultSnapshotCatchUpEntries,
		MaxRequestBytes:          server.DefaultMaxRequestBytes,
		MaxTxnOps:                server.DefaultMaxTxnOps,
		QuotaBackendBytes:        server.DefaultQuotaBackendBytes,
		HeartbeatInterval:        uint(server.DefaultHeartbeatInterval / time.Millisecond),
		ElectionTimeout:          uint(server.DefaultElectionTimeout / time.Millisecond),
		EnableV2:                 true,
		EnableUI:                 true,
		Logger:                   "capnslog",
		LogOutputs:               "default",
		LogLevel:                 "info",
		LogFormat:                "text",

		WarningApplyDuration:        server.DefaultWarningApplyDuration,
		WatchProgressNotifyInterval: server.DefaultWatchProgressNotifyInterval,
		MaxWatchersPerConnection:    server.DefaultMaxWatchersPerConnection,
		MaxWatchPendingBytes:        server.DefaultMaxWatchPendingBytes,
		Security:                    defaultSecurity(),
		MaxConcurrentStreams:        math.MaxUint32,
		GRPCKeepaliveMinTime:        5 * time.Second,
		GRPCKeepaliveInterval:       2 * time.Hour,
		GRPCKeepaliveTimeout:        20 * time.Second,
		Auth:                        defaultAuth(),

		AutoCompactionMode:      compactor.ModePeriodic,
		AutoCompactionRetention: "0",

		ClientIdleTimeout:       DefaultClientIdleTimeout,
		ClientReadHeaderTimeout: DefaultClientReadHeaderTimeout,
	}
}

// Validate checks values the flag package cannot.
func (c *Config) Validate() error {
	for _, u := range []struct{ flag, v string }{
		{"listen-client-urls", c.ListenClientURLs},
		{"advertise-client-urls", c.AdvertiseClientURLs},
		{"listen-peer-urls", c.ListenPeerURLs},
		{"initial-advertise-peer-urls", c.InitialAdvertisePeerURLs},
	} {
		if _, err := parseURLs(u.v); err != nil {
			return fmt.Errorf("--%s: %w", u.flag, err)
		}
	}
	if c.InitialClusterState != "new" && c.InitialClusterState != "existing" {
		return fmt.Errorf("--initial-cluster-state must be new or existing, not %q", c.InitialClusterState)
	}
	if c.Name == "" {
		return errors.New("--name must not be empty")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	if c.HeartbeatInterval == 0 || c.ElectionTimeout < 5*c.HeartbeatInterval {
		return fmt.Errorf("--election-timeout (%d) must be at least 5 times --heartbeat-interval (%d)", c.ElectionTimeout, c.HeartbeatInterval)
	}
	if c.WatchProgressNotifyInterval <= 0 {
		return fmt.Errorf("--experimental-watch-progress-notify-interval must be positive, not %v", c.WatchProgressNotifyInterval)
	}
	if c.MaxWatchersPerConnection == 0 || c.MaxWatchersPerConnection < -1 {
		return fmt.Errorf("--max-watchers-per-connection must be at least 1, or -1 for no limit, not %d", c.MaxWatchersPerConnection)
	}
	if c.MaxWatchPendingBytes <= 0 {
		return fmt.Errorf("--max-watch-pending-bytes must be positive, not %d", c.MaxWatchPendingBytes)
	}
	if c.ListenMetricsURLs != "" {
		urls, err := parseURLs(c.ListenMetricsURLs)
		if err != nil {
			return fmt.Errorf("--listen-metrics-urls: %w", err)
		}
		for _, u := range urls {
			if u.Scheme == "https" {
				return fmt.Errorf("--listen-metrics-urls: not implemented yet: TLS on the metrics listener (%s)", u)
			}
		}
	}
	if _, err := compactor.Parse(c.AutoCompactionMode, c.AutoCompactionRetention); err != nil {
		return err
	}
	if _, err := v2store.NewTree(c.V2Prefix); err != nil {
		return fmt.Errorf("--v2-prefix: %q must be empty or start with / and not end with /", c.V2Prefix)
	}
	if c.Logger != "zap" && c.Logger != "capnslog" {
		return fmt.Errorf("--logger must be zap or capnslog (etcd's loggers; cairn logs with log/slog either way), not %q", c.Logger)
	}
	if _, err := splitOutputs(c.LogOutputs); err != nil {
		return err
	}
	if c.MaxConcurrentStreams == 0 || c.MaxConcurrentStreams > math.MaxUint32 {
		return fmt.Errorf("--max-concurrent-streams must be in [1, %d], not %d", uint(math.MaxUint32), c.MaxConcurrentStreams)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"grpc-keepalive-min-time", c.GRPCKeepaliveMinTime}, {"grpc-keepalive-interval", c.GRPCKeepaliveInterval}, {"grpc-keepalive-timeout", c.GRPCKeepaliveTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s must be positive, not %v", d.flag, d.v)
		}
	}
	if c.WarningApplyDuration <= 0 {
		return fmt.Errorf("--experimental-warning-apply-duration must be positive, not %v", c.WarningApplyDuration)
	}
	if _, err := c.Auth.serverAuth(); err != nil {
		return err
	}
	return c.validateSecurity()
}

// splitOutputs reads --log-outputs: a comma list of default (stderr, as
// etcd outside systemd), stderr, stdout or file paths; default goes alone,
// as in etcd.
func splitOutputs(s string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	switch {
	case len(out) == 0:
		return nil, errors.New("--log-outputs is empty: give default, stderr, stdout or a file path")
	case len(out) > 1 && slices.Contains(out, "default"):
		return nil, fmt.Errorf("--log-outputs %q: default cannot be combined with other outputs (as in etcd); name stderr instead", s)
	}
	return out, nil
}

// parseURLs splits a comma list of http and https URLs. Unix sockets are
// not implemented and are refused by name.
func parseURLs(s string) ([]*url.URL, error) {
	var out []*url.URL
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil {
			return nil, err
		}
		switch u.Scheme {
		case "http", "https":
		case "unix", "unixs":
			return nil, fmt.Errorf("not implemented: unix sockets (%s)", part)
		default:
			return nil, fmt.Errorf("%q: scheme must be http or https", part)
		}
		if u.Host == "" || u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("%q: want http(s)://host:port", part)
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no URL given")
	}
	return out, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level: %q is not debug, info, warn or error", s)
	}
	return l, nil
}

// serverConfig translates the flags for package server.
func (c *Config) serverConfig(logger *slog.Logger) (server.Config, error) {
	sc := server.DefaultConfig()
	sc.Name = c.Name
	sc.DataDir = c.DataDir
	sc.WALDir = c.WALDir
	sc.ForceNewCluster = c.ForceNewCluster
	sc.WarningApplyDuration = c.WarningApplyDuration
	ic := c.InitialCluster
	if ic == "" {
		var parts []string
		for _, u := range strings.Split(c.InitialAdvertisePeerURLs, ",") {
			parts = append(parts, c.Name+"="+strings.TrimSpace(u))
		}
		ic = strings.Join(parts, ",")
	}
	peers, err := membership.ParseInitialCluster(ic)
	if err != nil {
		return sc, err
	}
	sc.InitialCluster = peers
	for _, u := range strings.Split(c.InitialAdvertisePeerURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			sc.PeerURLs = append(sc.PeerURLs, u)
		}
	}
	for _, u := range strings.Split(c.AdvertiseClientURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			sc.ClientURLs = append(sc.ClientURLs, u)
		}
	}
	sc.InitialClusterState = c.InitialClusterState
	sc.InitialClusterToken = c.InitialClusterToken
	sc.SnapshotCount = c.SnapshotCount
	sc.V2Prefix = c.V2Prefix
	sc.SnapshotCatchUpEntries = c.SnapshotCatchUpEntries
	sc.MaxRequestBytes = int(c.MaxRequestBytes)
	sc.MaxTxnOps = int(c.MaxTxnOps)
	sc.QuotaBackendBytes = c.QuotaBackendBytes
	if sc.QuotaBackendBytes == 0 {
		sc.QuotaBackendBytes = server.DefaultQuotaBackendBytes
	}
	sc.HeartbeatInterval = time.Duration(c.HeartbeatInterval) * time.Millisecond
	sc.ElectionTimeout = time.Duration(c.ElectionTimeout) * time.Millisecond
	sc.Watch = server.WatchConfig{
		ProgressNotifyInterval:   c.WatchProgressNotifyInterval,
		MaxWatchersPerConnection: c.MaxWatchersPerConnection,
		MaxPendingBytes:          c.MaxWatchPendingBytes,
	}
	if sc.AutoCompaction, err = compactor.Parse(c.AutoCompactionMode, c.AutoCompactionRetention); err != nil {
		return sc, err
	}
	if sc.Auth, err = c.Auth.serverAuth(); err != nil {
		return sc, err
	}
	sc.Logger = logger
	return sc, nil
}
