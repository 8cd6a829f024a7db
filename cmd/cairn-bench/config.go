package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is one benchmark run, as set by the flags. Sizes are bytes,
// Rate is requests per second over all clients (0 = unlimited).
type Config struct {
	// Workload names a row of the workloads table: put, range, txn-put.
	Workload string
	// Endpoints are base URLs (scheme http or https, host:port, no path),
	// e.g. http://127.0.0.1:2379.
	Endpoints []string
	// CACert, Cert and Key are the TLS files for https endpoints (tls.go).
	CACert, Cert, Key string
	// Clients is the number of concurrent requesters (>= 1).
	Clients int
	// Conns is the number of HTTP connections; 0 means Clients.
	Conns int
	// Total is the number of requests to send; 0 means no limit (then
	// Duration must be set).
	Total int64
	// Duration stops the run after this long; 0 means no limit.
	Duration time.Duration
	// KeySize is the length of the key after Prefix.
	KeySize int
	// ValSize is the length of each value.
	ValSize int
	// KeySpaceSize is how many distinct keys requests choose from.
	KeySpaceSize uint64
	// SequentialKeys chooses keys in order instead of at random.
	SequentialKeys bool
	// Rate caps requests started per second over all clients; 0 = no cap.
	Rate float64
	// Prefix is prepended to every key.
	Prefix string
	// Output is "text" or "json".
	Output string
	// Consistency is "l" (linearizable) or "s" (serializable); range only.
	Consistency string
	// Timeout bounds the wait for a response's headers; 0 = no bound.
	Timeout time.Duration
	// HTTPClient is the client of the request/answer workloads: "raw" (the
	// lean HTTP/1.1 client of rawclient.go) or "std" (net/http's
	// Transport). Streams (watch, lease-keepalive) always use net/http.
	HTTPClient string
	// Seed seeds key choice and the value bytes; 0 picks one at random.
	Seed uint64
	// Watchers is the number of watchers of --prefix (watch-latency).
	Watchers int
	// WatchersPerStream is how many of them share one watch stream.
	WatchersPerStream int
	// WatchTransport is "http" (POST /v3/watch streams) or "ws"
	// (websockets) (watch-latency).
	WatchTransport string
	// ServerPID, if not 0, is a local server process whose resident memory
	// the run samples (watch-latency, Linux).
	ServerPID int
	// DrainTimeout bounds the wait for the last events after the last put
	// (watch-latency).
	DrainTimeout time.Duration
	// LeaseTTL is the TTL in seconds of the leases granted (lease-grant,
	// lease-keepalive, lease-expiry).
	LeaseTTL int64
	// Leases is how many leases lease-expiry grants and lets expire.
	Leases int
	// LeaseTail is how long lease-expiry goes on writing after the last
	// lease key went.
	LeaseTail time.Duration

	// stdClient is set by Validate for a workload whose requests always
	// use net/http (workload.stdClient).
	stdClient bool

	// tls is how https endpoints are reached; set by Validate (tls.go).
	tls *tls.Config

	// User is --user name:password (auth.go); token is what authenticating
	// as it answered, sent with every request.
	User  string
	token string

	// leaseIDs are the leases lease-keepalive granted before the clock
	// started, lease number i for key number i.
	leaseIDs []int64

	// set records which flags were given (command line or environment), so
	// that options a workload does not use are rejected, not ignored.
	set map[string]bool
}

// DefaultConfig returns the defaults, which follow etcd's benchmark tool
// where it has the same flag: put to http://127.0.0.1:2379 with one client,
// 10000 requests, 8-byte keys and values, one key.
func DefaultConfig() Config {
	return Config{
		Workload:     "put",
		Endpoints:    []string{"http://127.0.0.1:2379"},
		Clients:      1,
		Total:        10000,
		KeySize:      8,
		ValSize:      8,
		KeySpaceSize: 1,
		Output:       "text",
		Consistency:  "l",
		Timeout:      30 * time.Second,
		HTTPClient:   "raw",

		Watchers:          1,
		WatchersPerStream: 1,
		WatchTransport:    "http",
		DrainTimeout:      30 * time.Second,
		LeaseTTL:          60,
		Leases:            1000,
		LeaseTail:         3 * time.Second,
	}
}

// envPrefix is the prefix of the environment mirror of each flag.
const envPrefix = "CAIRN_BENCH_"

