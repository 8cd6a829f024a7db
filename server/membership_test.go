package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/membership"
)

func peersOf(ms []*testMember) []membership.Peer {
	var peers []membership.Peer
	for _, m := range ms {
		peers = append(peers, membership.Peer{Name: m.name, URLs: []string{m.url}})
	}
	return peers
}

func ctx10s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A member added as a learner joins with --initial-cluster-state existing,
// catches up, serves serializable reads only, is promoted (through a
// follower, which forwards to the leader) and then serves everything.
func TestMemberAddLearnerJoinPromote(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	for i := 0; i < 20; i++ {
		c.put(c.members[0], key(i), "v")
	}
	waitFor(t, "streams to every peer", func() bool {
		s := c.members[1].server()
		return s.tr.Active(c.members[0].server().MemberID()) && s.tr.Active(c.members[2].server().MemberID())
	})
	nm := c.newMember("m3", nil)
	resp, err := c.members[1].server().MemberAdd(ctx10s(t), []string{nm.url}, true)
	if err != nil {
		t.Fatalf("member add: %v", err)
	}
	if resp.Member == nil || !resp.Member.IsLearner || resp.Member.Name != "" || len(resp.Members) != 4 {
		t.Fatalf("add answered %+v", resp)
	}
	newID := resp.Member.ID
	nm.start(peersOf(append(c.members, nm)), "existing")
	if nm.server().MemberID() != newID {
		t.Fatalf("the joining member took id %x, the cluster added %x", nm.server().MemberID(), newID)
	}
	waitFor(t, "the learner to catch up", func() bool {
		r, err := nm.server().Range(context.Background(), &cairn.RangeRequest{Key: []byte(key(19)), Serializable: true})
		return err == nil && len(r.Kvs) == 1
	})
	if _, err := nm.server().Range(ctx10s(t), &cairn.RangeRequest{Key: []byte("k")}); !errors.Is(err, cairn.ErrNotSupportedForLearner) {
		t.Fatalf("linearizable read on a learner: %v", err)
	}
	if _, err := nm.server().Put(ctx10s(t), &cairn.PutRequest{Key: []byte("k"), Value: []byte("v")}); !errors.Is(err, cairn.ErrNotSupportedForLearner) {
		t.Fatalf("write on a learner: %v", err)
	}
	if st, _ := nm.server().Status(context.Background()); !st.IsLearner {
		t.Fatal("status of a learner: isLearner false")
	}
	// Promote through a member that is not the leader.
	lead := c.waitLeader()
	var via *testMember
	for _, m := range c.members {
		if m != lead {
			via = m
			break
		}
	}
	if _, err := via.server().MemberPromote(ctx10s(t), newID); err != nil {
		t.Fatalf("promote through a follower: %v", err)
	}
	waitFor(t, "the promotion to reach the new member", func() bool { return !nm.server().isLearner.Load() })
	c.members = append(c.members, nm)
	c.put(nm, "from-new", "x")
	for _, m := range c.members {
		if got := c.get(m, "from-new"); len(got.Kvs) != 1 {
			t.Fatalf("%s does not see the write through the promoted member", m.name)
		}
		waitFor(t, "names to be published", func() bool {
			for _, x := range m.server().cluster.List() {
				if x.Name == "" || x.IsLearner {
					return false
				}
			}
			return len(m.server().cluster.List()) == 4
		})
	}
	if _, err := via.server().MemberPromote(ctx10s(t), newID); !errors.Is(err, cairn.ErrMemberNotLearner) {
		t.Fatalf("promoting a voter: %v", err)
	}
}

// A removed member stops and says why; the others go on; the id cannot
// come back; a restart of the removed member's data dir refuses to start.
func TestMemberRemoveFollowerAndLeader(t *testing.T) {
	c := newTestCluster(t, 4, nil)
	lead := c.waitLeader()
	var follower, asker *testMember
	for _, m := range c.members {
		if m == lead {
			continue
		}
		if follower == nil {
			follower = m
		} else if asker == nil {
			asker = m
		}
	}
	waitFor(t, "streams up", func() bool {
		for _, m := range c.members {
			if m != asker && !asker.server().tr.Active(m.server().MemberID()) {
				return false
			}
		}
		return true
	})
	fid := follower.server().MemberID()
	resp, err := asker.server().MemberRemove(ctx10s(t), fid)
	if err != nil {
		t.Fatalf("remove a follower: %v", err)
	}
	if len(resp.Members) != 3 {
		t.Fatalf("after the removal: %d members", len(resp.Members))
	}
	select {
	case <-follower.server().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed member did not stop")
	}
	if err := follower.server().Err(); !errors.Is(err, errMemberRemoved) {
		t.Fatalf("the removed member stopped with %v", err)
	}
	if !strings.Contains(follower.logs.String(), "permanently removed") {
		t.Fatal("the removed member did not say why it stopped")
	}
	if _, err := asker.server().MemberRemove(ctx10s(t), fid); !errors.Is(err, cairn.ErrMemberRemoved) {
		t.Fatalf("removing twice: %v", err)
	}
	follower.stop()
	if _, err := New(follower.config(nil, "new")); !errors.Is(err, errMemberRemoved) {
		t.Fatalf("restarting a removed member: %v", err)
	}
	c.members = slicesDelete(c.members, follower)

	// Remove the leader, asked through another member.
	lid := lead.server().MemberID()
	if _, err := asker.server().MemberRemove(ctx10s(t), lid); err != nil {
		t.Fatalf("remove the leader: %v", err)
	}
	select {
	case <-lead.server().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed leader did not stop")
	}
	c.members = slicesDelete(c.members, lead)
	newLead := c.waitLeader()
	if newLead.server().MemberID() == lid {
		t.Fatal("the removed leader still leads")
	}
	c.put(asker, "after-removals", "v")
	for _, m := range c.members {
		if got := c.get(m, "after-removals"); len(got.Kvs) != 1 {
			t.Fatalf("%s misses the write after the removals", m.name)
		}
	}
}

