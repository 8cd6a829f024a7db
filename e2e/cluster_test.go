package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Three members: a write through any member is readable (linearizably)
// through every member at once, each member answers with its own
// member_id, and killing the leader with -9 while clients write through
// every member loses no acknowledged write: a new leader takes over, the
// writes go on, and the killed member catches up when it comes back.
func TestClusterThreeMembersKillLeader(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()

	ids := map[string]bool{}
	for i, m := range c.members {
		key := fmt.Sprintf("hello/%d", i)
		m.putRetry(t, key, m.name)
		for _, r := range c.members {
			got, err := r.rangeKey(ctx, key)
			if err != nil {
				t.Fatalf("linearizable read of %s on %s: %v", key, r.name, err)
			}
			if len(got.Kvs) != 1 || unb64(t, got.Kvs[0].Value) != m.name {
				t.Fatalf("read of %s on %s right after the put on %s: %+v", key, r.name, m.name, got.Kvs)
			}
		}
		st, err := m.status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids[st.Header.MemberID] = true
	}
	if len(ids) != 3 {
		t.Fatalf("members answered with member ids %v, want 3 distinct", ids)
	}

	// Writers on every member; kill the leader mid-stream.
	var (
		mu    sync.Mutex
		acks  = map[string]string{}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m := c.members[(g+i)%3]
				if !m.alive() {
					continue
				}
				key := fmt.Sprintf("w/%02d/%06d", g, i)
				value := fmt.Sprintf("v%d.%d", g, i)
				rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				_, err := m.put(rctx, key, value)
				cancel()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				acks[key] = value
				mu.Unlock()
				count.Add(1)
			}
		}(g)
	}
	waitCount := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for count.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d writes acknowledged, want %d", count.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitCount(300)
	old := c.leader()
	old.kill9()
	killedAt := count.Load()
	waitCount(killedAt + 300) // writes go on without the old leader
	if lead := c.leader(); lead == old {
		t.Fatal("a killed member is the leader")
	}
	old.restart()
	waitCount(count.Load() + 100)
	close(stop)
	wg.Wait()

	for _, m := range c.members {
		out, err := m.rangePrefix(ctx, "w/")
		if err != nil {
			t.Fatalf("range on %s: %v", m.name, err)
		}
		got := map[string]string{}
		for _, kv := range out.Kvs {
			got[unb64(t, kv.Key)] = unb64(t, kv.Value)
		}
		for k, v := range acks {
			if got[k] != v {
				t.Fatalf("%s: acknowledged write %s=%s reads %q after the leader was killed", m.name, k, v, got[k])
			}
		}
	}
	t.Logf("%d acknowledged writes, all on every member after kill -9 of the leader", len(acks))
}

// A member stopped while the others take many writes restarts and catches
// up through a snapshot (the leader's log no longer reaches back to it).
func TestClusterCatchUpThroughSnapshot(t *testing.T) {
	c := startCluster(t, 3, "--snapshot-count", "1000", "--experimental-snapshot-catchup-entries", "500")
	lead := c.leader()
	lag := c.follower(lead)
	if err := lag.stop(); err != nil {
		t.Fatalf("stopping %s: %v", lag.name, err)
	}
	const total = 20000
	var wg sync.WaitGroup
	var next atomic.Int64
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				lead.putRetry(t, fmt.Sprintf("s/%06d", i), "v")
			}
		}()
	}
	wg.Wait()
	start := time.Now()
	lag.restart()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := lag.countPrefix(context.Background(), "s/", true)
		if err == nil && n == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d of %d keys 60s after its restart (err %v)", lag.name, n, total, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%s caught up on %d writes in %v", lag.name, total, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(lag.logs.String(), "snapshot installed") {
		t.Fatalf("%s caught up without a snapshot; logs:\n%s", lag.name, lag.logs)
	}
	// Linearizable reads agree everywhere.
	for _, m := range c.members {
		n, err := m.countPrefix(context.Background(), "s/", false)
		if err != nil || n != total {
			t.Fatalf("%s: %d keys (err %v), want %d", m.name, n, err, total)
		}
	}
}

