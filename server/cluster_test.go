package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/membership"
)

// Writes through any member are applied on every member, each member
// answers with its own member_id, and a linearizable read on any member
// sees every write acknowledged before it.
func TestClusterWritesAndReadsOnEveryMember(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	ids := map[uint64]bool{}
	var cid uint64
	for i, m := range c.members {
		resp := c.put(m, fmt.Sprintf("k%d", i), m.name)
		h := resp.Header
		if h.MemberID != m.server().MemberID() {
			t.Fatalf("put on %s answered with member_id %x, want %x", m.name, h.MemberID, m.server().MemberID())
		}
		if cid != 0 && h.ClusterID != cid {
			t.Fatalf("members disagree on the cluster id: %x vs %x", h.ClusterID, cid)
		}
		cid = h.ClusterID
		ids[h.MemberID] = true
		// Right after the write, every member reads it.
		for _, r := range c.members {
			got := c.get(r, fmt.Sprintf("k%d", i))
			if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != m.name {
				t.Fatalf("read of k%d on %s after the put on %s: %+v", i, r.name, m.name, got.Kvs)
			}
			if got.Header.MemberID != r.server().MemberID() {
				t.Fatalf("range on %s answered with member_id %x", r.name, got.Header.MemberID)
			}
		}
	}
	if len(ids) != 3 {
		t.Fatalf("member ids not distinct: %v", ids)
	}
	// Every member knows every member, with the client URLs each published.
	for _, m := range c.members {
		waitFor(t, "published client URLs", func() bool {
			ms := m.server().cluster.List()
			if len(ms) != 3 {
				return false
			}
			for _, x := range ms {
				if len(x.ClientURLs) != 1 || x.ClientURLs[0] != "http://client."+x.Name {
					return false
				}
			}
			return true
		})
	}
}

// When the leader stops, the others elect a new one and go on; every
// acknowledged write survives, and the old leader catches up when it comes
// back.
func TestClusterLeaderFailover(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	old := c.waitLeader()
	var other *testMember
	for _, m := range c.members {
		if m != old {
			other = m
			break
		}
	}
	for i := 0; i < 20; i++ {
		c.put(other, fmt.Sprintf("before/%d", i), "v")
	}
	old.stop()
	for i := 0; i < 20; i++ {
		c.put(other, fmt.Sprintf("after/%d", i), "v")
	}
	lead := c.waitLeader()
	if lead == old {
		t.Fatal("the stopped member is still the leader")
	}
	old.start(nil, "new")
	waitFor(t, "the old leader to catch up", func() bool {
		r, err := old.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte("after/19"), Serializable: true})
		return err == nil && len(r.Kvs) == 1
	})
	for _, m := range c.members {
		r := c.get(m, "before/")
		_ = r
		for _, prefix := range []string{"before/", "after/"} {
			end := []byte(prefix)
			end[len(end)-1]++
			resp, err := m.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte(prefix), RangeEnd: end, CountOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Count != 20 {
				t.Fatalf("%s holds %d keys under %s, want 20", m.name, resp.Count, prefix)
			}
		}
	}
}

