package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// The linearizability check: clients put, get and compare-and-swap a few
// keys through every member of a 3-member cluster while the leader is
// killed with -9 and restarted, again and again. porcupine then checks that
// the history of what clients saw has a linearization (zero violations).
//
// A write that failed in a way that leaves its outcome open (a timeout, a
// member that died with it) may have taken effect at any time after its
// call: it enters the history with no return. A write that surely did not
// happen (the connection was refused, the member had no leader and dropped
// it) and a failed read are left out.

type linOp struct {
	kind     string // "put", "get", "cas"
	key      string
	value    string // put: the value; cas: the new value
	expect   string // cas: the value compared with ("" = absent)
	unknown  bool   // outcome unknown
	got      string // get: the value read ("" = absent)
	swapped  bool   // cas: whether the comparison held
	casValue string // cas that failed: the value read in the else branch
}

var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(*linOp).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		cur := state.(string)
		op := input.(*linOp)
		switch op.kind {
		case "put":
			return true, op.value
		case "get":
			return op.got == cur, cur
		case "cas":
			if op.unknown {
				if cur == op.expect {
					return true, op.value
				}
				return true, cur
			}
			if op.swapped {
				return cur == op.expect, op.value
			}
			return cur != op.expect && op.casValue == cur, cur
		}
		return false, cur
	},
	DescribeOperation: func(input, output interface{}) string {
		op := input.(*linOp)
		switch op.kind {
		case "put":
			return fmt.Sprintf("put(%s, %s) unknown=%v", op.key, op.value, op.unknown)
		case "get":
			return fmt.Sprintf("get(%s) -> %q", op.key, op.got)
		default:
			return fmt.Sprintf("cas(%s, %q -> %s) swapped=%v read=%q unknown=%v", op.key, op.expect, op.value, op.swapped, op.casValue, op.unknown)
		}
	},
}

// surelyNotApplied reports whether a failed write certainly did not happen.
func surelyNotApplied(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return strings.Contains(err.Error(), "etcdserver: no leader")
}

