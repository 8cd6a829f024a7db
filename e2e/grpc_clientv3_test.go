package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// newClientv3 connects etcd's Go client to the members' client URLs.
func newClientv3(t *testing.T, c *cluster) *clientv3.Client {
	t.Helper()
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.url)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// retry runs op until it succeeds, for up to a minute: calls that fail
// while the cluster elects a new leader, or while the client moves to
// another member, are tried again, as an application would.
func retry(t *testing.T, what string, op func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := op(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: %v", what, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGRPCClientv3 uses go.etcd.io/etcd/client/v3 and its concurrency
// package against a 3-member cluster whose leader is killed in the middle:
// mutexes keep their critical sections apart, STM transfers keep the sum
// of the accounts, an election hands over from one candidate to the next
// and its observer sees both, and the client's error checks
// (rpctypes.ErrCompacted, ErrLeaseNotFound) hold.
func TestGRPCClientv3(t *testing.T) {
	c := startCluster(t, 3)
	c.waitPublished(t)
	cli := newClientv3(t, c)
	ctx := context.Background()

	put, err := cli.Put(ctx, "/errs/a", "1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "/errs/a", "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, put.Header.Revision+1); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Get(ctx, "/errs/a", clientv3.WithRev(put.Header.Revision)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("get below the compaction: %v, want rpctypes.ErrCompacted", err)
	}
	if _, err := cli.Revoke(ctx, 12345); !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		t.Errorf("revoke of no lease: %v, want rpctypes.ErrLeaseNotFound", err)
	}

	const accounts, workers, rounds = 5, 3, 30
	for i := 0; i < accounts; i++ {
		if _, err := cli.Put(ctx, fmt.Sprintf("/acct/%d", i), "100"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Put(ctx, "/cnt", "0"); err != nil {
		t.Fatal(err)
	}

	// The election: c1 leads; the observer sees it.
	s1, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		t.Fatal(err)
	}
	e1 := concurrency.NewElection(s1, "/el")
	if err := e1.Campaign(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithCancel(ctx)
	defer ocancel()
	observed := make(chan string, 100)
	go func() {
		for r := range concurrency.NewElection(s1, "/el").Observe(octx) {
			observed <- string(r.Kvs[0].Value)
		}
	}()
	waitLeader := func(want string) {
		t.Helper()
		timeout := time.After(time.Minute)
		for {
			select {
			case v := <-observed:
				if v == want {
					return
				}
			case <-timeout:
				t.Fatalf("the observer never saw %s lead", want)
			}
		}
	}
	waitLeader("c1")

	var done atomic.Int64
	var inside atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			mu := concurrency.NewMutex(s, "/lock")
			for i := 0; i < rounds; i++ {
				retry(t, "lock", func(ctx context.Context) error { return mu.Lock(ctx) })
				if inside.Add(1) != 1 {
					t.Errorf("worker %d is in the critical section with another", w)
				}
				// The increment records itself, so that a call that failed
				// after it was applied is not applied twice.
				mark := fmt.Sprintf("/log/%d-%d", w, i)
				retry(t, "increment", func(ctx context.Context) error {
					if r, err := cli.Get(ctx, mark); err != nil || len(r.Kvs) == 1 {
						return err
					}
					r, err := cli.Get(ctx, "/cnt")
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(r.Kvs[0].Value))
					tr, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision("/cnt"), "=", r.Kvs[0].ModRevision)).
						Then(clientv3.OpPut("/cnt", strconv.Itoa(n+1)), clientv3.OpPut(mark, "")).Commit()
					if err == nil && !tr.Succeeded {
						t.Errorf("worker %d holds the lock, but /cnt changed under it", w)
					}
					return err
				})
				inside.Add(-1)
				retry(t, "unlock", func(ctx context.Context) error { return mu.Unlock(ctx) })

				// And one STM transfer between two accounts.
				from, to := rand.IntN(accounts), rand.IntN(accounts)
				retry(t, "transfer", func(ctx context.Context) error {
					_, err := concurrency.NewSTM(cli, func(stm concurrency.STM) error {
						a, _ := strconv.Atoi(stm.Get(fmt.Sprintf("/acct/%d", from)))
						b, _ := strconv.Atoi(stm.Get(fmt.Sprintf("/acct/%d", to)))
						amount := min(a, 7)
						if from == to {
							return nil
						}
						stm.Put(fmt.Sprintf("/acct/%d", from), strconv.Itoa(a-amount))
						stm.Put(fmt.Sprintf("/acct/%d", to), strconv.Itoa(b+amount))
						return nil
					}, concurrency.WithAbortContext(ctx))
					return err
				})
				done.Add(1)
			}
		}(w)
	}

	// Kill the leader once a third of the work is done.
	for done.Load() < workers*rounds/3 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	lead := c.leader()
	t.Logf("killing the leader %s after %d rounds", lead.name, done.Load())
	lead.kill9()
	wg.Wait()

	// The election hands over after the kill: c1 resigns, c2 wins.
	s2, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		t.Fatal(err)
	}
	e2 := concurrency.NewElection(s2, "/el")
	won := make(chan error, 1)
	go func() { won <- e2.Campaign(ctx, "c2") }()
	retry(t, "resign", func(ctx context.Context) error { return e1.Resign(ctx) })
	if err := <-won; err != nil {
		t.Fatal(err)
	}
	waitLeader("c2")

	var r *clientv3.GetResponse
	retry(t, "read /cnt", func(ctx context.Context) (err error) { r, err = cli.Get(ctx, "/cnt"); return err })
	if got := string(r.Kvs[0].Value); got != strconv.Itoa(workers*rounds) {
		t.Errorf("/cnt = %s after %d increments under the mutex", got, workers*rounds)
	}
	retry(t, "read the accounts", func(ctx context.Context) (err error) {
		r, err = cli.Get(ctx, "/acct/", clientv3.WithPrefix())
		return err
	})
	sum := 0
	for _, kv := range r.Kvs {
		n, _ := strconv.Atoi(string(kv.Value))
		sum += n
	}
	if len(r.Kvs) != accounts || sum != 100*accounts {
		t.Errorf("after the transfers: %d accounts holding %d, want %d holding %d", len(r.Kvs), sum, accounts, 100*accounts)
	}
}
