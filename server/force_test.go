package server

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// TestForceNewCluster: two of three members are lost for good; the survivor
// restarted with ForceNewCluster serves alone with every committed write,
// drops the write nobody acknowledged, lists itself only and refuses the
// lost members' ids; it stays a one-member cluster without the flag.
func TestForceNewCluster(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	lead := c.waitLeader()
	for i := 0; i < 20; i++ {
		c.put(lead, key(i), "v")
	}
	var lost []uint64
	for _, m := range c.members {
		if m != lead {
			lost = append(lost, m.server0ID())
			m.stop()
		}
	}
	// The leader appends this one but can never commit it.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := lead.server().Put(ctx, &cairn.PutRequest{Key: []byte("unacknowledged"), Value: []byte("v")})
	cancel()
	if err == nil {
		t.Fatal("a put without a quorum succeeded")
	}
	lead.stop()

	lead.tweak = func(cfg *Config) { cfg.ForceNewCluster = true }
	lead.start(nil, "new")
	s := lead.server()
	waitFor(t, "the forced member to lead", func() bool { return s.lead.Load() == s.MemberID() })
	if got := c.get(lead, key(19)); len(got.Kvs) != 1 {
		t.Fatalf("a committed write is gone: %+v", got)
	}
	if got := c.get(lead, "unacknowledged"); len(got.Kvs) != 0 {
		t.Fatalf("the unacknowledged write survived: %+v", got)
	}
	c.put(lead, "after", "v")
	list, err := s.MemberList(context.Background(), true)
	if err != nil || len(list.Members) != 1 || list.Members[0].ID != s.MemberID() {
		t.Fatalf("member list: %+v, %v", list, err)
	}
	for _, id := range lost {
		if !s.cluster.IsRemoved(id) {
			t.Errorf("lost member %x is not marked removed", id)
		}
	}
	logs := lead.logs.String()
	if !strings.Contains(logs, "--force-new-cluster: forcing a one-member cluster") || !regexp.MustCompile(`entries_after_commit_dropped=[1-9]`).MatchString(logs) {
		t.Errorf("the log does not say what was forced:\n%s", logs)
	}

	lead.stop()
	lead.tweak = nil
	lead.start(nil, "new")
	waitFor(t, "the member to lead again", func() bool { return lead.server().lead.Load() == lead.server0ID() })
	if got := c.get(lead, "after"); len(got.Kvs) != 1 {
		t.Fatalf("after a restart without the flag: %+v", got)
	}
}