func TestClusterLinearizableUnderLeaderKills(t *testing.T) {
	c := startCluster(t, 3)
	keys := []string{"lin/a", "lin/b", "lin/c"}
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }

	var (
		mu      sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	record := func(client int, op *linOp, call, ret int64) {
		mu.Lock()
		history = append(history, porcupine.Operation{ClientId: client, Input: op, Call: call, Output: op, Return: ret})
		mu.Unlock()
	}
	// lastValue picks a value the key plausibly holds (the newest recorded
	// put or swap), so that compare-and-swaps succeed now and then.
	lastValue := func(key string) string {
		mu.Lock()
		defer mu.Unlock()
		for i := len(history) - 1; i >= 0 && i >= len(history)-20; i-- {
			op := history[i].Input.(*linOp)
			if op.key == key && !op.unknown && (op.kind == "put" || (op.kind == "cas" && op.swapped)) {
				return op.value
			}
		}
		return ""
	}
	const clients = 6
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m := c.members[(cl+i)%3]
				if !m.alive() {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				key := keys[(cl*7+i)%len(keys)]
				op := &linOp{key: key}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				call := now()
				var err error
				switch i % 3 {
				case 0:
					op.kind, op.value = "put", fmt.Sprintf("c%d-%d", cl, i)
					_, err = m.put(ctx, key, op.value)
				case 1:
					op.kind = "get"
					var r *rangeResult
					if r, err = m.rangeKey(ctx, key); err == nil && len(r.Kvs) == 1 {
						op.got = unb64(t, r.Kvs[0].Value)
					}
				case 2:
					op.kind, op.value = "cas", fmt.Sprintf("c%d-%d", cl, i)
					op.expect = lastValue(key)
					op.swapped, op.casValue, err = m.cas(ctx, key, op.expect, op.value)
				}
				ret := now()
				cancel()
				switch {
				case err == nil:
					record(cl, op, call, ret)
				case op.kind == "get" || surelyNotApplied(err):
					time.Sleep(5 * time.Millisecond)
				default:
					op.unknown = true
					record(cl, op, call, math.MaxInt64)
					time.Sleep(5 * time.Millisecond)
				}
			}
		}(cl)
	}

	// Chaos: kill -9 the leader, let the others go on, restart it; three
	// times.
	for round := 0; round < 3; round++ {
		time.Sleep(700 * time.Millisecond)
		lead := c.leader()
		lead.kill9()
		time.Sleep(700 * time.Millisecond)
		lead.restart()
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	var unknown, done int
	for _, op := range history {
		if op.Input.(*linOp).unknown {
			unknown++
		} else {
			done++
		}
	}
	t.Logf("history: %d completed operations, %d with unknown outcome", done, unknown)
	if done < 300 {
		t.Fatalf("only %d operations completed: the cluster barely served", done)
	}
	// After the churn every member has the same history.
	rev := c.members[0].revision(t)
	h0, _ := c.members[0].hashKV(t, rev)
	for _, m := range c.members[1:] {
		if h, _ := m.hashKV(t, rev); h != h0 {
			t.Fatalf("hashkv at revision %d: %s has %d, %s %d", rev, c.members[0].name, h0, m.name, h)
		}
	}
	res, info := porcupine.CheckOperationsVerbose(linModel, history, 2*time.Minute)
	switch res {
	case porcupine.Ok:
	case porcupine.Illegal:
		path := t.TempDir() + "/linearizability.html"
		if err := porcupine.VisualizePath(linModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
		t.Fatal("the history is not linearizable")
	default:
		t.Fatal("the linearizability checker timed out")
	}
}

// cas runs a transaction: if key's value is expect ("" = the key is
// absent), put value; else read the key.
func (m *member) cas(ctx context.Context, key, expect, value string) (swapped bool, read string, err error) {
	cmp := map[string]any{"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(expect)}
	if expect == "" {
		cmp = map[string]any{"key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
	}
	body := map[string]any{
		"compare": []any{cmp},
		"success": []any{map[string]any{"request_put": map[string]any{"key": b64(key), "value": b64(value)}}},
		"failure": []any{map[string]any{"request_range": map[string]any{"key": b64(key)}}},
	}
	var out struct {
		Succeeded bool `json:"succeeded"`
		Responses []struct {
			ResponseRange *rangeResult `json:"response_range"`
		} `json:"responses"`
	}
	if err := m.call(ctx, "/v3/kv/txn", body, &out); err != nil {
		return false, "", err
	}
	if out.Succeeded {
		return true, "", nil
	}
	if len(out.Responses) == 1 && out.Responses[0].ResponseRange != nil && len(out.Responses[0].ResponseRange.Kvs) == 1 {
		b, err := base64.StdEncoding.DecodeString(out.Responses[0].ResponseRange.Kvs[0].Value)
		if err != nil {
			return false, "", err
		}
		read = string(b)
	}
	return false, read, nil
}

// The model and checker catch what they must: a stale read, a lost
// compare-and-swap, a read of a value nobody wrote; and accept an unknown
// write linearized late.
func TestLinearizabilityModel(t *testing.T) {
	op := func(call, ret int64, o *linOp) porcupine.Operation {
		o.key = "k"
		return porcupine.Operation{Input: o, Output: o, Call: call, Return: ret}
	}
	cases := []struct {
		name string
		ok   bool
		h    []porcupine.Operation
	}{
		{"sequential", true, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1"}), op(2, 3, &linOp{kind: "get", got: "1"})}},
		{"stale read", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1"}), op(2, 3, &linOp{kind: "put", value: "2"}),
			op(4, 5, &linOp{kind: "get", got: "1"})}},
		{"read of nothing written", false, []porcupine.Operation{op(0, 1, &linOp{kind: "get", got: "x"})}},
		{"swap against a stale value", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1"}), op(2, 3, &linOp{kind: "put", value: "2"}),
			op(4, 5, &linOp{kind: "cas", expect: "1", value: "3", swapped: true})}},
		{"failed swap must read the current value", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1"}),
			op(2, 3, &linOp{kind: "cas", expect: "0", value: "3", casValue: "9"})}},
		{"unknown write seen later", true, []porcupine.Operation{
			op(0, math.MaxInt64, &linOp{kind: "put", value: "1", unknown: true}),
			op(5, 6, &linOp{kind: "get", got: "1"})}},
		{"unknown write never seen", true, []porcupine.Operation{
			op(0, math.MaxInt64, &linOp{kind: "put", value: "1", unknown: true}),
			op(5, 6, &linOp{kind: "get", got: ""})}},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperations(linModel, c.h); got != c.ok {
			t.Errorf("%s: linearizable=%v, want %v", c.name, got, c.ok)
		}
	}
}