func slicesDelete(ms []*testMember, x *testMember) []*testMember {
	var out []*testMember
	for _, m := range ms {
		if m != x {
			out = append(out, m)
		}
	}
	return out
}

// Each refusal comes with etcd's error and changes nothing.
func TestMemberChangeErrors(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	s := c.members[0].server()
	waitFor(t, "streams up", func() bool {
		return s.tr.Active(c.members[1].server().MemberID()) && s.tr.Active(c.members[2].server().MemberID())
	})
	before := len(s.cluster.List())
	if _, err := s.MemberAdd(ctx10s(t), []string{c.members[1].url}, false); !errors.Is(err, cairn.ErrPeerURLExist) {
		t.Errorf("add with a peer URL in use: %v", err)
	}
	if _, err := s.MemberAdd(ctx10s(t), nil, false); !errors.Is(err, cairn.ErrMemberBadURLs) {
		t.Errorf("add without URLs: %v", err)
	}
	if _, err := s.MemberAdd(ctx10s(t), []string{"http://127.0.0.1:1/path"}, false); !errors.Is(err, cairn.ErrMemberBadURLs) {
		t.Errorf("add with a path: %v", err)
	}
	if _, err := s.MemberRemove(ctx10s(t), 12345); !errors.Is(err, cairn.ErrMemberNotFound) {
		t.Errorf("remove of an unknown id: %v", err)
	}
	if _, err := s.MemberUpdate(ctx10s(t), 12345, []string{"http://127.0.0.1:9"}); !errors.Is(err, cairn.ErrMemberNotFound) {
		t.Errorf("update of an unknown id: %v", err)
	}
	if _, err := s.MemberUpdate(ctx10s(t), c.members[2].server().MemberID(), []string{c.members[1].url}); !errors.Is(err, cairn.ErrPeerURLExist) {
		t.Errorf("update to a URL in use: %v", err)
	}
	if _, err := s.MemberPromote(ctx10s(t), c.members[1].server().MemberID()); !errors.Is(err, cairn.ErrMemberNotLearner) {
		t.Errorf("promote of a voter: %v", err)
	}
	if len(s.cluster.List()) != before {
		t.Fatalf("a refused change changed the members: %d -> %d", before, len(s.cluster.List()))
	}
	// One learner at most; a learner that never started is not ready.
	r, err := s.MemberAdd(ctx10s(t), []string{"http://127.0.0.1:9"}, true)
	if err != nil {
		t.Fatalf("add a learner: %v", err)
	}
	if _, err := s.MemberAdd(ctx10s(t), []string{"http://127.0.0.1:10"}, true); !errors.Is(err, cairn.ErrTooManyLearners) {
		t.Errorf("a second learner: %v", err)
	}
	if _, err := s.MemberPromote(ctx10s(t), r.Member.ID); !errors.Is(err, cairn.ErrLearnerNotReady) {
		t.Errorf("promote of a learner that never started: %v", err)
	}
	// A voter down: adding another voter is refused as unhealthy.
	c.members[2].stop()
	waitFor(t, "the stream to the stopped member to drop", func() bool { return !s.tr.Active(c.members[2].server0ID()) })
	if _, err := s.MemberAdd(ctx10s(t), []string{"http://127.0.0.1:11"}, false); !errors.Is(err, cairn.ErrUnhealthy) {
		t.Errorf("add a voter with a voter down: %v", err)
	}
	// Updating a member's URLs works and is seen everywhere.
	id1 := c.members[1].server().MemberID()
	if _, err := s.MemberUpdate(ctx10s(t), r.Member.ID, []string{"http://127.0.0.1:12"}); err != nil {
		t.Fatalf("update: %v", err)
	}
	waitFor(t, "the update on another member", func() bool {
		u := c.members[1].server().cluster.Get(r.Member.ID)
		return u != nil && len(u.PeerURLs) == 1 && u.PeerURLs[0] == "http://127.0.0.1:12" && u.IsLearner
	})
	_ = id1
}

// A member that was never added cannot join with --initial-cluster-state
// existing: it finds no member with its peer URLs and says so.
func TestJoinWithoutAddIsRefused(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	nm := c.newMember("stranger", nil)
	_, err := New(nm.config(peersOf(append(c.members, nm)), "existing"))
	if err == nil || !strings.Contains(err.Error(), "add it first") {
		t.Fatalf("joining without member add: %v", err)
	}
}
