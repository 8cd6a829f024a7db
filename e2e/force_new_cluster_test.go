package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Disaster recovery with real processes, as an etcd runbook does it: two
// members of three are lost for good (kill -9), the survivor cannot serve
// without a quorum; restarted with --force-new-cluster it serves alone with
// every write it had applied, lists only itself, and stays a one-member
// cluster when restarted without the flag.
func TestForceNewClusterAfterLosingTwo(t *testing.T) {
	c := startCluster(t, 3)
	lead := c.leader()
	for i := range 50 {
		lead.putRetry(t, fmt.Sprintf("key%02d", i), "v")
	}
	// The survivor the runbook picks: the one that has every write (a
	// follower may lag the other two that acknowledged them).
	survivor := c.members[0]
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		n, err := survivor.countPrefix(ctx, "key", true)
		cancel()
		if err == nil && n == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the survivor never applied the 50 writes: %d, %v", n, err)
		}
	}
	for _, m := range c.members[1:] {
		m.kill9()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, err := survivor.rangeKey(ctx, "key00")
	cancel()
	if err == nil {
		t.Fatal("a linearizable read succeeded without a quorum")
	}
	survivor.kill9()

	survivor.args = append(survivor.args, "--force-new-cluster")
	survivor.restart() // ready: a linearizable read succeeds
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := survivor.countPrefix(ctx, "key", false); err != nil || n != 50 {
		t.Fatalf("after --force-new-cluster: %d keys (%v), want 50", n, err)
	}
	survivor.putRetry(t, "after", "v")
	list, err := survivor.members(t, "list", map[string]any{})
	if err != nil || len(list.Members) != 1 || list.Members[0].Name != survivor.name {
		t.Fatalf("member list: %+v %v", list, err)
	}
	r := findRecord(t, survivor.logs.String(), "--force-new-cluster: forcing a one-member cluster from this member's data; the other members are removed")
	if removed, _ := r["removed"].([]any); len(removed) != 2 {
		t.Errorf("the log does not name the 2 removed members: %v", r)
	}

	if err := survivor.stop(); err != nil {
		t.Fatal(err)
	}
	survivor.args = survivor.args[:len(survivor.args)-1]
	survivor.restart()
	if got, err := survivor.rangeKey(ctx, "after"); err != nil || len(got.Kvs) != 1 {
		t.Fatalf("restarted without the flag: %+v %v", got, err)
	}
	if list, err := survivor.members(t, "list", map[string]any{}); err != nil || len(list.Members) != 1 {
		t.Fatalf("member list without the flag: %+v %v", list, err)
	}
	for _, unwanted := range []string{"--force-new-cluster: forcing", "peer unreachable"} {
		if strings.Contains(survivor.logs.String(), unwanted) {
			t.Errorf("restarted without the flag, the log says %q:\n%s", unwanted, survivor.logs)
		}
	}
}
