package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ack is one acknowledged write.
type ack struct {
	key, value string
	rev        int64
}

// writeUntilKilled runs 16 writers against m; after minAcks acknowledged
// writes it kill -9s the member while the writers keep going, and returns
// every write that was acknowledged.
func writeUntilKilled(t *testing.T, m *member, round, minAcks int) []ack {
	t.Helper()
	return writeUntilGone(t, m, round, minAcks, m.kill9)
}

// writeUntilGone runs 16 writers against m; after minAcks acknowledged
// writes it calls end, which returns once the member is gone (it kills it,
// or waits for it to die by itself), and returns every write that was
// acknowledged.
func writeUntilGone(t *testing.T, m *member, round, minAcks int, end func()) []ack {
	t.Helper()
	var (
		mu    sync.Mutex
		acks  []ack
		count atomic.Int64
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("durable/%d/%02d/%06d", round, g, i)
				value := fmt.Sprintf("value-%d-%d-%d", round, g, i)
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				rev, err := m.put(rctx, key, value)
				rcancel()
				if err != nil {
					return // the member is gone: this write was not acknowledged
				}
				mu.Lock()
				acks = append(acks, ack{key, value, rev})
				mu.Unlock()
				count.Add(1)
			}
		}(g)
	}
	deadline := time.Now().Add(60 * time.Second)
	for count.Load() < int64(minAcks) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if count.Load() < int64(minAcks) {
		t.Fatalf("only %d writes acknowledged in 60s", count.Load())
	}
	end() // mid-stream: writers are still writing
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return append([]ack(nil), acks...)
}

// checkAcks reads every acknowledged write back and checks value and
// mod_revision.
func checkAcks(t *testing.T, m *member, acks []ack) {
	t.Helper()
	ctx := context.Background()
	for _, a := range acks {
		r, err := m.rangeKey(ctx, a.key)
		if err != nil {
			t.Fatalf("range %s: %v", a.key, err)
		}
		if len(r.Kvs) != 1 {
			t.Fatalf("acknowledged write %s (revision %d) is lost after kill -9", a.key, a.rev)
		}
		if got := unb64(t, r.Kvs[0].Value); got != a.value {
			t.Fatalf("%s = %q after restart, acknowledged %q", a.key, got, a.value)
		}
		if got := atoi(t, r.Kvs[0].ModRevision); got != a.rev {
			t.Fatalf("%s mod_revision = %d after restart, acknowledged %d", a.key, got, a.rev)
		}
	}
}

func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	t.Run("defaults", func(t *testing.T) { kill9Rounds(t) })
	// A raft snapshot every 50 entries: on restart raft re-delivers only the
	// entries after the latest snapshot, so a snapshot taken ahead of what
	// the store had written to disk would lose acknowledged writes here.
	t.Run("snapshot-count=50", func(t *testing.T) { kill9Rounds(t, "--snapshot-count", "50") })
}

func kill9Rounds(t *testing.T, args ...string) {
	dir := t.TempDir()
	m := startMember(t, dir, args...)
	var all []ack
	var lastRev int64
	for round := 0; round < 3; round++ {
		acks := writeUntilKilled(t, m, round, 300)
		all = append(all, acks...)
		var maxAck int64
		for _, a := range acks {
			maxAck = max(maxAck, a.rev)
		}
		m.restart()
		rev := m.revision(t)
		if rev < maxAck {
			t.Fatalf("round %d: revision %d after restart is below the acknowledged revision %d", round, rev, maxAck)
		}
		if rev < lastRev {
			t.Fatalf("round %d: revision went backwards across a restart: %d -> %d", round, lastRev, rev)
		}
		lastRev = rev
		checkAcks(t, m, all)
		t.Logf("round %d: %d acknowledged writes, revision %d after restart", round, len(acks), rev)
	}
}

func TestGracefulStopKeepsWrites(t *testing.T) {
	dir := t.TempDir()
	m := startMember(t, dir)
	ctx := context.Background()
	var acks []ack
	for i := 0; i < 50; i++ {
		key, value := fmt.Sprintf("graceful/%03d", i), fmt.Sprintf("v%d", i)
		rev, err := m.put(ctx, key, value)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack{key, value, rev})
	}
	if err := m.stop(); err != nil {
		t.Fatalf("SIGTERM: %v; logs:\n%s", err, m.logs)
	}
	m.restart()
	checkAcks(t, m, acks)
}