// A member started with another --initial-cluster-token computes other ids:
// the members refuse its messages and say so, it never joins, and the
// cluster is unaffected.
func TestClusterRefusesAnotherToken(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	var peers []membership.Peer
	for _, m := range c.members {
		peers = append(peers, membership.Peer{Name: m.name, URLs: []string{m.url}})
	}
	// Restart m2 with a fresh data dir and another token.
	m2 := c.members[2]
	m2.stop()
	m2.dir = t.TempDir()
	c.token = "another-token"
	m2.start(peers, "new")
	waitFor(t, "a refusal in the logs", func() bool {
		return strings.Contains(c.members[0].logs.String()+c.members[1].logs.String(), "refused a peer of another cluster") &&
			strings.Contains(m2.logs.String(), "peer refused the stream")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := m2.server().Range(ctx, &cairn.RangeRequest{Key: []byte("x")}); err == nil {
		t.Fatal("the member of another cluster answered a linearizable read")
	}
	c.put(c.members[0], "still", "works")
}

// A stopped member cannot be reached: raft learns it is unreachable and the
// others keep a quorum; proposals on a member without a leader fail with
// ErrNoLeader or ErrTimeout, never hang.
func TestClusterNoQuorumFailsCleanly(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.members[1].stop()
	c.members[2].stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := c.members[0].server().Put(ctx, &cairn.PutRequest{Key: []byte("k"), Value: []byte("v")})
	if err == nil {
		t.Fatal("a write succeeded without a quorum")
	}
	if !errors.Is(err, cairn.ErrNoLeader) && !errors.Is(err, cairn.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write without a quorum: %v", err)
	}
}

// A member stopped while the others write far past their log's margin
// catches up through a snapshot: the leader streams its store file, the
// member swaps it in and applies the rest from the log. It then holds
// exactly the same data, and survives another restart.
func TestClusterCatchUpThroughSnapshot(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotCount = 50
		cfg.SnapshotCatchUpEntries = 10
	})
	lead := c.waitLeader()
	var lag *testMember
	for _, m := range c.members {
		if m != lead {
			lag = m
			break
		}
	}
	c.put(lead, "early", "v")
	lag.stop()
	for i := 0; i < 300; i++ {
		c.put(lead, fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i))
	}
	waitFor(t, "the leader to compact its log", func() bool {
		first, _ := lead.server().wal.FirstIndex()
		return first > 100
	})
	lag.start(nil, "new")
	waitFor(t, "the stopped member to catch up", func() bool {
		r, err := lag.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte("k299"), Serializable: true})
		return err == nil && len(r.Kvs) == 1
	})
	waitFor(t, "the install to be logged", func() bool {
		return strings.Contains(lag.logs.String(), "snapshot installed")
	})
	check := func() {
		t.Helper()
		var revs []int64
		for _, m := range c.members {
			r, err := m.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l")})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Kvs) != 300 {
				t.Fatalf("%s holds %d keys, want 300", m.name, len(r.Kvs))
			}
			for i, kv := range r.Kvs {
				if string(kv.Value) != fmt.Sprintf("v%d", i) {
					t.Fatalf("%s: %s = %s", m.name, kv.Key, kv.Value)
				}
			}
			revs = append(revs, r.Header.Revision)
		}
		if revs[0] != revs[1] || revs[1] != revs[2] {
			t.Fatalf("members at different revisions after catching up: %v", revs)
		}
	}
	check()
	c.put(lag, "after", "x")
	lag.stop()
	lag.start(nil, "new")
	waitFor(t, "the restarted member to serve", func() bool {
		r, err := lag.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte("after"), Serializable: true})
		return err == nil && len(r.Kvs) == 1
	})
	check()
}

// A member that stops after saving a received snapshot in its raft log but
// before swapping in the store file (a crash there) finishes the install
// when it starts again, and holds the data.
func TestClusterSnapshotInstallInterrupted(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotCount = 50
		cfg.SnapshotCatchUpEntries = 10
	})
	lead := c.waitLeader()
	var lag *testMember
	for _, m := range c.members {
		if m != lead {
			lag = m
			break
		}
	}
	lag.stop()
	for i := 0; i < 200; i++ {
		c.put(lead, fmt.Sprintf("k%03d", i), "v")
	}
	waitFor(t, "the leader to compact its log", func() bool {
		first, _ := lead.server().wal.FirstIndex()
		return first > 100
	})
	lag.start(nil, "new")
	crash := func() error { return errors.New("crash before the install") }
	lag.server().beforeInstall.Store(&crash)
	select {
	case <-lag.server().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the member did not stop at the install")
	}
	snap, _ := lag.server().wal.Snapshot()
	if ci := lag.server().storeNow().ConsistentIndex(); snap.Metadata.Index == 0 || ci >= snap.Metadata.Index {
		t.Fatalf("after the crash: raft log snapshot at %d, store at %d; want the store behind", snap.Metadata.Index, ci)
	}
	lag.stop()
	lag.start(nil, "new")
	if !strings.Contains(lag.logs.String(), "finishing the install of a received snapshot") {
		t.Fatalf("the restart did not finish the install; logs:\n%s", lag.logs)
	}
	waitFor(t, "the member to hold the data", func() bool {
		r, err := lag.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte("k199"), Serializable: true})
		return err == nil && len(r.Kvs) == 1
	})
	c.put(lag, "after", "x")
}

// A write waiting for a leader that never comes ends when the member
// stops, with cairn.ErrStopped, not after its request timeout.
func TestProposalWaitingForLeaderEndsAtStop(t *testing.T) {
	c := &testCluster{t: t, token: "test-token"}
	var peers []membership.Peer
	for i := 0; i < 3; i++ {
		m := c.newMember(fmt.Sprintf("m%d", i), nil)
		c.members = append(c.members, m)
		peers = append(peers, membership.Peer{Name: m.name, URLs: []string{m.url}})
	}
	alone := c.members[0]
	alone.start(peers, "new") // the others never start: no quorum, no leader
	s := alone.server()
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte("k"), Value: []byte("v")})
		done <- err
	}()
	waitFor(t, "the write to wait for its proposal", func() bool {
		return s.waits.Len() == 1 // registered: it is proposing now
	})
	alone.stop()
	if err := <-done; !errors.Is(err, cairn.ErrStopped) {
		t.Fatalf("write waiting for a leader, member stopped: %v; want %v", err, cairn.ErrStopped)
	}
}
