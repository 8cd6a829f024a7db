package grpcapi

import (
	"context"
	"log/slog"
	"math"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	"github.com/cairnkv/cairn"
)

// DefaultMaxRequestBytes is etcd's default --max-request-bytes (1.5 MiB).
const DefaultMaxRequestBytes = 1572864

// grpcOverheadBytes is the slack etcd adds to --max-request-bytes for the
// largest message its gRPC server receives (embed.grpcOverheadBytes).
const grpcOverheadBytes = 512 * 1024

// Backend is everything the gRPC API needs from a member: the KV,
// maintenance status and lease services of the contract, as httpapi's
// Backend. The Watch, Cluster and the other Maintenance calls are served
// when the Backend also implements cairn.Watcher, cairn.Cluster and
// cairn.MaintenanceOps; a cairn.Learner refuses what etcd's learners
// refuse.
type Backend interface {
	cairn.KV
	cairn.Maintenance
	cairn.Lease
}

// Config is the server options etcd derives from its flags. The zero
// value is etcd's defaults.
type Config struct {
	// MaxRequestBytes is --max-request-bytes: the largest write, measured
	// as etcd measures it (the protobuf size of the raft entry it
	// proposes); the largest message received is 512 KiB more, as etcd's.
	// 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxConcurrentStreams is --max-concurrent-streams, the streams (calls)
	// one client connection may have open. 0 means etcd's default,
	// math.MaxUint32.
	MaxConcurrentStreams uint32
	// KeepaliveMinTime is --grpc-keepalive-min-time: a client that pings
	// more often is told to go away. 0 means etcd's 5s.
	KeepaliveMinTime time.Duration
	// KeepaliveInterval is --grpc-keepalive-interval: how long a
	// connection may be idle before the server pings it. 0 means etcd's
	// 2h.
	KeepaliveInterval time.Duration
	// KeepaliveTimeout is --grpc-keepalive-timeout: how long the server
	// waits for the answer to its ping before closing the connection. 0
	// means etcd's 20s.
	KeepaliveTimeout time.Duration
	// Logger receives internal errors (never ordinary client errors). nil
	// means slog.Default().
	Logger *slog.Logger
}

// api is the state every service shares.
type api struct {
	b       Backend
	watcher cairn.Watcher        // b, if it serves watches (watch.go)
	cluster cairn.Cluster        // b, if it changes membership (cluster.go)
	ops     cairn.MaintenanceOps // b, if it serves maintenance (maintenance.go)
	learner cairn.Learner        // b, if it can be a learner
	log     *slog.Logger

	maxRequestBytes int64 // --max-request-bytes (kv.go)
}

// status maps err to etcd's gRPC status (errors.go).
func (a *api) status(method string, err error) error { return toStatus(a.log, method, err) }

// New returns a gRPC server of etcd's services over b: KV, Lease and
// Maintenance always; Watch when b is a cairn.Watcher; Cluster when b is
// a cairn.Cluster. Each service lives in its own file (kv.go, watch.go,
// lease.go, cluster.go, maintenance.go); a new one (Auth, v3lock,
// v3election) is one more file and one line here.
//
// The server is not serving yet: the caller hands it a listener (Serve,
// for connections that speak HTTP/2 from their first byte) or routes
// HTTP/2 requests with content-type application/grpc to its ServeHTTP
// (over TLS, where the JSON API shares HTTP/2), as etcd does. cmd/cairn
// does both.
func New(b Backend, cfg Config) *grpc.Server {
	a := &api{b: b, log: cfg.Logger, maxRequestBytes: cfg.MaxRequestBytes}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.maxRequestBytes <= 0 {
		a.maxRequestBytes = DefaultMaxRequestBytes
	}
	a.watcher, _ = b.(cairn.Watcher)
	a.cluster, _ = b.(cairn.Cluster)
	a.ops, _ = b.(cairn.MaintenanceOps)
	a.learner, _ = b.(cairn.Learner)

	s := grpc.NewServer(a.serverOptions(cfg)...)
	pb.RegisterKVServer(s, kvServer{a})
	pb.RegisterLeaseServer(s, leaseServer{a})
	pb.RegisterMaintenanceServer(s, maintenanceServer{api: a, UnimplementedMaintenanceServer: &pb.UnimplementedMaintenanceServer{}})
	if a.watcher != nil {
		pb.RegisterWatchServer(s, watchServer{a})
	}
	if a.cluster != nil {
		pb.RegisterClusterServer(s, clusterServer{a})
	}
	return s
}

// serverOptions are etcd's (v3rpc.Server): the receive limit, unlimited
// sends, the stream limit, the keepalive policy and parameters, and the
// interceptors that refuse what a learner does not serve and streams that
// require a leader when there is none.
func (a *api) serverOptions(cfg Config) []grpc.ServerOption {
	maxReq := a.maxRequestBytes
	streams := cfg.MaxConcurrentStreams
	if streams == 0 {
		streams = math.MaxUint32
	}
	minTime, interval, timeout := cfg.KeepaliveMinTime, cfg.KeepaliveInterval, cfg.KeepaliveTimeout
	if minTime <= 0 {
		minTime = 5 * time.Second
	}
	if interval <= 0 {
		interval = 2 * time.Hour
	}
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(maxReq + grpcOverheadBytes)),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(streams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: minTime}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: interval, Timeout: timeout}),
		grpc.UnaryInterceptor(a.unaryInterceptor),
		grpc.StreamInterceptor(a.streamInterceptor),
	}
}

// unaryInterceptor refuses, on a learner, every call but Status and
// serializable ranges (etcd's isRPCSupportedForLearner).
func (a *api) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if a.learner != nil && a.learner.IsLearner() {
		switch r := req.(type) {
		case *pb.StatusRequest:
		case *pb.RangeRequest:
			if !r.Serializable {
				return nil, rpctypes.ErrGPRCNotSupportedForLearner
			}
		default:
			return nil, rpctypes.ErrGPRCNotSupportedForLearner
		}
	}
	return h(ctx, req)
}

// streamInterceptor refuses every stream on a learner, and a stream whose
// client asked for a leader (metadata hasleader=true, clientv3's
// WithRequireLeader; its keepalive streams do) when the member knows none,
// as etcd's stream interceptor.
func (a *api) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if a.learner != nil && a.learner.IsLearner() {
		return rpctypes.ErrGPRCNotSupportedForLearner
	}
	if md, ok := metadata.FromIncomingContext(ss.Context()); ok {
		if v := md.Get(rpctypes.MetadataRequireLeaderKey); len(v) > 0 && v[0] == rpctypes.MetadataHasLeader {
			if st, err := a.b.Status(ss.Context()); err == nil && st.Leader == 0 {
				return rpctypes.ErrGRPCNoLeader
			}
		}
	}
	return h(srv, ss)
}

// answer is the end of every unary call: the contract's error as etcd's
// gRPC status, or the response converted to etcd's message.
func answer[R, P any](a *api, method string, resp R, err error, conv func(R) P) (P, error) {
	if err != nil {
		var none P
		return none, a.status(method, err)
	}
	return conv(resp), nil
}
