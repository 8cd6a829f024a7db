package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/lessor"
)

// leaseConfig is testConfig with a manual lease clock and a fast expiry
// check.
func leaseConfig(dir string, clock lessor.Clock) Config {
	cfg := testConfig(dir)
	cfg.LeaseClock = clock
	cfg.LeaseCheckInterval = 5 * time.Millisecond
	return cfg
}

// mustStartPrimary starts a member and waits until its lessor times leases
// (it leads and applied its first entry).
func mustStartPrimary(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := mustStart(tb, cfg)
	waitUntil(tb, "the lessor becomes primary", func() bool {
		p, _ := s.lessor.IsPrimary()
		return p
	})
	return s
}

// waitUntil polls cond; the bound only turns a hang into a failure.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not after 30s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func mustGrant(tb testing.TB, s *Server, id, ttl int64) *cairn.LeaseGrantResponse {
	tb.Helper()
	resp, err := s.LeaseGrant(context.Background(), &cairn.LeaseGrantRequest{ID: id, TTL: ttl})
	if err != nil {
		tb.Fatalf("grant %d ttl %d: %v", id, ttl, err)
	}
	return resp
}

func mustPutLease(tb testing.TB, s *Server, key string, lease int64) *cairn.PutResponse {
	tb.Helper()
	resp, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte(key), Value: []byte("v"), Lease: lease})
	if err != nil {
		tb.Fatalf("put %s lease %d: %v", key, lease, err)
	}
	return resp
}

func mustTTL(tb testing.TB, s *Server, id int64, keys bool) *cairn.LeaseTimeToLiveResponse {
	tb.Helper()
	resp, err := s.LeaseTimeToLive(context.Background(), &cairn.LeaseTimeToLiveRequest{ID: id, Keys: keys})
	if err != nil {
		tb.Fatalf("timetolive %d: %v", id, err)
	}
	return resp
}

func mustKeepAlive(tb testing.TB, s *Server, id int64) int64 {
	tb.Helper()
	resp, err := s.LeaseKeepAlive(context.Background(), &cairn.LeaseKeepAliveRequest{ID: id})
	if err != nil {
		tb.Fatalf("keepalive %d: %v", id, err)
	}
	if resp.ID != id {
		tb.Fatalf("keepalive %d answered for %d", id, resp.ID)
	}
	return resp.TTL
}

