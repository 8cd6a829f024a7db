package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/concurrency"
)

// DefaultMaxRequestBytes is etcd's default --max-request-bytes (1.5 MiB).
const DefaultMaxRequestBytes = 1572864

// DefaultHealthTimeout is how long GET /health waits for its linearizable
// read, as etcd 3.4 waits for its quorum read.
const DefaultHealthTimeout = time.Second

// Config configures the handler New returns. The zero value is usable.
type Config struct {
	// MaxRequestBytes is --max-request-bytes: the largest write, measured as
	// etcd measures it (the protobuf size of the proposed request; see
	// size.go). 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// Logger receives internal errors (never ordinary client errors) and
	// failed health checks. nil means slog.Default().
	Logger *slog.Logger
	// ClusterVersion is reported as "etcdcluster" by GET /version. Empty
	// means cairn.APIVersion.
	ClusterVersion string
	// HealthTimeout bounds the linearizable read of GET /health. 0 means
	// DefaultHealthTimeout.
	HealthTimeout time.Duration
	// DisableV2 stops serving every /v2/ path (keys, members, machines,
	// stats): they answer 404, as etcd 3.4 with --enable-v2=false.
	DisableV2 bool
	// CORS lists the origins allowed by cross-origin requests, as etcd's
	// --cors; "*" allows any. nil means {"*"}, etcd's default. Otherwise
	// writes from other origins are refused (origin.go).
	CORS []string
	// Metrics, if set, receives the request metrics (metrics.go) and is
	// served, with everything else registered in it, at GET /metrics.
	// Handlers may share one registry; they then share the metrics.
	Metrics *prometheus.Registry
	// HostWhitelist lists the host names a plain-HTTP request may name in
	// its Host header, as etcd's --host-whitelist; "*" allows any. nil
	// means {"*"}, etcd's default.
	HostWhitelist []string
	// SSEHeartbeat is how long an SSE watch (watch_sse.go) stays silent
	// before it sends a comment line. 0 means DefaultSSEHeartbeat.
	SSEHeartbeat time.Duration
	// UI, if set, is served at /ui and /ui/... (cmd/cairn passes the
	// dashboard, web.Handler, unless --enable-ui=false); without it those
	// paths answer 404. It passes the origin limits like every route.
	UI http.Handler
}

// api is the state every handler shares.
type api struct {
	b               Backend
	watcher         cairn.Watcher        // b, if it serves watches (watch.go)
	history         cairn.KeyHistory     // b, if it reads key histories (history.go)
	v2              V2Keys               // b, if it serves the v2 keys API (v2keys.go)
	v2m             cairn.V2Members      // b, if it lists members (v2members.go)
	v2s             cairn.V2Stats        // b, if it keeps v2 stats (v2stats.go)
	cluster         cairn.Cluster        // b, if it changes membership (cluster.go)
	ops             cairn.MaintenanceOps // b, if it serves maintenance (maintenance.go)
	learner         cairn.Learner        // b, if it can be a learner (learner.go)
	locks           *concurrency.Service // over b and watcher, if b watches (lock.go)
	auth            cairn.Auth           // b, if it serves /v3/auth (auth.go)
	authz           cairn.Authorizer     // b, if it checks requesters (authz.go)
	v2Watchers      atomic.Int64         // v2 waits open now
	log             *slog.Logger
	maxRequestBytes int64
	bodyLimit       int64
	clusterVersion  string
	healthTimeout   time.Duration
	sseHeartbeat    time.Duration
	origins         originPolicy // --cors and --host-whitelist (origin.go)
	version         []byte       // the body of GET /version
}