// Five members keep serving with two of them killed, the leader among
// them; nothing acknowledged is lost.
func TestClusterFiveMembersSurviveTwoKilled(t *testing.T) {
	c := startCluster(t, 5)
	for i := 0; i < 50; i++ {
		c.members[i%5].putRetry(t, fmt.Sprintf("five/%03d", i), "v")
	}
	lead := c.leader()
	lead.kill9()
	for _, m := range c.members {
		if m != lead {
			m.kill9()
			break
		}
	}
	survivors := c.running()
	if len(survivors) != 3 {
		t.Fatalf("%d members running, want 3", len(survivors))
	}
	for i := 50; i < 100; i++ {
		survivors[i%3].putRetry(t, fmt.Sprintf("five/%03d", i), "v")
	}
	for _, m := range survivors {
		n, err := m.countPrefix(context.Background(), "five/", false)
		if err != nil || n != 100 {
			t.Fatalf("%s: %d keys (err %v), want 100", m.name, n, err)
		}
	}
}

// A member started with another --initial-cluster-token belongs to another
// cluster: the members refuse its messages and log why, it never gets a
// leader, and the cluster goes on.
func TestClusterRefusesAnotherToken(t *testing.T) {
	c := startCluster(t, 3)
	intruder := &cmember{name: "x", peerURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	initial := fmt.Sprintf("m0=%s,m1=%s,x=%s", c.members[0].peerURL, c.members[1].peerURL, intruder.peerURL)
	other := &cluster{t: t, token: "another-token"}
	if !other.launch(intruder, initial, "new", t.TempDir()) {
		t.Skip("peer port taken; cannot run the intruder")
	}
	deadline := time.Now().Add(30 * time.Second)
	for !(strings.Contains(c.members[0].logs.String()+c.members[1].logs.String(), "refused a peer of another cluster") &&
		strings.Contains(intruder.logs.String(), "peer refused the stream")) {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged; intruder logs:\n%s", intruder.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := intruder.rangeKey(ctx, "k"); err == nil {
		t.Fatal("the intruder answered a linearizable read: it found a quorum")
	}
	c.members[0].putRetry(t, "still", "works")
}

// pickOther returns a running member other than not.
func (c *cluster) pickOther(not *cmember) *cmember {
	ms := c.running()
	rand.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	for _, m := range ms {
		if m != not {
			return m
		}
	}
	return nil
}

// A member of a new cluster serves clients only once its name and client
// URLs are committed, as etcd does: a request sent to the first member
// before the others start waits, and its answer already lists the member's
// client URL (a client discovering the cluster never sees it without one).
func TestClusterServesClientsOnlyOncePublished(t *testing.T) {
	c := &cluster{t: t, token: fmt.Sprintf("e2e-pub-%d", time.Now().UnixNano())}
	var names []string
	for i := 0; i < 3; i++ {
		m := &cmember{name: fmt.Sprintf("m%d", i), peerURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
		c.members = append(c.members, m)
		names = append(names, m.name+"="+m.peerURL)
	}
	initial := strings.Join(names, ",")
	first := c.members[0]
	if !c.launch(first, initial, "new", t.TempDir()) {
		t.Skip("peer port taken")
	}
	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := httpClient.Get(first.url + "/v2/members")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(b), err}
	}()
	// The request is in flight while m0 has no quorum; then the others come.
	for _, m := range c.members[1:] {
		if !c.launch(m, initial, "new", t.TempDir()) {
			t.Skip("peer port taken")
		}
	}
	select {
	case a := <-answered:
		if a.err != nil || a.code != 200 || !strings.Contains(a.body, `"clientURLs":["`+first.url+`"]`) {
			t.Fatalf("first answer of m0: %d %s (%v); want m0 listed with its client URL %s", a.code, a.body, a.err, first.url)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("m0 never answered; logs:\n%s", first.logs)
	}
}