// countKeys counts the keys in [from, to) at the current revision.
func countKeys(tb testing.TB, s *Server, from, to string) int64 {
	tb.Helper()
	resp, err := s.Range(context.Background(), &cairn.RangeRequest{Key: []byte(from), RangeEnd: []byte(to), CountOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	return resp.Count
}

func keyStrings(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

func TestMinLeaseTTL(t *testing.T) {
	for _, c := range []struct {
		election, heartbeat time.Duration
		want                int64
	}{
		{time.Second, 100 * time.Millisecond, 2}, // etcd's defaults: 1.5s -> 2
		{100 * time.Millisecond, 10 * time.Millisecond, 1},
		{2 * time.Second, 100 * time.Millisecond, 3},
		{5 * time.Second, 500 * time.Millisecond, 8}, // 15 ticks of 500ms: 7.5s -> 8
		{time.Second, 300 * time.Millisecond, 2},     // 3 ticks: (3*3)/2 = 4 ticks, 1.2s -> 2
	} {
		if got := lessor.MinTTL(c.election, c.heartbeat); got != c.want {
			t.Errorf("lessor.MinTTL(%v, %v) = %d, want %d", c.election, c.heartbeat, got, c.want)
		}
	}
}

// TestLeaseGrantRules: etcd's rules for the TTL and the ID of a grant.
func TestLeaseGrantRules(t *testing.T) {
	cfg := leaseConfig(t.TempDir(), lessor.NewManualClock())
	cfg.ElectionTimeout, cfg.HeartbeatInterval = time.Second, 100*time.Millisecond // etcd's: minimum TTL 2
	s := mustStartPrimary(t, cfg)
	if s.MinLeaseTTL() != 2 {
		t.Fatalf("MinLeaseTTL %d, want 2", s.MinLeaseTTL())
	}
	for _, ttl := range []int64{-5, 0, 1} {
		if r := mustGrant(t, s, 0, ttl); r.TTL != 2 || r.ID <= 0 {
			t.Errorf("grant TTL %d: ID %d TTL %d; want a positive ID and TTL 2", ttl, r.ID, r.TTL)
		}
	}
	if r := mustGrant(t, s, 0, cairn.MaxLeaseTTL); r.TTL != cairn.MaxLeaseTTL {
		t.Errorf("grant TTL max: TTL %d", r.TTL)
	}
	rev := s.store.Rev()
	_, err := s.LeaseGrant(context.Background(), &cairn.LeaseGrantRequest{TTL: cairn.MaxLeaseTTL + 1})
	if !errors.Is(err, cairn.ErrLeaseTTLTooLarge) {
		t.Errorf("grant above the maximum TTL: %v", err)
	}
	if r := mustGrant(t, s, 5, 10); r.ID != 5 || r.TTL != 10 || r.Header.Revision != rev || r.Header.MemberID != s.MemberID() {
		t.Errorf("grant ID 5: %+v", r)
	}
	if _, err := s.LeaseGrant(context.Background(), &cairn.LeaseGrantRequest{ID: 5, TTL: 20}); !errors.Is(err, cairn.ErrLeaseExists) {
		t.Errorf("grant of an existing ID: %v", err)
	}
	if r := mustGrant(t, s, -3, 10); r.ID != -3 {
		t.Errorf("grant of a negative ID: %+v", r)
	}
	// Server-picked IDs are distinct.
	seen := map[int64]bool{}
	for i := 0; i < 50; i++ {
		r := mustGrant(t, s, 0, 10)
		if seen[r.ID] || r.ID <= 0 {
			t.Fatalf("picked ID %d twice or not positive", r.ID)
		}
		seen[r.ID] = true
	}
	// A client-chosen ID that equals the next picked one: the apply moves
	// the picked one along instead of failing.
	next := int64(s.ids.Next()&(1<<63-1)) + 1
	mustGrant(t, s, next, 10)
	if r := mustGrant(t, s, 0, 10); r.ID == next || r.ID <= 0 {
		t.Fatalf("picked ID %d clashes with the client's %d", r.ID, next)
	}
	leases, err := s.LeaseLeases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(leases.Leases) != 3+1+2+50+2 || !slices.IsSortedFunc(leases.Leases, func(a, b cairn.LeaseStatus) int { return cmp.Compare(a.ID, b.ID) }) {
		t.Fatalf("leases lists %d leases", len(leases.Leases))
	}
}

// TestLeaseExpiryDeletesKeysInOneRevision: the leader revokes an expired
// lease through raft; its keys go in one revision, other keys stay.
func TestLeaseExpiryDeletesKeysInOneRevision(t *testing.T) {
	clock := lessor.NewManualClock()
	s := mustStartPrimary(t, leaseConfig(t.TempDir(), clock))
	id := mustGrant(t, s, 0, 5).ID
	other := mustGrant(t, s, 0, 60).ID
	for _, k := range []string{"c", "a", "b"} {
		mustPutLease(t, s, k, id)
	}
	mustPutLease(t, s, "o", other)
	mustPut(t, s, "plain", "v")
	before := s.store.Rev()

	clock.Advance(4 * time.Second)
	if r := mustTTL(t, s, id, true); r.TTL != 1 || r.GrantedTTL != 5 || !slices.Equal(keyStrings(r.Keys), []string{"a", "b", "c"}) {
		t.Fatalf("timetolive 4s after the grant: %+v", r)
	}
	clock.Advance(time.Second)
	waitUntil(t, "the lease expires", func() bool { return !s.lessor.Exists(id) })

	if rev := s.store.Rev(); rev != before+1 {
		t.Fatalf("revision %d after the expiry, want %d (one revision)", rev, before+1)
	}
	if n := countKeys(t, s, "a", "d"); n != 0 {
		t.Fatalf("%d keys of the lease left", n)
	}
	resp, err := s.Range(context.Background(), &cairn.RangeRequest{Key: []byte("a"), RangeEnd: []byte("d"), Revision: before})
	if err != nil || len(resp.Kvs) != 3 {
		t.Fatalf("the keys at the revision before the expiry: %v %v", resp, err)
	}
	if countKeys(t, s, "o", "p") != 1 || countKeys(t, s, "plain", "plaio") != 1 {
		t.Fatal("keys of another lease or of none were deleted")
	}
	if r := mustTTL(t, s, id, true); r.TTL != -1 || r.GrantedTTL != 0 || len(r.Keys) != 0 {
		t.Fatalf("timetolive of the expired lease: %+v", r)
	}
	if ttl := mustKeepAlive(t, s, id); ttl != 0 {
		t.Fatalf("keepalive of the expired lease: TTL %d", ttl)
	}
	if _, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte("x"), Lease: id}); !errors.Is(err, cairn.ErrLeaseNotFound) {
		t.Fatalf("put with the expired lease: %v", err)
	}
}

func TestLeaseKeepAliveExtends(t *testing.T) {
	clock := lessor.NewManualClock()
	s := mustStartPrimary(t, leaseConfig(t.TempDir(), clock))
	id := mustGrant(t, s, 0, 10).ID
	mustPutLease(t, s, "k", id)
	for i := 0; i < 3; i++ {
		clock.Advance(8 * time.Second)
		if ttl := mustKeepAlive(t, s, id); ttl != 10 {
			t.Fatalf("keepalive %d: TTL %d, want 10", i, ttl)
		}
	}
	// 24s after a 10s grant, the lease lives: 10s from the last keepalive.
	if r := mustTTL(t, s, id, false); r.TTL != 10 {
		t.Fatalf("timetolive right after a keepalive: %d", r.TTL)
	}
	clock.Advance(9 * time.Second)
	if r := mustTTL(t, s, id, false); r.TTL != 1 {
		t.Fatalf("timetolive 9s after the keepalive: %d", r.TTL)
	}
	if countKeys(t, s, "k", "l") != 1 {
		t.Fatal("key gone before its lease expired")
	}
	clock.Advance(time.Second)
	waitUntil(t, "the lease expires", func() bool { return countKeys(t, s, "k", "l") == 0 })
}

// TestLeaseRenewOfExpiredLease: a keepalive that arrives after the lease's
// time is up does not bring it back; it is answered once the revoke is
// applied, with TTL 0.
func TestLeaseRenewOfExpiredLease(t *testing.T) {
	clock := lessor.NewManualClock()
	s := mustStartPrimary(t, leaseConfig(t.TempDir(), clock))
	id := mustGrant(t, s, 0, 3).ID
	mustPutLease(t, s, "k", id)
	clock.Advance(3 * time.Second)
	if ttl := mustKeepAlive(t, s, id); ttl != 0 {
		t.Fatalf("keepalive at the expiry: TTL %d, want 0", ttl)
	}
	if countKeys(t, s, "k", "l") != 0 {
		t.Fatal("keepalive answered before the expired lease's keys were deleted")
	}
}

func TestLeaseRevoke(t *testing.T) {
	s := mustStartPrimary(t, leaseConfig(t.TempDir(), lessor.NewManualClock()))
	id := mustGrant(t, s, 0, 60).ID
	mustPutLease(t, s, "a", id)
	mustPutLease(t, s, "b", id)
	rev := s.store.Rev()
	resp, err := s.LeaseRevoke(context.Background(), &cairn.LeaseRevokeRequest{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Revision != rev+1 || resp.Header.MemberID != s.MemberID() || resp.Header.RaftTerm == 0 {
		t.Fatalf("revoke header %+v, want revision %d", resp.Header, rev+1)
	}
	if countKeys(t, s, "a", "c") != 0 {
		t.Fatal("keys left after the revoke")
	}
	if s.lessor.Exists(id) {
		t.Fatal("the lessor still knows the revoked lease")
	}
	if _, err := s.LeaseRevoke(context.Background(), &cairn.LeaseRevokeRequest{ID: id}); !errors.Is(err, cairn.ErrLeaseNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	if ttl := mustKeepAlive(t, s, id); ttl != 0 {
		t.Fatalf("keepalive after the revoke: TTL %d", ttl)
	}
}

// TestLeaseRestart: leases and their keys survive a restart; the restarted
// leader gives each lease its full TTL again (plus an election timeout, as
// etcd's Promote), so a restart never expires a lease early; expiry works
// after it.
func TestLeaseRestart(t *testing.T) {
	dir := t.TempDir()
	clock := lessor.NewManualClock()
	cfg := leaseConfig(dir, clock)
	s := mustStartPrimary(t, cfg)
	id := mustGrant(t, s, 0, 100).ID
	mustPutLease(t, s, "a", id)
	mustPutLease(t, s, "b", id)
	clock.Advance(60 * time.Second)
	if r := mustTTL(t, s, id, false); r.TTL != 40 {
		t.Fatalf("remaining before the restart %d, want 40", r.TTL)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustStartPrimary(t, cfg)
	r := mustTTL(t, s, id, true)
	extend := int64(cfg.ElectionTimeout / time.Second)
	if r.GrantedTTL != 100 || r.TTL < 100 || r.TTL > 100+extend || !slices.Equal(keyStrings(r.Keys), []string{"a", "b"}) {
		t.Fatalf("after the restart: %+v; want TTL 100..%d, granted 100, keys a b", r, 100+extend)
	}
	clock.Advance(time.Duration(100+extend)*time.Second + cfg.ElectionTimeout)
	waitUntil(t, "the lease expires after the restart", func() bool { return countKeys(t, s, "a", "c") == 0 })
	if got := s.store.Leases(); len(got) != 0 {
		t.Fatalf("leases left: %v", got)
	}
}

// TestLeaseRevokeTenThousandKeysThroughRaft: a lease with 10k keys expires;
// all of them go in one revision.
func TestLeaseRevokeTenThousandKeysThroughRaft(t *testing.T) {
	clock := lessor.NewManualClock()
	s := mustStartPrimary(t, leaseConfig(t.TempDir(), clock))
	id := mustGrant(t, s, 0, 10).ID
	const n, perTxn = 10000, 100
	for i := 0; i < n; i += perTxn {
		txn := &cairn.TxnRequest{}
		for j := i; j < i+perTxn; j++ {
			txn.Success = append(txn.Success, cairn.RequestOp{Put: &cairn.PutRequest{Key: []byte(key(j)), Value: []byte("v"), Lease: id}})
		}
		if _, err := s.Txn(context.Background(), txn); err != nil {
			t.Fatal(err)
		}
	}
	if r := mustTTL(t, s, id, true); len(r.Keys) != n {
		t.Fatalf("timetolive lists %d keys, want %d", len(r.Keys), n)
	}
	before := s.store.Rev()
	clock.Advance(10 * time.Second)
	waitUntil(t, "the lease expires", func() bool { return !s.lessor.Exists(id) })
	if rev := s.store.Rev(); rev != before+1 {
		t.Fatalf("revision %d after the expiry, want %d", rev, before+1)
	}
	if c := countKeys(t, s, key(0), key(n)); c != 0 {
		t.Fatalf("%d keys left", c)
	}
}

// TestMassExpiryWhileWriting: 100k leases, each with a key, expire within a
// few seconds while a writer keeps writing: no write fails, every lease and
// every key of a lease is gone at the end, every written key is there.
func TestMassExpiryWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("100k leases")
	}
	clock := lessor.NewManualClock()
	cfg := leaseConfig(t.TempDir(), clock)
	cfg.LeaseRevokeRate = 50000 // etcd's 1000/s would take 100s
	s := mustStartPrimary(t, cfg)
	const leases, grantors, perTxn = 100000, 64, 100
	ids := make([]int64, leases)
	var wg sync.WaitGroup
	errc := make(chan error, grantors)
	for g := 0; g < grantors; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < leases; i += grantors {
				// TTLs of 10 to 14 seconds: they expire over 4 seconds.
				r, err := s.LeaseGrant(context.Background(), &cairn.LeaseGrantRequest{TTL: 10 + int64(i%5)})
				if err != nil {
					errc <- err
					return
				}
				ids[i] = r.ID
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for i := 0; i < leases; i += perTxn * grantors {
		var wg sync.WaitGroup
		for g := 0; g < grantors && i+g*perTxn < leases; g++ {
			wg.Add(1)
			go func(from int) {
				defer wg.Done()
				txn := &cairn.TxnRequest{}
				for j := from; j < from+perTxn && j < leases; j++ {
					txn.Success = append(txn.Success, cairn.RequestOp{Put: &cairn.PutRequest{Key: []byte(fmt.Sprintf("lease/%06d", j)), Value: []byte("v"), Lease: ids[j]}})
				}
				if _, err := s.Txn(context.Background(), txn); err != nil {
					t.Error(err)
				}
			}(i + g*perTxn)
		}
		wg.Wait()
	}
	if t.Failed() {
		return
	}
	if c := countKeys(t, s, "lease/", "lease0"); c != leases {
		t.Fatalf("%d lease keys, want %d", c, leases)
	}

	stop := make(chan struct{})
	var written int
	var writeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte(fmt.Sprintf("w/%06d", written)), Value: []byte("v")}); err != nil {
				writeErr = err
				return
			}
			written++
		}
	}()
	// Time moves 15s in 15 steps while the writer writes; the expiry
	// rounds run in between.
	for i := 0; i < 15; i++ {
		clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond) // pacing only: nothing asserts on it
	}
	waitUntil(t, "every lease expires", func() bool { return s.lessor.Count() == 0 })
	close(stop)
	<-done
	if writeErr != nil {
		t.Fatalf("a write failed during the mass expiry after %d writes: %v", written, writeErr)
	}
	if n := len(s.store.Leases()); n != 0 {
		t.Fatalf("%d leases left in the store", n)
	}
	if c := countKeys(t, s, "lease/", "lease0"); c != 0 {
		t.Fatalf("%d lease keys left", c)
	}
	if c := countKeys(t, s, "w/", "w0"); c != int64(written) {
		t.Fatalf("%d written keys, want %d", c, written)
	}
	t.Logf("%d writes during the expiry of %d leases", written, leases)
}