// New returns the HTTP handler of cairn's client API over b:
//
//	POST /v3/kv/range, /v3/kv/put, /v3/kv/deleterange, /v3/kv/txn,
//	     /v3/kv/compaction, /v3/maintenance/status   etcd's v3 gateway JSON
//	     (also under /v3beta/, as etcd 3.4 serves them)
//	POST /v3/kv/history                              one key's changes, newest
//	     first, when b is also a KeyHistory (history.go; cairn's own)
//	POST /v3/watch (+ websocket upgrade)             etcd's watch stream, when b
//	     is also a Watcher (watch_http.go)
//	GET  /v3/watch with Accept: text/event-stream    one watcher as Server-Sent
//	     Events (watch_sse.go)
//	POST /v3/lock/lock, /v3/lock/unlock              etcd's v3lock, when b is
//	     also a Watcher (lock.go)
//	GET, PUT, POST, DELETE /v2/keys/...              etcd 3.4's v2 keys API,
//	     when b is also a V2Keys (v2keys.go)
//	GET  /v2/members[/leader], /v2/machines          as etcd 3.4, when b is also
//	     a V2Members (v2members.go)
//	GET  /v2/stats/self, /v2/stats/leader, /v2/stats/store  as etcd 3.4, when
//	     b is also a V2Stats (v2stats.go)
//	GET  /version, /health                           as etcd 3.4
//	(no /v2/ path is served with Config.DisableV2)
//	GET  /metrics                                    Prometheus metrics, when
//	     Config.Metrics is set (metrics.go)
//	GET  /openapi.yaml                               the contract (cairn.OpenAPI)
//	GET  /ui/...                                     the dashboard, when Config.UI
//	     is set
//
// The wire format of each endpoint is etcd 3.4's, described in openapi.yaml
// and docs/api.md. The handler is safe for concurrent use.
func New(b Backend, cfg Config) http.Handler {
	a := &api{
		b:               b,
		log:             cfg.Logger,
		maxRequestBytes: cfg.MaxRequestBytes,
		clusterVersion:  cfg.ClusterVersion,
		healthTimeout:   cfg.HealthTimeout,
		sseHeartbeat:    cfg.SSEHeartbeat,
		origins:         newOriginPolicy(cfg.CORS, cfg.HostWhitelist),
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.maxRequestBytes <= 0 {
		a.maxRequestBytes = DefaultMaxRequestBytes
	}
	a.bodyLimit = bodyLimit(a.maxRequestBytes)
	if a.clusterVersion == "" {
		a.clusterVersion = cairn.APIVersion
	}
	if a.healthTimeout <= 0 {
		a.healthTimeout = DefaultHealthTimeout
	}
	if a.sseHeartbeat <= 0 {
		a.sseHeartbeat = DefaultSSEHeartbeat
	}
	a.version = a.versionBody()
	a.watcher, _ = b.(cairn.Watcher)
	a.history, _ = b.(cairn.KeyHistory)
	if a.watcher != nil {
		a.locks = concurrency.New(lockBackend{b, a.watcher})
	}
	if !cfg.DisableV2 {
		a.v2, _ = b.(V2Keys)
		a.v2m, _ = b.(cairn.V2Members)
		a.v2s, _ = b.(cairn.V2Stats)
	}
	a.ops, _ = b.(cairn.MaintenanceOps)
	a.cluster, _ = b.(cairn.Cluster)
	a.learner, _ = b.(cairn.Learner)
	a.auth, _ = b.(cairn.Auth)
	a.authz, _ = b.(cairn.Authorizer)
	no := a.notForLearner
	// g registers a v3 route with its policy (authz.go).
	g := func(p policy, h http.HandlerFunc) http.HandlerFunc { return a.guard(p, h) }

	r := chi.NewRouter()
	if cfg.Metrics != nil {
		var v2Watchers func() float64
		if a.v2 != nil {
			v2Watchers = func() float64 { return float64(a.v2Watchers.Load()) }
		}
		if m, err := newHTTPMetrics(cfg.Metrics, v2Watchers); err != nil {
			a.log.Error("request metrics not served", "err", err)
		} else {
			r.Use(m.instrument)
		}
		r.Method(http.MethodGet, "/metrics", metricsHandler(cfg.Metrics))
	}
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)
	for _, prefix := range []string{"/v3", "/v3beta"} {
		r.Post(prefix+"/kv/range", g(policyKeys, a.v3(a.kvRange)))
		r.Post(prefix+"/kv/put", g(policyKeys, no(a.v3(a.kvPut))))
		r.Post(prefix+"/kv/deleterange", g(policyKeys, no(a.v3(a.kvDeleteRange))))
		r.Post(prefix+"/kv/txn", g(policyKeys, no(a.v3(a.kvTxn))))
		r.Post(prefix+"/kv/compaction", g(policyAdmin, no(a.v3(a.kvCompact))))
		if a.history != nil {
			r.Post(prefix+"/kv/history", g(policyKeys, no(a.v3(a.kvHistory))))
		}
		r.Post(prefix+"/maintenance/status", g(policyPublic, a.v3(a.maintenanceStatus)))
		if a.ops != nil {
			r.Post(prefix+"/maintenance/alarm", g(policyAdmin, no(a.v3(a.maintenanceAlarm))))
			r.Post(prefix+"/maintenance/defragment", g(policyAdmin, no(a.v3(a.maintenanceDefragment))))
			r.Post(prefix+"/maintenance/hash", g(policyAdmin, no(a.v3(a.maintenanceHash))))
			r.Post(prefix+"/maintenance/hashkv", g(policyAdmin, no(a.v3(a.maintenanceHashKV))))
			r.Post(prefix+"/maintenance/snapshot", g(policyAdmin, a.streamNotForLearner(a.serveMaintenanceSnapshot)))
		}
		if a.watcher != nil {
			watch := g(policyKeys, a.streamNotForLearner(a.serveWatch))
			r.Post(prefix+"/watch", watch) // and a websocket upgrade:
			r.Get(prefix+"/watch", watch)
			r.Post(prefix+"/lock/lock", g(policyKeys, no(a.v3(a.lockLock))))
			r.Post(prefix+"/lock/unlock", g(policyKeys, no(a.v3(a.lockUnlock))))
		}
		r.Post(prefix+"/lease/grant", g(policyUser, no(a.v3(a.leaseGrant))))
		for _, p := range []string{prefix + "/lease", prefix + "/kv/lease"} {
			r.Post(p+"/revoke", g(policyKeys, no(a.v3(a.leaseRevoke))))
			r.Post(p+"/timetolive", g(policyKeys, no(a.v3(a.leaseTimeToLive))))
			r.Post(p+"/leases", g(policyUser, no(a.v3(a.leaseLeases))))
		}
		// and a websocket upgrade:
		r.HandleFunc(prefix+"/lease/keepalive", g(policyUser, a.streamNotForLearner(a.serveLeaseKeepAlive)))
		if a.cluster != nil {
			r.Post(prefix+"/cluster/member/list", g(policyUser, no(a.v3(a.memberList))))
			r.Post(prefix+"/cluster/member/add", g(policyAdmin, no(a.v3(a.memberAdd))))
			r.Post(prefix+"/cluster/member/remove", g(policyAdmin, no(a.v3(a.memberRemove))))
			r.Post(prefix+"/cluster/member/update", g(policyAdmin, no(a.v3(a.memberUpdate))))
			r.Post(prefix+"/cluster/member/promote", g(policyAdmin, no(a.v3(a.memberPromote))))
		}
		if a.auth != nil {
			a.authRoutes(r, prefix, g)
		}
	}
	if !cfg.DisableV2 && (a.v2m != nil || a.cluster != nil) {
		r.HandleFunc("/v2/members", a.v2AdminWrites(a.serveV2MembersRoot))
		r.HandleFunc("/v2/members/", a.v2AdminWrites(a.serveV2MembersRoot))
	}
	if !cfg.DisableV2 && a.cluster != nil {
		r.HandleFunc("/v2/members/*", a.v2AdminWrites(a.serveV2Member))
	}
	if a.v2 != nil {
		r.HandleFunc(v2KeysPrefix, a.serveV2Keys)
		r.HandleFunc(v2KeysPrefix+"/*", a.serveV2Keys)
	}
	if a.v2m != nil {
		r.HandleFunc("/v2/members/leader", getOnly(a.serveV2Leader))
		r.HandleFunc("/v2/machines", getOnly(a.serveV2Machines))
	}
	if a.v2s != nil {
		r.HandleFunc("/v2/stats/self", getOnly(a.serveV2StatsSelf))
		r.HandleFunc("/v2/stats/leader", getOnly(a.serveV2StatsLeader))
		r.HandleFunc("/v2/stats/store", getOnly(a.serveV2StatsStore))
	}
	r.HandleFunc("/version", getOnly(a.serveVersion))
	r.HandleFunc("/health", getOnly(a.serveHealth))
	r.HandleFunc("/openapi.yaml", getOnly(serveOpenAPI))
	if cfg.UI != nil {
		r.Handle("/ui", cfg.UI)
		r.Handle("/ui/*", cfg.UI)
	}
	return a.withOriginLimits(r)
}

