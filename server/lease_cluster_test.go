package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/lessor"
)

// Leases in a cluster: only the leader times them; followers forward
// keepalive and timetolive to it; a new leader gives every lease its full
// TTL again, so a failover never expires a lease early.

// leaseCluster starts three members sharing one manual lease clock.
func leaseCluster(t *testing.T) (*testCluster, *lessor.ManualClock) {
	clock := lessor.NewManualClock()
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.LeaseClock = clock
		cfg.LeaseCheckInterval = 5 * time.Millisecond
	})
	return c, clock
}

// followerOf returns a running member that is not lead.
func (c *testCluster) followerOf(lead *testMember) *testMember {
	for _, m := range c.members {
		if m != lead && m.server() != nil {
			return m
		}
	}
	c.t.Fatal("no follower")
	return nil
}

// waitPrimary waits until m's lessor times leases.
func waitPrimary(t *testing.T, m *testMember) {
	t.Helper()
	waitFor(t, m.name+" to time leases", func() bool {
		p, _ := m.server().lessor.IsPrimary()
		return p
	})
}

func TestClusterLeaseThroughFollower(t *testing.T) {
	c, clock := leaseCluster(t)
	lead := c.waitLeader()
	waitPrimary(t, lead)
	f := c.followerOf(lead)
	fs := f.server()
	ctx := context.Background()

	g, err := fs.LeaseGrant(ctx, &cairn.LeaseGrantRequest{TTL: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Put(ctx, &cairn.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: g.ID}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * time.Second)
	ka, err := fs.LeaseKeepAlive(ctx, &cairn.LeaseKeepAliveRequest{ID: g.ID})
	if err != nil || ka.TTL != 10 || ka.Header.MemberID != fs.MemberID() {
		t.Fatalf("keepalive through a follower: %+v %v", ka, err)
	}
	clock.Advance(8 * time.Second) // 16s after the grant, 8s after the keepalive
	ttl, err := fs.LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: g.ID, Keys: true})
	if err != nil || ttl.TTL != 2 || ttl.GrantedTTL != 10 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != "k" {
		t.Fatalf("timetolive through a follower: %+v %v", ttl, err)
	}
	if ka, err := fs.LeaseKeepAlive(ctx, &cairn.LeaseKeepAliveRequest{ID: 12345}); err != nil || ka.TTL != 0 {
		t.Fatalf("keepalive of a missing lease through a follower: %+v %v", ka, err)
	}
	if r, err := fs.LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: 12345}); err != nil || r.TTL != -1 {
		t.Fatalf("timetolive of a missing lease through a follower: %+v %v", r, err)
	}
	// The followers' lessors time nothing.
	if p, _ := fs.lessor.IsPrimary(); p {
		t.Fatal("a follower's lessor is primary")
	}
	clock.Advance(2 * time.Second)
	for _, m := range c.members {
		waitFor(t, "the key to expire on "+m.name, func() bool {
			r, err := m.server().Range(ctx, &cairn.RangeRequest{Key: []byte("k"), Serializable: true})
			return err == nil && len(r.Kvs) == 0 && len(m.server().storeNow().Leases()) == 0
		})
	}
}

// TestClusterLeaseFailover: a lease with 2 seconds left when the leader
// stops gets its full TTL from the new leader; it expires only after that.
func TestClusterLeaseFailover(t *testing.T) {
	c, clock := leaseCluster(t)
	old := c.waitLeader()
	waitPrimary(t, old)
	ctx := context.Background()
	g, err := old.server().LeaseGrant(ctx, &cairn.LeaseGrantRequest{TTL: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.server().Put(ctx, &cairn.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: g.ID}); err != nil {
		t.Fatal(err)
	}
	f := c.followerOf(old)
	waitFor(t, "the follower to apply the put", func() bool {
		r, err := f.server().Range(ctx, &cairn.RangeRequest{Key: []byte("k"), Serializable: true})
		return err == nil && len(r.Kvs) == 1
	})
	clock.Advance(8 * time.Second)
	old.stop()
	lead := c.waitLeader()
	waitPrimary(t, lead)
	r, err := f.server().LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: g.ID, Keys: true})
	if err != nil || r.TTL < 10 || r.GrantedTTL != 10 || len(r.Keys) != 1 {
		t.Fatalf("after the failover: %+v %v; want the full TTL of 10s (plus an election timeout) and the key", r, err)
	}
	clock.Advance(9 * time.Second) // past the old leader's expiry: still there
	if resp := c.get(lead, "k"); len(resp.Kvs) != 1 {
		t.Fatal("the lease expired early after the failover")
	}
	clock.Advance(2 * time.Second)
	waitFor(t, "the lease to expire on the new leader's clock", func() bool {
		r, err := lead.server().Range(ctx, &cairn.RangeRequest{Key: []byte("k"), Serializable: true})
		return err == nil && len(r.Kvs) == 0
	})
	if got := lead.server().storeNow().Leases(); !slices.Equal(got, []cairn.LeaseRecord{}) && len(got) != 0 {
		t.Fatalf("leases left: %v", got)
	}
}

