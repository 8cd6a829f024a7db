package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
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
	kind     string // "put", "get", "cas", "delete", "revoke"
	key      string
	value    string // put: the value; cas: the new value
	lease    int64  // put: the lease attached (0 = none); revoke: the lease revoked
	expect   string // cas: the value compared with ("" = absent)
	unknown  bool   // outcome unknown
	got      string // get: the value read ("" = absent)
	gotLease int64  // get: the lease of the key read
	swapped  bool   // cas: whether the comparison held
	casValue string // cas that failed: the value read in the else branch
	deleted  bool   // delete: whether a key was deleted
}

// linState is one key's state in the model: its value ("" = absent) and
// the lease it is attached to. A lease is only ever attached to one key,
// so a revoke touches one key and the history splits by key.
type linState struct {
	value string
	lease int64
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
	Init: func() interface{} { return linState{} },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		cur := state.(linState)
		op := input.(*linOp)
		switch op.kind {
		case "put":
			return true, linState{op.value, op.lease}
		case "get":
			return op.got == cur.value && op.gotLease == cur.lease, cur
		case "cas":
			if op.unknown {
				if cur.value == op.expect {
					return true, linState{value: op.value}
				}
				return true, cur
			}
			if op.swapped {
				return cur.value == op.expect, linState{value: op.value}
			}
			return cur.value != op.expect && op.casValue == cur.value, cur
		case "delete":
			return op.unknown || op.deleted == (cur.value != ""), linState{}
		case "revoke":
			if cur.lease == op.lease {
				return true, linState{}
			}
			return true, cur
		}
		return false, cur
	},
	DescribeOperation: func(input, output interface{}) string {
		op := input.(*linOp)
		switch op.kind {
		case "put":
			return fmt.Sprintf("put(%s, %s, lease %x) unknown=%v", op.key, op.value, op.lease, op.unknown)
		case "get":
			return fmt.Sprintf("get(%s) -> %q lease %x", op.key, op.got, op.gotLease)
		case "delete":
			return fmt.Sprintf("delete(%s) deleted=%v unknown=%v", op.key, op.deleted, op.unknown)
		case "revoke":
			return fmt.Sprintf("revoke(%x) of %s unknown=%v", op.lease, op.key, op.unknown)
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
					op.swapped, op.casValue, _, err = m.cas(ctx, key, op.expect, op.value)
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
// absent), put value; else read the key. rev is the revision of the
// answer (of the put, if swapped).
func (m *member) cas(ctx context.Context, key, expect, value string) (swapped bool, read string, rev int64, err error) {
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
		Header    header `json:"header"`
		Succeeded bool   `json:"succeeded"`
		Responses []struct {
			ResponseRange *rangeResult `json:"response_range"`
		} `json:"responses"`
	}
	if err := m.call(ctx, "/v3/kv/txn", body, &out); err != nil {
		return false, "", 0, err
	}
	rev, err = strconv.ParseInt(out.Header.Revision, 10, 64)
	if err != nil {
		return false, "", 0, err
	}
	if out.Succeeded {
		return true, "", rev, nil
	}
	if len(out.Responses) == 1 && out.Responses[0].ResponseRange != nil && len(out.Responses[0].ResponseRange.Kvs) == 1 {
		b, err := base64.StdEncoding.DecodeString(out.Responses[0].ResponseRange.Kvs[0].Value)
		if err != nil {
			return false, "", 0, err
		}
		read = string(b)
	}
	return false, read, rev, nil
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
		{"delete, then absent", true, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1"}), op(2, 3, &linOp{kind: "delete", deleted: true}),
			op(4, 5, &linOp{kind: "get", got: ""}), op(6, 7, &linOp{kind: "delete"})}},
		{"delete of an absent key deleted something", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "delete", deleted: true})}},
		{"a read after a delete sees the old value", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1"}), op(2, 3, &linOp{kind: "delete", deleted: true}),
			op(4, 5, &linOp{kind: "get", got: "1"})}},
		{"read shows the lease", true, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1", lease: 7}), op(2, 3, &linOp{kind: "get", got: "1", gotLease: 7})}},
		{"read lost the lease", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1", lease: 7}), op(2, 3, &linOp{kind: "get", got: "1"})}},
		{"revoke deletes the key attached", true, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1", lease: 7}), op(2, 3, &linOp{kind: "revoke", lease: 7}),
			op(4, 5, &linOp{kind: "get", got: ""})}},
		{"revoke left the key attached", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1", lease: 7}), op(2, 3, &linOp{kind: "revoke", lease: 7}),
			op(4, 5, &linOp{kind: "get", got: "1", gotLease: 7})}},
		{"revoke of a lease the key left", true, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1", lease: 7}), op(2, 3, &linOp{kind: "put", value: "2"}),
			op(4, 5, &linOp{kind: "revoke", lease: 7}), op(6, 7, &linOp{kind: "get", got: "2"})}},
		{"swap detaches the lease", false, []porcupine.Operation{
			op(0, 1, &linOp{kind: "put", value: "1", lease: 7}),
			op(2, 3, &linOp{kind: "cas", expect: "1", value: "2", swapped: true}),
			op(4, 5, &linOp{kind: "get", got: "2", gotLease: 7})}},
	}
	for _, c := range cases {
		if got := porcupine.CheckOperations(linModel, c.h); got != c.ok {
			t.Errorf("%s: linearizable=%v, want %v", c.name, got, c.ok)
		}
	}
}