// response is a v3 answer that writes itself as JSON.
type response interface {
	appendJSON(b []byte) []byte
}

// v3Func is one v3 endpoint: it decodes the request from d, calls the
// backend and returns the response or an error of cairn's vocabulary.
type v3Func func(ctx context.Context, d *decoder) (response, error)

// v3 is THE wrapper of v3 endpoints: it reads the body (within the limit),
// runs fn, and writes the response, or the error through writeV3Error.
func (a *api) v3(fn v3Func) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x := getExchange()
		defer putExchange(x)
		body, err := a.readBody(w, r, &x.in)
		if err != nil {
			a.writeV3Error(w, r, err)
			return
		}
		x.d = decoder{b: body}
		resp, err := fn(r.Context(), &x.d)
		if err != nil {
			a.writeV3Error(w, r, err)
			return
		}
		x.out = resp.appendJSON(x.out[:0])
		writeJSON(w, http.StatusOK, x.out)
	}
}

// exchange is the reusable state of one v3 request: the body, the decoder and
// the response buffer. Decoded requests never point into it (see decoder).
type exchange struct {
	in, out []byte
	d       decoder
}

var exchangePool = sync.Pool{New: func() any {
	return &exchange{in: make([]byte, 0, 4096), out: make([]byte, 0, 4096)}
}}