// ParseFlags parses args (without the program name) into a validated Config.
// The workload is the first argument or --workload. A flag not on the
// command line is read from CAIRN_BENCH_<FLAG> through getenv (may be nil).
// Usage and errors of the flag package go to usage. It returns flag.ErrHelp
// for -h, or an error naming the bad flag.
func ParseFlags(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("cairn-bench", flag.ContinueOnError)
	fs.SetOutput(usage)
	var endpoints string
	fs.StringVar(&cfg.Workload, "workload", cfg.Workload, "workload: "+strings.Join(workloadNames(), ", "))
	fs.StringVar(&endpoints, "endpoints", strings.Join(cfg.Endpoints, ","), "comma-separated base URLs of the v3 JSON gateway")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent requesters")
	fs.IntVar(&cfg.Conns, "conns", cfg.Conns, "HTTP connections (0 = one per client)")
	fs.Int64Var(&cfg.Total, "total", cfg.Total, "requests to send (0 = no limit; needs --duration)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "stop after this long (0 = no limit); alone it lifts the default --total")
	fs.IntVar(&cfg.KeySize, "key-size", cfg.KeySize, "key length in bytes, after --prefix")
	fs.IntVar(&cfg.ValSize, "val-size", cfg.ValSize, "value length in bytes")
	fs.Uint64Var(&cfg.KeySpaceSize, "key-space-size", cfg.KeySpaceSize, "number of distinct keys")
	fs.BoolVar(&cfg.SequentialKeys, "sequential-keys", cfg.SequentialKeys, "use keys in order instead of at random")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "max requests per second over all clients (0 = as fast as possible)")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "prefix of every key")
	fs.StringVar(&cfg.Output, "output", cfg.Output, "report format: text or json")
	fs.StringVar(&cfg.Consistency, "consistency", cfg.Consistency, "range reads: l (linearizable) or s (serializable)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "max wait for a response's headers (0 = none)")
	fs.StringVar(&cfg.HTTPClient, "http-client", cfg.HTTPClient, "HTTP client of request/answer workloads: raw (lean HTTP/1.1) or std (net/http)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for keys and value bytes (0 = random)")
	fs.IntVar(&cfg.Watchers, "watchers", cfg.Watchers, "watch-latency: watchers of --prefix")
	fs.IntVar(&cfg.WatchersPerStream, "watchers-per-stream", cfg.WatchersPerStream, "watch-latency: watchers sharing one watch stream (connection)")
	fs.StringVar(&cfg.WatchTransport, "watch-transport", cfg.WatchTransport, "watch-latency: http (POST /v3/watch streams) or ws (websockets)")
	fs.IntVar(&cfg.ServerPID, "server-pid", cfg.ServerPID, "watch-latency: pid of a local server whose resident memory to sample (0 = none)")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", cfg.DrainTimeout, "watch-latency: max wait for the last events after the last put")
	fs.Int64Var(&cfg.LeaseTTL, "lease-ttl", cfg.LeaseTTL, "lease-grant, lease-keepalive, lease-expiry: TTL in seconds of the leases granted")
	fs.IntVar(&cfg.Leases, "leases", cfg.Leases, "lease-expiry: leases granted, each with a key, to expire during the run")
	fs.DurationVar(&cfg.LeaseTail, "lease-tail", cfg.LeaseTail, "lease-expiry: how long to go on writing after the last lease key went")
	registerTLSFlags(fs, &cfg)
	registerAuthFlags(fs, &cfg)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: cairn-bench [workload] [flags]\n\nworkloads:\n")
		for _, w := range workloads {
			fmt.Fprintf(fs.Output(), "  %-8s %s\n", w.name, w.help)
		}
		fmt.Fprintf(fs.Output(), "\nflags (each also read from %s<FLAG>, dashes as underscores):\n", envPrefix)
		fs.PrintDefaults()
	}

	var positional string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		positional, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if rest := fs.Args(); len(rest) > 0 {
		if positional != "" || len(rest) > 1 {
			return cfg, fmt.Errorf("unexpected arguments %q (give one workload)", rest)
		}
		positional = rest[0]
	}

	cfg.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { cfg.set[f.Name] = true })
	if getenv != nil {
		var envErr error
		fs.VisitAll(func(f *flag.Flag) {
			if envErr != nil || cfg.set[f.Name] {
				return
			}
			name := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
			if v := getenv(name); v != "" {
				if err := fs.Set(f.Name, v); err != nil {
					envErr = fmt.Errorf("%s=%q: %v", name, v, err)
				}
				cfg.set[f.Name] = true
			}
		})
		if envErr != nil {
			return cfg, envErr
		}
	}

	if positional != "" {
		if cfg.set["workload"] && cfg.Workload != positional {
			return cfg, fmt.Errorf("workload given twice: %q and --workload %q", positional, cfg.Workload)
		}
		cfg.Workload = positional
		cfg.set["workload"] = true
	}
	cfg.Endpoints = splitList(endpoints)
	if cfg.set["duration"] && !cfg.set["total"] {
		cfg.Total = 0
	}
	return cfg, cfg.Validate()
}

