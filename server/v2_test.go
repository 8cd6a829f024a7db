package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/lessor"
	"github.com/cairnkv/cairn/v2store"
)

// TestV2ThroughRaft: v2 writes go through raft as one revision each, their
// errors come back as *v2store.Error with nothing written, a restart
// replays them from the log, and v3 reads see the same keys.
func TestV2ThroughRaft(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.V2Prefix = "/v2"
	s := mustStart(t, cfg)
	ctx := context.Background()

	ev, err := s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPut, Path: "/a/b", Value: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action != "set" || !ev.Created || ev.Node.Key != "/a/b" || *ev.Node.Value != "1" {
		t.Fatalf("set: %+v", ev)
	}
	rev := ev.Index
	if kv := mustGet(t, s, "/v2/a/b"); string(kv.Value) != "1" || kv.ModRevision != rev {
		t.Fatalf("v3 sees %+v, want value 1 at revision %d", kv, rev)
	}
	if kv := mustGet(t, s, "/v2/a"); !kv.Dir || kv.ModRevision != rev {
		t.Fatalf("v3 sees the dir as %+v", kv)
	}

	_, err = s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPut, Path: "/a/b/c", Value: "x"})
	var v2err *v2store.Error
	if !errors.As(err, &v2err) || v2err.Code != v2store.EcodeNotDir || v2err.Cause != "/a/b" || v2err.Index != rev {
		t.Fatalf("write under a file: %v, want 104 /a/b at %d", err, rev)
	}

	// A form value need not be UTF-8: its bytes are what v3 reads.
	if _, err := s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPut, Path: "/bin", Value: "\xff\x00\xfe"}); err != nil {
		t.Fatal(err)
	}
	if kv := mustGet(t, s, "/v2/bin"); string(kv.Value) != "\xff\x00\xfe" {
		t.Fatalf("v3 sees the bytes %x, want ff00fe", kv.Value)
	}
	if _, err := s.V2Write(ctx, &v2store.Request{Method: v2store.MethodDelete, Path: "/bin"}); err != nil {
		t.Fatal(err)
	}
	rev = s.store.Rev()

	ev, err = s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPost, Path: "/q", Value: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Node.Key != "/q/"+ordered(rev+1) {
		t.Fatalf("in-order key %q", ev.Node.Key)
	}

	for _, quorum := range []bool{false, true} {
		got, err := s.V2Get(ctx, "/", true, quorum)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Node.Nodes) != 2 || got.Node.Nodes[0].Key != "/a" || got.Node.Nodes[1].Nodes[0].Key != ev.Node.Key {
			t.Fatalf("GET / recursive (quorum %v): %+v", quorum, got.Node.Nodes)
		}
		if got.Index != s.store.Rev() {
			t.Fatalf("GET index %d, want %d", got.Index, s.store.Rev())
		}
	}
	if h := s.V2Header(); h.ClusterID == 0 || h.RaftTerm == 0 || h.RaftIndex == 0 {
		t.Fatalf("V2Header %+v", h)
	}

	// Restart: the store and the log give the same tree.
	s.Close()
	s2 := mustStart(t, cfg)
	got, err := s2.V2Get(ctx, "/q", false, true)
	if err != nil || len(got.Node.Nodes) != 1 || *got.Node.Nodes[0].Value != "x" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if _, err := s2.V2Get(ctx, "/nope", false, false); !errors.As(err, &v2err) || v2err.Code != v2store.EcodeKeyNotFound {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s2.Range(ctx, &cairn.RangeRequest{Key: []byte("/a/b")}); err != nil {
		t.Fatal(err)
	}
}

func ordered(rev int64) string { return fmtRev(rev) }

func fmtRev(rev int64) string {
	s := []byte("00000000000000000000")
	for i := len(s) - 1; rev > 0; i-- {
		s[i] = byte('0' + rev%10)
		rev /= 10
	}
	return string(s)
}

// TestV2TTLExpires: a v2 TTL runs on the leader's lessor: the response
// shows expiration and ttl, and when the time is up the file goes, and a
// directory goes with everything under it; a node without TTL stays.
func TestV2TTLExpires(t *testing.T) {
	clock := lessor.NewManualClock()
	s := mustStartPrimary(t, leaseConfig(t.TempDir(), clock))
	ctx := context.Background()
	ttl := func(n int64) *int64 { return &n }
	ev, err := s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPut, Path: "/f", Value: "v", TTL: ttl(5)})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Node.TTL != 5 || ev.Node.Expiration == nil {
		t.Fatalf("ttl'd set: ttl %d expiration %v, want 5 and a time", ev.Node.TTL, ev.Node.Expiration)
	}
	if _, err := s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPut, Path: "/d", Dir: true, TTL: ttl(5)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/d/x/y", "/keep"} {
		if _, err := s.V2Write(ctx, &v2store.Request{Method: v2store.MethodPut, Path: p, Value: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.V2Get(ctx, "/d", false, true)
	if err != nil || got.Node.TTL < 1 || got.Node.TTL > 5 {
		t.Fatalf("GET /d: %+v %v", got, err)
	}
	clock.Advance(6 * time.Second)
	waitUntil(t, "the TTLs run out", func() bool {
		_, errF := s.V2Get(ctx, "/f", false, true)
		_, errD := s.V2Get(ctx, "/d/x/y", false, true)
		return errF != nil && errD != nil
	})
	root, err := s.V2Get(ctx, "/", true, true)
	if err != nil || len(root.Node.Nodes) != 1 || root.Node.Nodes[0].Key != "/keep" {
		t.Fatalf("after expiry: %+v %v", root.Node.Nodes, err)
	}
}
