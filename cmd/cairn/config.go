package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/server"
	"github.com/cairnkv/cairn/v2store"
)

// Config is everything the flags set. DefaultConfig gives etcd's defaults.
type Config struct {
	Name                     string
	DataDir                  string
	ListenClientURLs         string
	AdvertiseClientURLs      string
	ListenPeerURLs           string
	InitialAdvertisePeerURLs string
	InitialCluster           string
	InitialClusterState      string
	InitialClusterToken      string
	SnapshotCount            uint64
	SnapshotCatchUpEntries   uint64
	MaxRequestBytes          uint
	MaxTxnOps                uint
	QuotaBackendBytes        int64
	HeartbeatInterval        uint // milliseconds, as etcd
	ElectionTimeout          uint // milliseconds, as etcd
	LogLevel                 string
	LogFormat                string
	EnablePprof              bool

	WatchProgressNotifyInterval time.Duration // etcd's --experimental-watch-progress-notify-interval
	MaxWatchersPerConnection    int           // cairn's own
	MaxWatchPendingBytes        int           // cairn's own
	V2Prefix                    string        // cairn's own: where the v2 keys tree lives in the store
	Security                    SecurityFlags // TLS, --cors, --host-whitelist (security.go)

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
		LogLevel:                 "info",
		LogFormat:                "text",

		WatchProgressNotifyInterval: server.DefaultWatchProgressNotifyInterval,
		MaxWatchersPerConnection:    server.DefaultMaxWatchersPerConnection,
		MaxWatchPendingBytes:        server.DefaultMaxWatchPendingBytes,
		Security:                    defaultSecurity(),

		ClientIdleTimeout:       DefaultClientIdleTimeout,
		ClientReadHeaderTimeout: DefaultClientReadHeaderTimeout,
	}
}

// Main is one run of the cairn command.
type Main struct {
	Config Config
	// Stderr receives the logs; os.Stderr in the command.
	Stderr io.Writer
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main { return &Main{Config: DefaultConfig()} }

// ParseFlags reads args, then fills every flag not on the command line from
// its CAIRN_<FLAG_NAME> environment variable (via getenv).
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	c := &m.Config
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	fs.StringVar(&c.Name, "name", c.Name, "human-readable name for this member")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "path to the data directory")
	fs.StringVar(&c.ListenClientURLs, "listen-client-urls", c.ListenClientURLs, "comma-separated URLs to serve client requests on (port 0 picks a free port)")
	fs.StringVar(&c.AdvertiseClientURLs, "advertise-client-urls", c.AdvertiseClientURLs, "comma-separated client URLs of this member, as advertised to clients")
	fs.StringVar(&c.ListenPeerURLs, "listen-peer-urls", c.ListenPeerURLs, "comma-separated URLs to serve peer traffic on")
	fs.StringVar(&c.InitialAdvertisePeerURLs, "initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, "comma-separated peer URLs of this member, as advertised to the cluster")
	fs.StringVar(&c.InitialCluster, "initial-cluster", c.InitialCluster, "initial cluster configuration, name=peerURL,... (default: <name>=<initial-advertise-peer-urls>)")
	fs.StringVar(&c.InitialClusterState, "initial-cluster-state", c.InitialClusterState, "initial cluster state: new or existing")
	fs.StringVar(&c.InitialClusterToken, "initial-cluster-token", c.InitialClusterToken, "initial cluster token, part of the cluster and member ids")
	fs.Uint64Var(&c.SnapshotCount, "snapshot-count", c.SnapshotCount, "number of applied raft entries between raft snapshots")
	fs.Uint64Var(&c.SnapshotCatchUpEntries, "experimental-snapshot-catchup-entries", c.SnapshotCatchUpEntries, "number of raft entries kept behind a snapshot for slow followers (as etcd 3.5's flag)")
	fs.UintVar(&c.MaxRequestBytes, "max-request-bytes", c.MaxRequestBytes, "maximum client request size in bytes")
	fs.UintVar(&c.MaxTxnOps, "max-txn-ops", c.MaxTxnOps, "maximum number of operations in a transaction branch")
	fs.Int64Var(&c.QuotaBackendBytes, "quota-backend-bytes", c.QuotaBackendBytes, "store size in bytes above which writes fail with 'database space exceeded'")
	fs.UintVar(&c.HeartbeatInterval, "heartbeat-interval", c.HeartbeatInterval, "time in milliseconds of a raft heartbeat interval")
	fs.UintVar(&c.ElectionTimeout, "election-timeout", c.ElectionTimeout, "time in milliseconds of a raft election timeout")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.BoolVar(&c.EnablePprof, "enable-pprof", c.EnablePprof, "serve runtime profiling data at /debug/pprof/ on the client URLs")
	fs.DurationVar(&c.WatchProgressNotifyInterval, "experimental-watch-progress-notify-interval", c.WatchProgressNotifyInterval, "period of the progress responses to watchers that asked for them (as etcd's flag)")
	fs.IntVar(&c.MaxWatchersPerConnection, "max-watchers-per-connection", c.MaxWatchersPerConnection, "maximum watchers on one watch stream (an HTTP request or a websocket); -1: no limit (etcd has no such limit)")
	fs.StringVar(&c.V2Prefix, "v2-prefix", c.V2Prefix, "store prefix of the v2 keys tree: the v2 key /a is the v3 key <prefix>/a (default: none, the same bytes; see docs/v2-mapping.md)")
	fs.IntVar(&c.MaxWatchPendingBytes, "max-watch-pending-bytes", c.MaxWatchPendingBytes, "bytes of events queued for one watcher whose client has not taken them, above which the watcher catches up from history instead (etcd has no such limit)")
	c.Security.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := EnvName(f.Name)
		if v := getenv(env); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %v", env, v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	return c.Validate()
}

// EnvName is the environment variable that mirrors a flag:
// "data-dir" -> "CAIRN_DATA_DIR".
func EnvName(flagName string) string {
	return "CAIRN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
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
	if _, err := v2store.NewTree(c.V2Prefix); err != nil {
		return fmt.Errorf("--v2-prefix: %q must be empty or start with / and not end with /", c.V2Prefix)
	}
	return c.validateSecurity()
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
	sc.Logger = logger
	return sc, nil
}
