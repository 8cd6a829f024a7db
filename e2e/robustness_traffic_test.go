package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// The robustness clients: each sends v3 requests on a few keys through one
// member at a time (the next one after an error) and records what it saw.
// Every operation but the multi-key transaction enters a porcupine history
// for linearizability (linModel, linearizable_test.go): a write whose
// outcome is open (a timeout, a member that died with it) enters with no
// return; a write that surely did not happen and a failed read are left
// out. Every acknowledged write is also kept with its revision, for the
// checks against the members' histories.

// rbPrefix holds every key a scenario writes.
const rbPrefix = "/rb/"

var (
	// rbKeys are the keys of the linearizability history.
	rbKeys = []string{"/rb/k0", "/rb/k1", "/rb/k2", "/rb/k3", "/rb/k4"}
	// rbMulti are written together, in one revision.
	rbMulti = []string{"/rb/m/0", "/rb/m/1", "/rb/m/2"}
)

const (
	// opTimeout bounds each client request.
	opTimeout = 3 * time.Second
	// leaseTTL outlives any scenario: a lease ends only by revoke.
	leaseTTL = 600
)

// history is what the clients saw. Its methods are safe for concurrent
// use.
type history struct {
	start time.Time

	mu      sync.Mutex
	ops     []porcupine.Operation
	acks    []ackedWrite
	lost    []string // granted leases a later request did not find
	done    int      // operations that succeeded
	unknown int      // operations recorded without a return
	failed  int      // operations that surely did not happen, and failed reads
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

// finish records one operation (op nil: not in the porcupine history)
// that started at call and ended now with err; ack is the write it made,
// if it succeeded.
func (h *history) finish(client int, op *linOp, call int64, err error, ack *ackedWrite) {
	ret := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.done++
		if op != nil {
			h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: op, Call: call, Output: op, Return: ret})
		}
		if ack != nil {
			h.acks = append(h.acks, *ack)
		}
	case op == nil || op.kind == "get" || surelyNotApplied(err) || leaseNotFound(err):
		h.failed++
	default:
		h.unknown++
		op.unknown = true
		h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: op, Call: call, Output: op, Return: math.MaxInt64})
	}
}

func (h *history) leaseLost(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lost = append(h.lost, fmt.Sprintf(format, args...))
}

// rbClient is one client's state.
type rbClient struct {
	id     int
	rng    *rand.Rand
	seen   map[string]string // the last value it saw of each key
	leases []leasedKey       // attached by this client, not yet revoked
	ep     int               // the member it talks to
}

type leasedKey struct {
	lease int64
	key   string
}

// runClient makes requests until stop is closed (at most maxOps).
func (s *scenario) runClient(c *rbClient, stop <-chan struct{}) {
	const maxOps = 1 << 20
	for i := 0; i < maxOps; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if err := s.clientOp(c, i); err != nil {
			c.ep++ // try the next member
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// clientOp makes one random request.
func (s *scenario) clientOp(c *rbClient, i int) error {
	m := &member{url: s.clientURL(c.ep)} // a client's handle: just the URL
	key := rbKeys[c.rng.IntN(len(rbKeys))]
	value := fmt.Sprintf("c%d-%d", c.id, i)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	op := &linOp{key: key}
	var ack *ackedWrite
	var err error
	call := s.hist.now()
	switch p := c.rng.IntN(100); {
	case p < 35:
		op.kind = "get"
		var r *rangeResult
		if r, err = m.rangeKey(ctx, key); err == nil && len(r.Kvs) == 1 {
			op.got, op.gotLease, err = decodeValue(r.Kvs[0])
		}
		if err == nil {
			c.seen[key] = op.got
		}
	case p < 55:
		op.kind, op.value = "put", value
		var rev int64
		if rev, err = m.put(ctx, key, value); err == nil {
			ack, c.seen[key] = &ackedWrite{rev, []string{key}, value}, value
		}
	case p < 70:
		op.kind, op.value, op.expect = "cas", value, c.seen[key]
		var rev int64
		op.swapped, op.casValue, rev, err = m.cas(ctx, key, op.expect, value)
		switch {
		case err == nil && op.swapped:
			ack, c.seen[key] = &ackedWrite{rev, []string{key}, value}, value
		case err == nil:
			c.seen[key] = op.casValue
		}
	case p < 78:
		op.kind = "delete"
		var rev int64
		if op.deleted, rev, err = m.deleteKey(ctx, key); err == nil {
			if op.deleted {
				ack = &ackedWrite{rev: rev, keys: []string{key}}
			}
			c.seen[key] = ""
		}
	case p < 88:
		// Grant a lease (not an operation on a key), then attach it.
		var lease int64
		if lease, err = m.leaseGrant(ctx, leaseTTL); err != nil {
			return err
		}
		op.kind, op.value, op.lease = "put", value, lease
		call = s.hist.now()
		var rev int64
		rev, err = m.putLease(ctx, key, value, lease)
		switch {
		case err == nil:
			ack, c.seen[key] = &ackedWrite{rev, []string{key}, value}, value
			c.leases = append(c.leases, leasedKey{lease, key})
		case leaseNotFound(err):
			s.hist.leaseLost("lease %x, granted, was not found by a put on %s", lease, key)
		default:
			c.leases = append(c.leases, leasedKey{lease, key}) // maybe attached
		}
	case p < 93 && len(c.leases) > 0:
		l := c.leases[0]
		c.leases = c.leases[1:]
		op.kind, op.key, op.lease = "revoke", l.key, l.lease
		_, err = m.leaseRevoke(ctx, l.lease)
		if leaseNotFound(err) {
			s.hist.leaseLost("lease %x, granted and never revoked, was not found by its revoke", l.lease)
		}
		delete(c.seen, l.key)
	default:
		op = nil
		var rev int64
		if rev, err = m.putAll(ctx, rbMulti, value); err == nil {
			ack = &ackedWrite{rev, rbMulti, value}
		}
	}
	s.hist.finish(c.id, op, call, err, ack)
	return err
}

// decodeValue returns the value and lease of a key in a range answer.
func decodeValue(kv kv) (value string, lease int64, err error) {
	b, err := base64.StdEncoding.DecodeString(kv.Value)
	if err != nil || kv.Lease == "" {
		return string(b), 0, err
	}
	lease, err = strconv.ParseInt(kv.Lease, 10, 64)
	return string(b), lease, err
}
