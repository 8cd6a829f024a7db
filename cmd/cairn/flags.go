package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagSet defines every flag of the command over m's configuration: cairn's
// own, etcd's that cairn honours, and etcd's that it takes without their
// meaning (etcdflags.go). Every flag belongs to one section of --help.
func (m *Main) flagSet() *flag.FlagSet {
	c := &m.Config
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, --help is printed by usage
	fs.StringVar(&c.ConfigFile, "config-file", c.ConfigFile, "path to etcd's YAML configuration file; other flags are then refused and environment variables ignored (etcd ignores both)")
	fs.BoolVar(&m.showVersion, "version", false, "print cairn's version and the etcd API version it serves, and exit")
	fs.StringVar(&c.Name, "name", c.Name, "human-readable name for this member")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "path to the data directory")
	fs.StringVar(&c.WALDir, "wal-dir", c.WALDir, "path to a dedicated directory for the raft log (default: <data-dir>/wal)")
	fs.StringVar(&c.ListenClientURLs, "listen-client-urls", c.ListenClientURLs, "comma-separated URLs to serve client requests on (port 0 picks a free port); set explicitly, it needs --advertise-client-urls")
	fs.StringVar(&c.AdvertiseClientURLs, "advertise-client-urls", c.AdvertiseClientURLs, "comma-separated client URLs of this member, as advertised to clients")
	fs.StringVar(&c.ListenPeerURLs, "listen-peer-urls", c.ListenPeerURLs, "comma-separated URLs to serve peer traffic on")
	fs.StringVar(&c.InitialAdvertisePeerURLs, "initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, "comma-separated peer URLs of this member, as advertised to the cluster")
	fs.StringVar(&c.InitialCluster, "initial-cluster", c.InitialCluster, "initial cluster configuration, name=peerURL,... (default: <name>=<initial-advertise-peer-urls>)")
	fs.StringVar(&c.InitialClusterState, "initial-cluster-state", c.InitialClusterState, "initial cluster state: new or existing")
	fs.StringVar(&c.InitialClusterToken, "initial-cluster-token", c.InitialClusterToken, "initial cluster token, part of the cluster and member ids")
	fs.BoolVar(&c.ForceNewCluster, "force-new-cluster", c.ForceNewCluster, "disaster recovery: restart this member as a one-member cluster with its data, every other member removed (drop the flag once it runs)")
	fs.Uint64Var(&c.SnapshotCount, "snapshot-count", c.SnapshotCount, "number of applied raft entries between raft snapshots")
	fs.Uint64Var(&c.SnapshotCatchUpEntries, "experimental-snapshot-catchup-entries", c.SnapshotCatchUpEntries, "number of raft entries kept behind a snapshot for slow followers (as etcd 3.5's flag)")
	fs.UintVar(&c.MaxRequestBytes, "max-request-bytes", c.MaxRequestBytes, "maximum client request size in bytes")
	fs.UintVar(&c.MaxTxnOps, "max-txn-ops", c.MaxTxnOps, "maximum number of operations in a transaction branch")
	fs.Int64Var(&c.QuotaBackendBytes, "quota-backend-bytes", c.QuotaBackendBytes, "store size in bytes above which writes fail with 'database space exceeded'")
	fs.UintVar(&c.HeartbeatInterval, "heartbeat-interval", c.HeartbeatInterval, "time in milliseconds of a raft heartbeat interval")
	fs.UintVar(&c.ElectionTimeout, "election-timeout", c.ElectionTimeout, "time in milliseconds of a raft election timeout")
	fs.BoolVar(&c.EnableV2, "enable-v2", c.EnableV2, "serve the v2 API (keys, members, stats); false: every /v2/ path answers 404, as etcd 3.4 by default")
	fs.BoolVar(&c.EnableUI, "enable-ui", c.EnableUI, "serve the dashboard at /ui/ on the client URLs (false: /ui/ answers 404; etcd has no dashboard)")
	fs.StringVar(&c.V2Prefix, "v2-prefix", c.V2Prefix, "store prefix of the v2 keys tree: the v2 key /a is the v3 key <prefix>/a (default: none, the same bytes; see docs/v2-mapping.md)")
	fs.StringVar(&c.Logger, "logger", c.Logger, "etcd's logger: zap or capnslog, both accepted; cairn logs with log/slog either way (see --log-format)")
	fs.StringVar(&c.LogOutputs, "log-outputs", c.LogOutputs, "comma-separated log outputs: default (stderr), stderr, stdout or file paths (appended to)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.DurationVar(&c.WarningApplyDuration, "experimental-warning-apply-duration", c.WarningApplyDuration, "a warning is logged when applying a batch of committed entries takes longer")
	fs.BoolVar(&c.EnablePprof, "enable-pprof", c.EnablePprof, "serve runtime profiling data at /debug/pprof/ on the client URLs")
	fs.DurationVar(&c.WatchProgressNotifyInterval, "experimental-watch-progress-notify-interval", c.WatchProgressNotifyInterval, "period of the progress responses to watchers that asked for them (as etcd's flag)")
	fs.IntVar(&c.MaxWatchersPerConnection, "max-watchers-per-connection", c.MaxWatchersPerConnection, "maximum watchers on one watch stream (an HTTP request or a websocket); -1: no limit (etcd has no such limit)")
	fs.StringVar(&c.ListenMetricsURLs, "listen-metrics-urls", c.ListenMetricsURLs, "comma-separated URLs to serve /metrics and /health on, besides the client URLs (as etcd's flag)")
	fs.StringVar(&c.AutoCompactionMode, "auto-compaction-mode", c.AutoCompactionMode, "how to read --auto-compaction-retention: periodic (a duration, or hours when a bare number) or revision (a number of revisions)")
	fs.StringVar(&c.AutoCompactionRetention, "auto-compaction-retention", c.AutoCompactionRetention, "history the leader keeps when it compacts by itself (see --auto-compaction-mode); 0 turns auto-compaction off")
	fs.IntVar(&c.MaxWatchPendingBytes, "max-watch-pending-bytes", c.MaxWatchPendingBytes, "bytes of events queued for one watcher whose client has not taken them, above which the watcher catches up from history instead (etcd has no such limit)")
	fs.UintVar(&c.MaxConcurrentStreams, "max-concurrent-streams", c.MaxConcurrentStreams, "maximum gRPC streams (calls in progress) on one client connection")
	fs.DurationVar(&c.GRPCKeepaliveMinTime, "grpc-keepalive-min-time", c.GRPCKeepaliveMinTime, "shortest interval a gRPC client may ping the server at; a client that pings more often is told to go away")
	fs.DurationVar(&c.GRPCKeepaliveInterval, "grpc-keepalive-interval", c.GRPCKeepaliveInterval, "idle time after which the server pings a gRPC client connection")
	fs.DurationVar(&c.GRPCKeepaliveTimeout, "grpc-keepalive-timeout", c.GRPCKeepaliveTimeout, "time the server waits for the answer to its ping before it closes the gRPC connection")
	c.Security.register(fs)
	c.Auth.register(fs)
	m.etcd = m.etcd[:0]
	for i := range etcdFlags {
		v := &etcdValue{f: &etcdFlags[i]}
		m.etcd = append(m.etcd, v)
		fs.Var(v, v.f.name, v.f.help())
	}
	return fs
}

// flagSections are the headings of --help and the flags under each, in
// order; etcd's flags that cairn does not honour follow them.
var flagSections = []struct {
	title string
	names []string
}{
	{"Configuration", []string{"config-file", "version"}},
	{"Member", []string{"name", "data-dir", "wal-dir", "snapshot-count", "experimental-snapshot-catchup-entries",
		"heartbeat-interval", "election-timeout", "listen-peer-urls", "listen-client-urls",
		"quota-backend-bytes", "max-txn-ops", "max-request-bytes"}},
	{"Clustering", []string{"initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state",
		"initial-cluster-token", "advertise-client-urls"}},
	{"API", []string{"enable-v2", "v2-prefix", "enable-ui", "experimental-watch-progress-notify-interval",
		"max-watchers-per-connection", "max-watch-pending-bytes"}},
	{"gRPC", []string{"max-concurrent-streams", "grpc-keepalive-min-time", "grpc-keepalive-interval", "grpc-keepalive-timeout"}},
	{"Logging", []string{"logger", "log-outputs", "log-level", "log-format", "experimental-warning-apply-duration"}},
	{"Security", []string{"cert-file", "key-file", "trusted-ca-file", "client-cert-auth", "auto-tls",
		"peer-cert-file", "peer-key-file", "peer-trusted-ca-file", "peer-client-cert-auth", "peer-auto-tls",
		"cipher-suites", "tls-min-version", "cors", "host-whitelist"}},
	{"Authentication", authNames},
	{"Metrics and compaction", []string{"listen-metrics-urls", "auto-compaction-mode", "auto-compaction-retention"}},
	{"Profiling", []string{"enable-pprof"}},
	{"Unsafe (may break the guarantees of the consensus protocol)", []string{"force-new-cluster"}},
}

const usageHead = `Usage:

  cairn [flags]
      Start a cairn member: etcd's v3 gRPC and JSON and v2 APIs over one raft-replicated store.
  cairn --version
      Print cairn's version and the etcd API version it serves.
  cairn -h | --help
      Print this help.
  cairn --config-file <file>
      Read etcd's YAML configuration file (etcd's key names). Other flags are
      then refused, and environment variables ignored (etcd ignores both).
  cairn snapshot save|restore ...
      Back up a live member; make a new cluster's data dir from a backup.

Every flag is also read from the environment as ETCD_<FLAG> and CAIRN_<FLAG>
(upper case, dashes as underscores: --data-dir is ETCD_DATA_DIR and
CAIRN_DATA_DIR). The command line wins over CAIRN_, and CAIRN_ over ETCD_.
The log says where each setting came from.
`

// usage prints --help: the sections with each flag, its default and what it
// does, then etcd's flags that cairn takes without their meaning.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageHead)
	for _, s := range flagSections {
		fmt.Fprintf(w, "\n%s:\n", s.title)
		for _, name := range s.names {
			printFlag(w, fs.Lookup(name))
		}
	}
	fmt.Fprint(w, "\netcd flags cairn takes without their meaning (a value that asks for what\ncairn lacks is refused, naming the flag and why):\n")
	for _, f := range etcdFlags {
		printFlag(w, fs.Lookup(f.name))
	}
}

func printFlag(w io.Writer, f *flag.Flag) {
	fmt.Fprintf(w, "  --%s '%s'\n      %s\n", f.Name, f.DefValue, wrap(f.Usage, 74, "      "))
}

// wrap breaks s into lines of at most width runes, indenting the ones after
// the first.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