// TestClusterLeasesAfterSnapshotCatchUp: a member that catches up through
// a snapshot takes its leases from the snapshot (the lessor is reloaded
// with the store): once it leads, a lease granted while it was away
// expires on its clock with its key, and one revoked meanwhile is unknown.
func TestClusterLeasesAfterSnapshotCatchUp(t *testing.T) {
	clock := lessor.NewManualClock()
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.LeaseClock = clock
		cfg.LeaseCheckInterval = 5 * time.Millisecond
		cfg.SnapshotCount = 50
		cfg.SnapshotCatchUpEntries = 10
	})
	ctx := context.Background()
	lead := c.waitLeader()
	waitPrimary(t, lead)
	old, err := lead.server().LeaseGrant(ctx, &cairn.LeaseGrantRequest{TTL: 100})
	if err != nil {
		t.Fatal(err)
	}
	lag := c.followerOf(lead)
	waitFor(t, "the follower to know the first lease", func() bool {
		return slices.ContainsFunc(lag.server().storeNow().Leases(), func(l cairn.LeaseRecord) bool { return l.ID == old.ID })
	})
	lag.stop()

	if _, err := lead.server().LeaseRevoke(ctx, &cairn.LeaseRevokeRequest{ID: old.ID}); err != nil {
		t.Fatal(err)
	}
	fresh, err := lead.server().LeaseGrant(ctx, &cairn.LeaseGrantRequest{TTL: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lead.server().Put(ctx, &cairn.PutRequest{Key: []byte("leased"), Value: []byte("v"), Lease: fresh.ID}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		c.put(lead, fmt.Sprintf("k%03d", i), "v")
	}
	waitFor(t, "the leader to compact its log", func() bool {
		first, _ := lead.server().wal.FirstIndex()
		return first > 100
	})
	lag.start(nil, "new")
	waitFor(t, "the member to catch up through a snapshot", func() bool {
		r, err := lag.server().Range(ctx, &cairn.RangeRequest{Key: []byte("k299"), Serializable: true})
		return err == nil && len(r.Kvs) == 1 && strings.Contains(lag.logs.String(), "snapshot installed")
	})

	// Hand leadership to the member that caught up.
	lead.server().node.TransferLeadership(lag.id)
	waitFor(t, "the member that caught up to lead", func() bool {
		s := lag.server()
		return s.lead.Load() == lag.id
	})
	waitPrimary(t, lag)
	s := lag.server()
	if r, err := s.LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: old.ID}); err != nil || r.TTL != -1 {
		t.Fatalf("the lease revoked while the member was away: %+v %v; want TTL -1 (unknown)", r, err)
	}
	r, err := s.LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: fresh.ID, Keys: true})
	if err != nil || r.TTL < 10 || len(r.Keys) != 1 {
		t.Fatalf("the lease granted while the member was away: %+v %v; want its full TTL and its key", r, err)
	}
	clock.Advance(12 * time.Second)
	for _, m := range c.members {
		waitFor(t, "the leased key to expire on "+m.name, func() bool {
			r, err := m.server().Range(ctx, &cairn.RangeRequest{Key: []byte("leased"), Serializable: true})
			return err == nil && len(r.Kvs) == 0
		})
	}
}