// splitList splits a comma list, dropping blanks and surrounding spaces.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks the config and normalises it (endpoint URLs lose a
// trailing slash). Errors name the flag.
func (c *Config) Validate() error {
	w, ok := lookupWorkload(c.Workload)
	if !ok {
		return fmt.Errorf("--workload: unknown workload %q (have %s)", c.Workload, strings.Join(workloadNames(), ", "))
	}
	for name := range c.set {
		if workloadOption[name] && !w.uses(name) {
			return fmt.Errorf("--%s does not apply to workload %s", name, w.name)
		}
	}
	if len(c.Endpoints) == 0 {
		return errors.New("--endpoints: no endpoint given")
	}
	c.Endpoints = slices.Clone(c.Endpoints) // normalise without touching the caller's slice
	for i, e := range c.Endpoints {
		u, err := url.Parse(e)
		if err != nil {
			return fmt.Errorf("--endpoints: %v", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("--endpoints: %q: only http:// and https:// endpoints are supported", e)
		}
		if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("--endpoints: %q: want http(s)://host:port with no path, query or user", e)
		}
		c.Endpoints[i] = u.Scheme + "://" + u.Host
	}
	if err := c.loadTLS(w.name); err != nil {
		return err
	}
	if c.Clients < 1 {
		return fmt.Errorf("--clients: %d, want at least 1", c.Clients)
	}
	if c.Conns < 0 {
		return fmt.Errorf("--conns: %d, want at least 1 (or 0 for one per client)", c.Conns)
	}
	if n := c.conns(); n < len(c.Endpoints) {
		return fmt.Errorf("--conns: %d connections cannot reach %d endpoints", n, len(c.Endpoints))
	}
	if c.Clients < len(c.Endpoints) {
		return fmt.Errorf("--clients: %d clients cannot reach %d endpoints", c.Clients, len(c.Endpoints))
	}
	if c.Total < 0 {
		return fmt.Errorf("--total: %d, want >= 0", c.Total)
	}
	if c.Duration < 0 {
		return fmt.Errorf("--duration: %v, want >= 0", c.Duration)
	}
	if c.Total == 0 && c.Duration == 0 {
		return errors.New("--total 0 needs a --duration")
	}
	if c.KeySize < 1 {
		return fmt.Errorf("--key-size: %d, want at least 1", c.KeySize)
	}
	if c.ValSize < 0 {
		return fmt.Errorf("--val-size: %d, want >= 0", c.ValSize)
	}
	if c.KeySpaceSize < 1 {
		return errors.New("--key-space-size: 0, want at least 1")
	}
	if need := len(strconv.FormatUint(c.KeySpaceSize-1, 10)); need > c.KeySize {
		return fmt.Errorf("--key-size: %d bytes cannot hold %d distinct keys (need %d)", c.KeySize, c.KeySpaceSize, need)
	}
	if c.Rate < 0 || c.Rate != c.Rate {
		return fmt.Errorf("--rate: %v, want >= 0", c.Rate)
	}
	if c.Output != "text" && c.Output != "json" {
		return fmt.Errorf("--output: %q, want text or json", c.Output)
	}
	if c.Consistency != "l" && c.Consistency != "s" {
		return fmt.Errorf("--consistency: %q, want l or s", c.Consistency)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("--timeout: %v, want >= 0", c.Timeout)
	}
	if c.HTTPClient != "raw" && c.HTTPClient != "std" {
		return fmt.Errorf("--http-client: %q, want raw or std", c.HTTPClient)
	}
	if w.stdClient && c.HTTPClient == "raw" && c.set["http-client"] {
		return fmt.Errorf("--http-client raw does not apply to workload %s: its answers are streams, read with net/http (std)", w.name)
	}
	c.stdClient = w.stdClient
	if c.Watchers < 1 {
		return fmt.Errorf("--watchers: %d, want at least 1", c.Watchers)
	}
	if c.WatchersPerStream < 1 {
		return fmt.Errorf("--watchers-per-stream: %d, want at least 1", c.WatchersPerStream)
	}
	if c.WatchTransport != "http" && c.WatchTransport != "ws" {
		return fmt.Errorf("--watch-transport: %q, want http or ws", c.WatchTransport)
	}
	if c.ServerPID < 0 {
		return fmt.Errorf("--server-pid: %d, want >= 0", c.ServerPID)
	}
	if c.DrainTimeout <= 0 {
		return fmt.Errorf("--drain-timeout: %v, want > 0", c.DrainTimeout)
	}
	if c.LeaseTTL < 1 {
		return fmt.Errorf("--lease-ttl: %d, want at least 1", c.LeaseTTL)
	}
	if c.Leases < 1 {
		return fmt.Errorf("--leases: %d, want at least 1", c.Leases)
	}
	if c.LeaseTail < 0 {
		return fmt.Errorf("--lease-tail: %v, want >= 0", c.LeaseTail)
	}
	return nil
}

// httpClient is the client the run's requests use: "grpc" for the gRPC
// workloads (clientv3), "std" for a workload whose answers are streams,
// else HTTPClient. Validate settles it.
func (c *Config) httpClient() string {
	if strings.HasPrefix(c.Workload, "grpc-") {
		return "grpc"
	}
	if c.stdClient {
		return "std"
	}
	return c.HTTPClient
}

// conns is the number of HTTP connections the run opens at most.
func (c *Config) conns() int {
	if c.Conns == 0 {
		return c.Clients
	}
	return c.Conns
}
