package grpcapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/grpcapi"
	"github.com/cairnkv/cairn/internal/testmember"
	"github.com/cairnkv/cairn/server"
)

// The gRPC API over a real member (package server: raft, WAL, store), on a
// loopback listener, with etcd's own Go client.

var _ grpcapi.Backend = (*server.Server)(nil)

// serve serves the member's gRPC API on a loopback port and returns a
// clientv3 client of it.
func serve(t *testing.T, s *server.Server, cfg grpcapi.Config) *clientv3.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpcapi.New(s, cfg)
	go gs.Serve(l)
	t.Cleanup(func() { s.CloseWatches(); gs.Stop() })
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{l.Addr().String()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TestRequestTooLargeBoundary: etcd 3.4.23 accepts a 1572838-byte value
// under the key "foo" at the default --max-request-bytes and refuses one
// byte more (httpapi's TestMemberRequestTooLargeBoundary); so does the
// gRPC API.
func TestRequestTooLargeBoundary(t *testing.T) {
	cli := serve(t, testmember.Start(t, nil), grpcapi.Config{})
	ctx := context.Background()
	if _, err := cli.Put(ctx, "foo", strings.Repeat("x", 1572838)); err != nil {
		t.Errorf("a 1572838-byte value: %v; etcd accepts it", err)
	}
	if _, err := cli.Put(ctx, "foo", strings.Repeat("x", 1572839)); !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Errorf("a 1572839-byte value: %v; etcd answers %v", err, rpctypes.ErrRequestTooLarge)
	}
	txn := func(n int) error {
		_, err := cli.Txn(ctx).Then(clientv3.OpPut("foo", strings.Repeat("x", n))).Commit()
		return err
	}
	if err := txn(1572800); err != nil {
		t.Errorf("a txn under the limit: %v", err)
	}
	if err := txn(1572839); !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Errorf("a txn over the limit: %v", err)
	}
}

// TestErrorsAreEtcds: the member's errors reach clientv3 as etcd's, so
// its checks against rpctypes hold, and a bad request changes nothing.
func TestErrorsAreEtcds(t *testing.T) {
	cli := serve(t, testmember.Start(t, nil), grpcapi.Config{})
	ctx := context.Background()
	p1, err := cli.Put(ctx, "a", "1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "a", "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, p1.Header.Revision+1); err != nil {
		t.Fatal(err)
	}
	rev := p1.Header.Revision + 1
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"get below the compaction", get(cli, "a", clientv3.WithRev(p1.Header.Revision)), rpctypes.ErrCompacted},
		{"get from the future", get(cli, "a", clientv3.WithRev(rev+10)), rpctypes.ErrFutureRev},
		{"compact again", compact(cli, p1.Header.Revision), rpctypes.ErrCompacted},
		{"put without a key", put(cli, "", "v"), rpctypes.ErrEmptyKey},
		{"put with an unknown lease", put(cli, "b", "v", clientv3.WithLease(77)), rpctypes.ErrLeaseNotFound},
		{"put ignoring the value of no key", put(cli, "nokey", "", clientv3.WithIgnoreValue()), rpctypes.ErrKeyNotFound},
		{"txn writing a key twice", txn(cli, clientv3.OpPut("k", "1"), clientv3.OpPut("k", "2")), rpctypes.ErrDuplicateKey},
		{"revoke of no lease", revoke(cli, 99), rpctypes.ErrLeaseNotFound},
		{"grant of a lease in use", grantTwice(cli, 5), rpctypes.ErrLeaseExist},
		{"grant too long", grant(cli, 9000000001), rpctypes.ErrLeaseTTLTooLarge},
		{"remove of no member", removeMember(cli, 42), rpctypes.ErrMemberNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	r, err := cli.Get(ctx, "\x00", clientv3.WithFromKey())
	if err != nil || r.Header.Revision != rev || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "2" {
		t.Errorf("after the refusals: %+v (%v); want revision %d and a=2 alone", r, err, rev)
	}
}

func get(cli *clientv3.Client, k string, opts ...clientv3.OpOption) error {
	_, err := cli.Get(context.Background(), k, opts...)
	return err
}

func put(cli *clientv3.Client, k, v string, opts ...clientv3.OpOption) error {
	_, err := cli.Put(context.Background(), k, v, opts...)
	return err
}

func compact(cli *clientv3.Client, rev int64) error {
	_, err := cli.Compact(context.Background(), rev)
	return err
}

func txn(cli *clientv3.Client, ops ...clientv3.Op) error {
	_, err := cli.Txn(context.Background()).Then(ops...).Commit()
	return err
}

func revoke(cli *clientv3.Client, id clientv3.LeaseID) error {
	_, err := cli.Revoke(context.Background(), id)
	return err
}

func grant(cli *clientv3.Client, ttl int64) error {
	_, err := cli.Grant(context.Background(), ttl)
	return err
}

// grantTwice grants lease id twice through the raw Lease service (clientv3
// lets the server pick ids).
func grantTwice(cli *clientv3.Client, id int64) error {
	lc := pb.NewLeaseClient(cli.ActiveConnection())
	if _, err := lc.LeaseGrant(context.Background(), &pb.LeaseGrantRequest{TTL: 60, ID: id}); err != nil {
		return err
	}
	_, err := lc.LeaseGrant(context.Background(), &pb.LeaseGrantRequest{TTL: 60, ID: id})
	return rpctypes.Error(err)
}

func removeMember(cli *clientv3.Client, id uint64) error {
	_, err := cli.MemberRemove(context.Background(), id)
	return err
}

// processCPU is the CPU time (user and system) the test process used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTransport compares the two ways cmd/cairn can serve gRPC on a
// plain client port: grpc-go's own HTTP/2 transport (Serve on the
// connections cmux hands it, what cmd/cairn does) and net/http's HTTP/2
// (h2c) in front of the server's ServeHTTP (what it does over TLS). Each
// op is one serializable KV.Range of one key (no raft round), 64 callers
// over 4 connections; client and server share the process, so cpu-µs/op
// counts both sides.
func BenchmarkTransport(b *testing.B) {
	s := testmember.Start(b, nil)
	if _, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte("bench"), Value: []byte("v")}); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"native", "ServeHTTP"} {
		b.Run(mode, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			gs := grpcapi.New(s, grpcapi.Config{})
			if mode == "native" {
				go gs.Serve(l)
				defer gs.Stop()
			} else {
				hs := &http.Server{Handler: gs, Protocols: new(http.Protocols)}
				hs.Protocols.SetUnencryptedHTTP2(true)
				go hs.Serve(l)
				defer hs.Close()
			}
			var conns []pb.KVClient
			for i := 0; i < 4; i++ {
				cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					b.Fatal(err)
				}
				defer cc.Close()
				conns = append(conns, pb.NewKVClient(cc))
			}
			var mu sync.Mutex
			next := 0
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			defer func() {
				// The machine is shared: CPU per op says more than time.
				b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			}()
			b.RunParallel(func(pbb *testing.PB) {
				mu.Lock()
				kv := conns[next%len(conns)]
				next++
				mu.Unlock()
				req := &pb.RangeRequest{Key: []byte("bench"), Serializable: true}
				for pbb.Next() {
					if _, err := kv.Range(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
