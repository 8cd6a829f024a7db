package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"sort"
	"time"
)

// workload is one kind of benchmark request: how each client builds it and
// how a 200 answer is judged. Adding a workload is one file holding a
// workload value plus its line in the workloads table.
type workload struct {
	// name is what --workload takes.
	name string
	// help is a one-line description for the usage text.
	help string
	// options lists the workload-specific flags (see workloadOption) that
	// this workload honours; giving any other one is an error.
	options []string
	// newOp makes the request builder of one client. It is called once per
	// client before the clock starts; value is the shared value bytes.
	newOp func(cfg *Config, value []byte) (op, error)
	// run, if set, replaces Run's request/answer loop for a workload that
	// is not one (watch-latency); newOp is then unused. Run builds the
	// report from its result.
	run func(ctx context.Context, cfg *Config) (*runResult, error)
	// prepare, if set, runs before the clock starts, after the endpoints
	// are made (lease-keepalive grants its leases); an error stops the run.
	prepare func(ctx context.Context, cfg *Config, eps []*endpoint) error
	// stdClient makes the workload's requests go through net/http whatever
	// --http-client says: its answers are streams (lease-keepalive), which
	// the raw client is not meant for.
	stdClient bool
}

// runResult is what a workload's own runner hands back to Run.
type runResult struct {
	rec     *recorder     // the requests' tally
	elapsed time.Duration // of the requests
	cpu     time.Duration // the client's CPU time, 0 if unknown
	watch   *WatchReport
	// leaseExpiry is lease-expiry's part of the report.
	leaseExpiry *LeaseExpiryReport
}

// op builds one client's requests and judges the answers. Each client
// goroutine owns its op, so an op need not be safe for concurrent use.
type op interface {
	// build returns the request for key (the full key, prefix included).
	// key is only valid during the call. The returned body must be a
	// fresh slice: the HTTP transport may read it after the answer.
	build(key []byte) request
	// check judges the body of a 200 answer, valid only during the call.
	// A non-nil error makes the request a failure counted under
	// err.Error(); a non-empty note keeps it a success but counts it
	// under that note (e.g. a range that found nothing).
	check(body []byte) (note string, err error)
}

// request is one HTTP request of a workload.
type request struct {
	method      string // "" means POST
	path        string // appended to the endpoint, starts with "/"
	body        []byte
	contentType string // "" means application/json
}

// workloads is the table of workloads, in usage order.
var workloads = []*workload{
	putWorkload,
	rangeWorkload,
	txnPutWorkload,
	grpcPutWorkload,
	grpcRangeWorkload,
	grpcTxnPutWorkload,
	watchLatencyWorkload,
	leaseGrantWorkload,
	leaseKeepAliveWorkload,
	leaseExpiryWorkload,
	v2SetWorkload,
	v2GetWorkload,
	v2CASWorkload,
}

// workloadOption names the flags that only some workloads use.
var workloadOption = map[string]bool{
	"consistency":         true,
	"watchers":            true,
	"watchers-per-stream": true,
	"watch-transport":     true,
	"server-pid":          true,
	"drain-timeout":       true,
	"lease-ttl":           true,
	"leases":              true,
	"lease-tail":          true,
}

// lookupWorkload finds a workload by name.
func lookupWorkload(name string) (*workload, bool) {
	for _, w := range workloads {
		if w.name == name {
			return w, true
		}
	}
	return nil, false
}

// workloadNames lists the workload names, sorted.
func workloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	sort.Strings(names)
	return names
}

// uses reports whether the workload honours the workload-specific flag.
func (w *workload) uses(flag string) bool {
	for _, o := range w.options {
		if o == flag {
			return true
		}
	}
	return false
}

// jsonBody builds request bodies of the form head + base64(key) + tail,
// where head and tail are made once per client (tail may already hold the
// base64 of the value).
type jsonBody struct {
	head, tail []byte
}

// build returns a fresh body for key.
func (b *jsonBody) build(key []byte) []byte {
	n := len(b.head) + base64.StdEncoding.EncodedLen(len(key)) + len(b.tail)
	out := make([]byte, 0, n)
	out = append(out, b.head...)
	out = base64.StdEncoding.AppendEncode(out, key)
	return append(out, b.tail...)
}

// jsonField finds the value of the first member whose quoted name is
// quoted (e.g. `"kvs"`, quotes included) in the JSON object text body and returns the bytes from the start of that value (after
// the colon and any white space), or nil if there is no such member. It is a
// byte scan, not a parser: it suits gateway answers, whose strings are
// base64 or decimal and so never contain a quoted field name.
func jsonField(body, quoted []byte) []byte {
	for {
		i := bytes.Index(body, quoted)
		if i < 0 {
			return nil
		}
		body = bytes.TrimLeft(body[i+len(quoted):], " \t\r\n")
		if len(body) > 0 && body[0] == ':' {
			return bytes.TrimLeft(body[1:], " \t\r\n")
		}
	}
}

// digits returns the leading decimal digits of b (with a minus sign).
func digits(b []byte) []byte {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return b[:i]
}

// unquote strips the quotes of a JSON string value found by jsonField.
func unquote(b []byte) []byte {
	if len(b) > 0 && b[0] == '"' {
		if j := bytes.IndexByte(b[1:], '"'); j >= 0 {
			return b[1 : 1+j]
		}
	}
	return digits(b)
}

// b64 is s in standard base64, as the gateway carries keys and values.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// prefixEnd is the range end of every key with prefix p ("\x00": all keys).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00"
}
