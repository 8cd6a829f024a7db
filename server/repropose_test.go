package server

import (
	"context"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// A write whose leader appended it and then stalled before anybody else
// had it (the old leader had appended it, but it can no longer commit) is
// proposed again, with the same request id, to the leader the others elect,
// and applied once: the client gets its answer instead of a timeout. The
// write is sent to the leader itself, or to a follower that forwards it.
func TestWriteLostWithItsLeaderIsProposedAgain(t *testing.T) {
	for _, via := range []string{"leader", "follower"} {
		t.Run("via "+via, func(t *testing.T) { testWriteLostWithItsLeader(t, via == "follower") })
	}
}

func testWriteLostWithItsLeader(t *testing.T, viaFollower bool) {
	c := newTestCluster(t, 3, nil)
	lead := c.waitLeader()
	c.put(lead, "warm", "up")
	ls := lead.server()
	oldLead := ls.MemberID()

	// Freeze the leader's Ready loop as a stalled process: nothing it
	// appends from now on is persisted or sent, and it ticks no more.
	entered, release := make(chan struct{}), make(chan struct{})
	var once bool
	hook := func() {
		if !once {
			once = true
			close(entered)
		}
		<-release
	}
	ls.beforeReady.Store(&hook)
	ls.node.Poke()
	<-entered

	type result struct {
		resp *cairn.PutResponse
		err  error
	}
	// On the leader raft appends it at once; a follower forwards it, and
	// the leader's transport appends it (its Ready loop is not needed).
	proposer := ls
	if viaFollower {
		proposer = c.followerOf(lead).server()
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := proposer.Put(ctx, &cairn.PutRequest{Key: []byte("k"), Value: []byte("v")})
		done <- result{resp, err}
	}()

	// The others elect a leader among themselves.
	waitFor(t, "a new leader among the others", func() bool {
		for _, m := range c.members {
			if m == lead {
				continue
			}
			if l := m.server().lead.Load(); l == 0 || l == oldLead {
				return false
			}
		}
		return true
	})
	ls.beforeReady.Store(nil)
	close(release)

	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the write was never answered")
	}
	if r.err != nil {
		t.Fatalf("the write failed: %v", r.err)
	}
	t.Logf("answered %v after it was sent", time.Since(start))
	for _, m := range c.members {
		waitFor(t, "every member applies the write", func() bool {
			return m.server().appliedIndex.Load() >= proposer.appliedIndex.Load()
		})
		g := c.get(m, "k")
		if len(g.Kvs) != 1 || g.Kvs[0].Version != 1 || g.Kvs[0].CreateRevision != r.resp.Header.Revision {
			t.Fatalf("%s has k as %+v; want it written once, at revision %d", m.name, g.Kvs, r.resp.Header.Revision)
		}
	}
}
