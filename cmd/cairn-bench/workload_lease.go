package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// leaseGrantWorkload grants one lease per request:
// POST /v3/lease/grant {"TTL": --lease-ttl}. Keys are not used. The leases
// are left to expire on their own.
var leaseGrantWorkload = &workload{
	name:    "lease-grant",
	help:    "POST /v3/lease/grant of one lease (--lease-ttl)",
	options: []string{"lease-ttl"},
	newOp: func(cfg *Config, _ []byte) (op, error) {
		return &leaseGrantOp{body: []byte(`{"TTL":` + strconv.FormatInt(cfg.LeaseTTL, 10) + `}`)}, nil
	},
}

// idName and ttlName are the quoted names of lease answer fields.
var (
	idName  = []byte(`"ID"`)
	ttlName = []byte(`"TTL"`)
)

type leaseGrantOp struct {
	body []byte
}

func (o *leaseGrantOp) build([]byte) request {
	return request{path: "/v3/lease/grant", body: bytes.Clone(o.body)}
}

// check requires the granted lease's ID.
func (o *leaseGrantOp) check(body []byte) (string, error) {
	if _, err := leaseID(body); err != nil {
		return "", err
	}
	return "", nil
}

// leaseID reads the "ID" of a grant answer.
func leaseID(body []byte) (int64, error) {
	v := jsonField(body, idName)
	if len(v) < 2 || v[0] != '"' {
		return 0, errors.New("grant answered without an ID")
	}
	end := bytes.IndexByte(v[1:], '"')
	if end < 0 {
		return 0, errors.New("grant answered a malformed ID")
	}
	id, err := strconv.ParseInt(string(v[1:1+end]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("grant answered a malformed ID: %v", err)
	}
	return id, nil
}

// leaseKeepAliveWorkload keeps --key-space-size leases alive: before the
// clock starts it grants that many leases (TTL --lease-ttl, --clients
// grants at a time, not measured); then each request renews the lease of
// its key number with a one-shot POST /v3/lease/keepalive {"ID": id}, the
// way `curl -d` would. Keys choose leases: --sequential-keys renews them in
// turn. An answer without a TTL (the lease expired: choose --lease-ttl
// above the time a lease may wait for its next renewal) is a failure.
var leaseKeepAliveWorkload = &workload{
	name:    "lease-keepalive",
	help:    "POST /v3/lease/keepalive of one of --key-space-size leases granted first (--lease-ttl)",
	options: []string{"lease-ttl"},
	prepare: grantLeases,
	// A one-shot keepalive is the gateway's keepalive stream with one
	// request in its body.
	stdClient: true,
	newOp: func(cfg *Config, _ []byte) (op, error) {
		return &leaseKeepAliveOp{prefix: len(cfg.Prefix), ids: cfg.leaseIDs}, nil
	},
}

// grantLeases grants cfg.KeySpaceSize leases into cfg.leaseIDs.
func grantLeases(ctx context.Context, cfg *Config, eps []*endpoint) error {
	n := int(cfg.KeySpaceSize)
	cfg.leaseIDs = make([]int64, n)
	body := []byte(`{"TTL":` + strconv.FormatInt(cfg.LeaseTTL, 10) + `}`)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		firstEr error
	)
	workers := min(cfg.Clients, n)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ep := eps[w%len(eps)]
			var buf bytes.Buffer
			for i := w; i < n; i += workers {
				status, ans, err := ep.do(ctx, request{path: "/v3/lease/grant", body: bytes.Clone(body)}, &buf)
				if err == nil && status != 200 {
					err = errors.New(statusMessage(status, ans))
				}
				var id int64
				if err == nil {
					id, err = leaseID(ans)
				}
				if err != nil {
					mu.Lock()
					if firstEr == nil {
						firstEr = fmt.Errorf("granting lease %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					return
				}
				cfg.leaseIDs[i] = id
			}
		}(w)
	}
	wg.Wait()
	return firstEr
}

type leaseKeepAliveOp struct {
	prefix int // length of --prefix in each key
	ids    []int64
}

// build renews the lease of key number i (the key's digits after the
// prefix).
func (o *leaseKeepAliveOp) build(key []byte) request {
	i, _ := strconv.ParseUint(string(key[o.prefix:]), 10, 64)
	body := make([]byte, 0, 32)
	body = append(body, `{"ID":"`...)
	body = strconv.AppendInt(body, o.ids[i], 10)
	body = append(body, `"}`...)
	return request{path: "/v3/lease/keepalive", body: body}
}

// errLeaseGone counts keepalives of leases that had expired.
var errLeaseGone = errors.New("keepalive answered without a TTL (the lease expired)")

// check requires a result line with a TTL.
func (o *leaseKeepAliveOp) check(body []byte) (string, error) {
	if !bytes.HasPrefix(body, []byte(`{"result":`)) {
		return "", fmt.Errorf("keepalive answered %.80q", body)
	}
	if v := jsonField(body, ttlName); len(v) < 2 || v[0] != '"' {
		return "", errLeaseGone
	}
	return "", nil
}