func getExchange() *exchange { return exchangePool.Get().(*exchange) }

// putExchange returns x to the pool unless its buffers grew large.
func putExchange(x *exchange) {
	x.d = decoder{}
	if cap(x.in) > maxPooledBuffer || cap(x.out) > maxPooledBuffer {
		return
	}
	x.in, x.out = x.in[:0], x.out[:0]
	exchangePool.Put(x)
}

// readBody reads the request body into buf, refusing one over a.bodyLimit
// with cairn.ErrRequestTooLarge. The content type is ignored, as etcd's
// gateway ignores it (curl -d sends a form type).
func (a *api) readBody(w http.ResponseWriter, r *http.Request, buf *[]byte) ([]byte, error) {
	if r.ContentLength > a.bodyLimit {
		w.Header().Set("Connection", "close")
		return nil, cairn.ErrRequestTooLarge
	}
	b := (*buf)[:0]
	// Size the buffer from Content-Length (+1: room to read io.EOF without
	// growing), but let a client that claims a large body and sends little
	// cost no more than maxPrealloc up front.
	if n := int(min(r.ContentLength, maxPrealloc)); n >= cap(b) {
		b = make([]byte, 0, n+1)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		*buf = b
		if int64(len(b)) > a.bodyLimit {
			w.Header().Set("Connection", "close")
			return nil, cairn.ErrRequestTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			// The gateway reports a body it cannot read like a bad one.
			return nil, &parseError{msg: err.Error()}
		}
	}
}

// Buffers for error bodies, reused across requests.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// maxPrealloc bounds the body buffer allocated before any byte arrives.
const maxPrealloc = 256 << 10

// maxPooledBuffer is the largest buffer kept for reuse; larger ones are left
// to the garbage collector.
const maxPooledBuffer = 64 << 10

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		*b = (*b)[:0]
		bufferPool.Put(b)
	}
}

// Header values shared by every response (net/http does not modify them).
var (
	headerJSON     = []string{"application/json"}
	headerText     = []string{"text/plain; charset=utf-8"}
	headerNosniff  = []string{"nosniff"}
	headerAnyOrig  = []string{"*"}
	headerCORSMeth = []string{"POST, GET, OPTIONS, PUT, DELETE"}
	headerCORSHead = []string{"accept, content-type, authorization"}
)

// writeJSON writes a complete JSON body with its status.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = headerJSON
	if len(body) >= 2048 { // net/http sets it itself for smaller bodies
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText writes a plain-text body as http.Error does.
func writeText(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h["Content-Type"] = headerText
	h["X-Content-Type-Options"] = headerNosniff
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// notFound answers an unknown path as etcd 3.4 does: its gateway answers
// "Not Found" under /v3/ and /v3beta/, Go's mux "404 page not found" elsewhere.
func notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v3/") || strings.HasPrefix(r.URL.Path, "/v3beta/") {
		writeText(w, http.StatusNotFound, "Not Found\n")
		return
	}
	writeText(w, http.StatusNotFound, "404 page not found\n")
}

// methodNotAllowed answers a v3 path with the wrong method as etcd's
// gateway does.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed\n")
}

// getOnly answers methods other than GET as etcd 3.4's /version and /health
// do (405 with "Allow: GET").
func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed\n")
			return
		}
		h(w, r)
	}
}

// errNoLeader is the reason a health check fails when the member knows no
// leader.
var errNoLeader = errors.New("no leader")
