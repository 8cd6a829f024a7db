package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnkv/cairn/internal/testcerts"
)

// clientv3For connects clientv3 to one member, with tlsCfg for https.
func clientv3For(t *testing.T, url string, tlsCfg *tls.Config) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second, TLS: tlsCfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// nextWatch returns the next response of ch.
func nextWatch(t *testing.T, ch clientv3.WatchChan) clientv3.WatchResponse {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("the watch channel closed")
		}
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no watch response in 20s")
	}
	return clientv3.WatchResponse{}
}

// TestGRPCWatchStreams: clientv3's watchers over the gRPC Watch stream —
// several on one stream, progress notifications (periodic and asked for),
// fragments of a large revision, cancel, and a watcher from a compacted
// revision.
func TestGRPCWatchStreams(t *testing.T) {
	m := startMember(t, t.TempDir(), "--experimental-watch-progress-notify-interval", "200ms", "--max-request-bytes", "10000")
	cli := clientv3For(t, m.url, nil)
	ctx := context.Background()

	// clientv3 puts the watchers of one context on one gRPC stream.
	wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	a := cli.Watch(wctx, "/w/a")
	all := cli.Watch(wctx, "/w/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	prog := cli.Watch(wctx, "/p", clientv3.WithProgressNotify())
	if _, err := cli.Put(ctx, "/w/a", "1"); err != nil {
		t.Fatal(err)
	}
	put, err := cli.Put(ctx, "/w/a", "2")
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []clientv3.WatchChan{a, all} {
		var got []string
		for len(got) < 2 {
			for _, ev := range nextWatch(t, ch).Events {
				got = append(got, fmt.Sprintf("%s %s=%s", ev.Type, ev.Kv.Key, ev.Kv.Value))
			}
		}
		if strings.Join(got, ",") != "PUT /w/a=1,PUT /w/a=2" {
			t.Errorf("events: %v", got)
		}
	}
	r := nextWatch(t, prog)
	if !r.IsProgressNotify() || r.Header.Revision != put.Header.Revision {
		t.Errorf("periodic progress: %+v, want a progress notification at revision %d", r, put.Header.Revision)
	}
	if err := cli.RequestProgress(wctx); err != nil {
		t.Fatal(err)
	}

	// A revision of 4 puts of 2400-byte values fits --max-request-bytes,
	// but with the previous values its events are twice that: a
	// fragmenting watcher gets the revision whole, in pieces.
	var ops []clientv3.Op
	for i := 0; i < 4; i++ {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("/f/%d", i), strings.Repeat("x", 2400)))
	}
	first, err := cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		t.Fatal(err)
	}
	frag := cli.Watch(ctx, "/f/", clientv3.WithPrefix(), clientv3.WithFragment(), clientv3.WithPrevKV(),
		clientv3.WithRev(first.Header.Revision+1))
	if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
		t.Fatal(err)
	}
	if r := nextWatch(t, frag); len(r.Events) != 4 || r.Events[3].PrevKv == nil {
		t.Errorf("fragmented revision: %d events in the response, want the 4 put with their previous values", len(r.Events))
	}

	// Cancel: the watchers of the canceled context end.
	wcancel()
	for _, ch := range []clientv3.WatchChan{a, all, prog} {
		for range ch {
		}
	}

	// Compacted: a watcher from below the compaction ends with it.
	if _, err := cli.Compact(ctx, put.Header.Revision); err != nil {
		t.Fatal(err)
	}
	old := cli.Watch(ctx, "/w/a", clientv3.WithRev(put.Header.Revision-1))
	r = nextWatch(t, old)
	if r.CompactRevision != put.Header.Revision || !errors.Is(r.Err(), rpctypes.ErrCompacted) {
		t.Errorf("watch from a compacted revision: %+v (%v)", r, r.Err())
	}
}

// TestGRPCLimits: --max-request-bytes holds gRPC writes as etcd holds
// them (the member's "request is too large"; a message over the limit +
// 512 KiB is refused by gRPC itself), and --max-concurrent-streams and the
// keepalive flags are taken.
func TestGRPCLimits(t *testing.T) {
	m := startMember(t, t.TempDir(), "--max-request-bytes", "10000", "--max-concurrent-streams", "8",
		"--grpc-keepalive-min-time", "1s", "--grpc-keepalive-interval", "1m", "--grpc-keepalive-timeout", "5s")
	cli := clientv3For(t, m.url, nil)
	ctx := context.Background()
	if _, err := cli.Put(ctx, "small", strings.Repeat("x", 9000)); err != nil {
		t.Errorf("a put under --max-request-bytes: %v", err)
	}
	if _, err := cli.Put(ctx, "big", strings.Repeat("x", 20000)); !errors.Is(err, rpctypes.ErrRequestTooLarge) {
		t.Errorf("a put over --max-request-bytes: %v, want rpctypes.ErrRequestTooLarge", err)
	}
	if _, err := cli.Put(ctx, "huge", strings.Repeat("x", 600000)); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a message over the gRPC limit: %v, want ResourceExhausted", err)
	}
	if r, err := cli.Get(ctx, "", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil || r.Count != 1 {
		t.Errorf("after the refusals: %v keys, %v; want the one small key", r.Count, err)
	}
}

// TestGRPCOverTLS: over https the client port serves gRPC (HTTP/2, ALPN
// h2) and the JSON API side by side, with client certificates required.
func TestGRPCOverTLS(t *testing.T) {
	s := newTLSSetup(t)
	m := &member{t: t, dataDir: t.TempDir(), args: s.memberFlags(t, "m0"), client: s.http}
	t.Cleanup(m.kill9)
	m.start()
	cli := clientv3For(t, m.url, testcerts.ClientConfig(t, s.ca, s.client))
	ctx := context.Background()
	put, err := cli.Put(ctx, "/tls/grpc", "v")
	if err != nil {
		t.Fatalf("clientv3 put over TLS: %v", err)
	}
	r, err := m.rangeKey(ctx, "/tls/grpc")
	if err != nil || len(r.Kvs) != 1 || r.Header.Revision != fmt.Sprint(put.Header.Revision) {
		t.Fatalf("JSON range over TLS after a gRPC put: %+v %v", r, err)
	}
	// The JSON API over HTTP/2 as well (a client that offers h2).
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: testcerts.ClientConfig(t, s.ca, s.client), ForceAttemptHTTP2: true}}
	resp, err := h2.Post(m.url+"/v3/kv/range", "application/json", strings.NewReader(`{"key":"L3Rscy9ncnBj"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("JSON range over TLS with h2: %d %s", resp.StatusCode, resp.Proto)
	}
	// A gRPC client without a certificate is refused.
	bare, err := clientv3.New(clientv3.Config{Endpoints: []string{m.url}, DialTimeout: 2 * time.Second,
		TLS: &tls.Config{RootCAs: s.ca.Pool()}, Logger: zap.NewNop()})
	if err == nil {
		defer bare.Close()
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := bare.Get(cctx, "/tls/grpc"); err == nil {
			t.Error("a gRPC client without a certificate was answered")
		}
	}
}
