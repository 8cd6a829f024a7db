package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testSeed fixes the value bytes so the test can check what landed.
const testSeed = 42

// testWorkloads runs each workload against the v3 JSON gateway at endpoint
// for a few hundred requests and checks, through the same API, that the
// report is consistent and the writes really landed. Keys go under a fresh
// prefix, so endpoint may hold other data.
func testWorkloads(t *testing.T, endpoint string) {
	base := fmt.Sprintf("cairn-bench-test/%d/", time.Now().UnixNano())
	bench := func(t *testing.T, set func(*Config)) *Report {
		t.Helper()
		cfg := DefaultConfig()
		cfg.Endpoints = []string{endpoint}
		cfg.Seed = testSeed
		set(&cfg)
		rep, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkReportAddsUp(t, rep)
		if rep.Seed != testSeed || rep.Workload != cfg.Workload || rep.Clients != cfg.Clients || rep.KeySpaceSize != cfg.KeySpaceSize {
			t.Errorf("report seed %d workload %s clients %d key space %d, want the config's %d %s %d %d",
				rep.Seed, rep.Workload, rep.Clients, rep.KeySpaceSize, cfg.Seed, cfg.Workload, cfg.Clients, cfg.KeySpaceSize)
		}
		return rep
	}

	t.Run("put sequential keys", func(t *testing.T) {
		rep := bench(t, func(c *Config) {
			c.Prefix, c.SequentialKeys, c.KeySpaceSize, c.Total, c.Clients, c.ValSize = base+"put/", true, 300, 300, 8, 100
		})
		wantClean(t, rep, 300)
		kvs := rangePrefix(t, endpoint, base+"put/")
		if len(kvs) != 300 {
			t.Fatalf("%d keys landed, want 300", len(kvs))
		}
		want := valueBytes(testSeed, 100)
		for i, kv := range kvs {
			if wantKey := fmt.Sprintf("%sput/%08d", base, i); kv.key != wantKey || kv.version != 1 || !bytes.Equal(kv.value, want) {
				t.Fatalf("key %d: %q version %d value %x; want %q version 1 value %x", i, kv.key, kv.version, kv.value, wantKey, want)
			}
		}
	})

	t.Run("put through net/http's client", func(t *testing.T) {
		rep := bench(t, func(c *Config) {
			c.HTTPClient = "std"
			c.Prefix, c.SequentialKeys, c.KeySpaceSize, c.Total, c.Clients, c.ValSize = base+"std/", true, 100, 100, 4, 100
		})
		wantClean(t, rep, 100)
		if rep.HTTPClient != "std" {
			t.Errorf("report names the %q client, want std", rep.HTTPClient)
		}
		if kvs := rangePrefix(t, endpoint, base+"std/"); len(kvs) != 100 || !bytes.Equal(kvs[99].value, valueBytes(testSeed, 100)) {
			t.Fatalf("%d keys landed, want 100 with the run's value", len(kvs))
		}
	})

	t.Run("put random keys over two endpoints", func(t *testing.T) {
		rep := bench(t, func(c *Config) {
			c.Endpoints = []string{endpoint, endpoint}
			c.Prefix, c.KeySpaceSize, c.KeySize, c.Total, c.Clients, c.Conns, c.ValSize = base+"rand/", 50, 4, 300, 4, 2, 16
		})
		wantClean(t, rep, 300)
		kvs := rangePrefix(t, endpoint, base+"rand/")
		var versions int64
		for _, kv := range kvs {
			n, err := strconv.Atoi(strings.TrimPrefix(kv.key, base+"rand/"))
			if len(kv.key) != len(base+"rand/")+4 || err != nil || n >= 50 {
				t.Fatalf("key %q is not a 4-digit key below 50", kv.key)
			}
			versions += kv.version
		}
		if versions != 300 || len(kvs) == 0 {
			t.Fatalf("%d keys with %d versions in all, want 300 puts", len(kvs), versions)
		}
	})

	t.Run("clients and connections spread over endpoints", func(t *testing.T) {
		// Two counting proxies in front of the target stand for two members.
		a, b := newCountingProxy(t, endpoint), newCountingProxy(t, endpoint)
		rep := bench(t, func(c *Config) {
			c.Endpoints = []string{a.url, b.url}
			c.Prefix, c.KeySpaceSize, c.Total, c.Clients, c.Conns = base+"spread/", 1000, 200, 8, 3
		})
		wantClean(t, rep, 200)
		// Endpoint a gets clients 0,2,4,6 over 2 connections, b gets 1,3,5,7 over 1.
		if a.requests.Load()+b.requests.Load() != 200 || a.requests.Load() == 0 || b.requests.Load() == 0 {
			t.Errorf("requests %d and %d, want 200 spread over both", a.requests.Load(), b.requests.Load())
		}
		if na, nb := a.conns.Load(), b.conns.Load(); na < 1 || na > 2 || nb != 1 {
			t.Errorf("connections opened %d and %d, want at most 2 and 1", na, nb)
		}
	})

	t.Run("txn-put", func(t *testing.T) {
		rep := bench(t, func(c *Config) {
			c.Workload = "txn-put"
			c.Prefix, c.SequentialKeys, c.KeySpaceSize, c.Total, c.Clients = base+"txn/", true, 100, 300, 8
		})
		wantClean(t, rep, 300)
		kvs := rangePrefix(t, endpoint, base+"txn/")
		if len(kvs) != 100 {
			t.Fatalf("%d keys landed, want 100", len(kvs))
		}
		for _, kv := range kvs {
			if kv.version != 3 || !bytes.Equal(kv.value, valueBytes(testSeed, 8)) {
				t.Fatalf("key %q version %d value %x, want version 3 (300 puts over 100 keys)", kv.key, kv.version, kv.value)
			}
		}
	})

	for _, consistency := range []string{"l", "s"} {
		t.Run("range present keys consistency "+consistency, func(t *testing.T) {
			rep := bench(t, func(c *Config) {
				c.Workload, c.Consistency = "range", consistency
				c.Prefix, c.KeySpaceSize, c.Total, c.Clients = base+"put/", 300, 300, 8
			})
			wantClean(t, rep, 300)
			if rep.Consistency != consistency {
				t.Errorf("report consistency %q, want %q", rep.Consistency, consistency)
			}
		})
	}

	t.Run("range absent keys", func(t *testing.T) {
		rep := bench(t, func(c *Config) {
			c.Workload = "range"
			c.Prefix, c.KeySpaceSize, c.Total, c.Clients = base+"absent/", 1000, 50, 2
		})
		if rep.Succeeded != 50 || rep.Failed != 0 || rep.Notes[noteEmptyRange] != 50 {
			t.Fatalf("succeeded %d failed %d notes %v; want 50 successes all noted empty", rep.Succeeded, rep.Failed, rep.Notes)
		}
	})

	t.Run("failures are counted and not successes", func(t *testing.T) {
		// A value over the default --max-request-bytes (1.5 MiB) is refused.
		rep := bench(t, func(c *Config) {
			c.Prefix, c.ValSize, c.Total, c.Clients = base+"big/", 1600*1024, 3, 1
		})
		if rep.Succeeded != 0 || rep.Failed != 3 || len(rep.Errors) != 1 {
			t.Fatalf("succeeded %d failed %d errors %v; want 3 failures of one kind", rep.Succeeded, rep.Failed, rep.Errors)
		}
		for msg := range rep.Errors {
			if !strings.HasPrefix(msg, "HTTP 400: ") || !strings.Contains(msg, "request is too large") {
				t.Errorf("error message %q, want etcd's HTTP 400 request is too large", msg)
			}
		}
		if kvs := rangePrefix(t, endpoint, base+"big/"); len(kvs) != 0 {
			t.Fatalf("%d refused puts landed", len(kvs))
		}
	})

	t.Run("rate within duration", func(t *testing.T) {
		// At 100/s, requests start at 0, 10ms, ... so no more than 30
		// start before the 300ms deadline, however slow the machine.
		rep := bench(t, func(c *Config) {
			c.Prefix, c.SequentialKeys, c.KeySpaceSize, c.Total, c.Duration, c.Rate, c.Clients = base+"rate/", true, 1000, 0, 300*time.Millisecond, 100, 2
		})
		if rep.Failed != 0 || rep.Total < 1 || rep.Total > 30 {
			t.Fatalf("total %d failed %d, want 1..30 successes", rep.Total, rep.Failed)
		}
		if kvs := rangePrefix(t, endpoint, base+"rate/"); uint64(len(kvs)) != rep.Succeeded {
			t.Fatalf("%d keys landed, report says %d puts", len(kvs), rep.Succeeded)
		}
	})

	t.Run("interrupt stops the run", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		prefix := base + "interrupt/"
		go func() { // cancel once 20 puts have landed
			for ctx.Err() == nil && countPrefix(endpoint, prefix) < 20 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		cfg := DefaultConfig()
		cfg.Endpoints, cfg.Seed, cfg.Prefix = []string{endpoint}, testSeed, prefix
		cfg.SequentialKeys, cfg.KeySpaceSize, cfg.Total, cfg.Duration, cfg.Clients = true, 1000000, 0, time.Minute, 2
		rep, err := Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkReportAddsUp(t, rep)
		if !rep.Interrupted || rep.Failed != 0 || rep.Succeeded < 18 {
			t.Fatalf("interrupted %v succeeded %d failed %d errors %v", rep.Interrupted, rep.Succeeded, rep.Failed, rep.Errors)
		}
		// At least 20 puts landed before the cancel, and at most one per
		// client (2) was cut short and not counted. Every success landed;
		// puts cut short may have landed too.
		if n := countPrefix(endpoint, prefix); uint64(n) < rep.Succeeded {
			t.Fatalf("%d keys landed, report says %d puts", n, rep.Succeeded)
		}
	})

	t.Run("command line with json output", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), []string{"txn-put", "--endpoints", endpoint, "--prefix", base + "cli/",
			"--total", "40", "--clients", "3", "--sequential-keys", "--key-space-size", "40", "--output", "json"},
			nil, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d, stderr %s", code, stderr.String())
		}
		if bytes.Count(bytes.TrimSpace(stdout.Bytes()), []byte("\n")) != 0 {
			t.Errorf("JSON report is not one line:\n%s", stdout.String())
		}
		var rep Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("output is not a JSON report: %v\n%s", err, stdout.String())
		}
		checkReportAddsUp(t, &rep)
		wantClean(t, &rep, 40)
		if rep.Workload != "txn-put" || rep.Clients != 3 || rep.Conns != 3 || rep.OpsPerSecond <= 0 || rep.Seed == 0 || rep.HTTPClient != "raw" {
			t.Errorf("report %+v", rep)
		}
		if n := countPrefix(endpoint, base+"cli/"); n != 40 {
			t.Fatalf("%d keys landed, want 40", n)
		}
	})
}

// checkReportAddsUp checks the report's internal arithmetic.
func checkReportAddsUp(t *testing.T, r *Report) {
	t.Helper()
	var failed, binned, noted uint64
	for _, n := range r.Errors {
		failed += n
	}
	for _, row := range r.Histogram {
		binned += row.Count
	}
	for _, n := range r.Notes {
		noted += n
	}
	if r.Total != r.Succeeded+r.Failed || r.Failed != failed || binned != r.Succeeded || noted > r.Succeeded {
		t.Errorf("counts do not add up: total %d succeeded %d failed %d errors %v (sum %d) histogram sum %d notes %v",
			r.Total, r.Succeeded, r.Failed, r.Errors, failed, binned, r.Notes)
	}
	l := r.LatencyMs
	if r.Succeeded > 0 && !(0 < l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 &&
		l.P999 <= l.Max && l.Min <= l.Avg && l.Avg <= l.Max) {
		t.Errorf("latency summary out of order: %+v", l)
	}
	if r.Succeeded > 0 && (r.DurationSeconds <= 0 || r.OpsPerSecond <= 0) {
		t.Errorf("duration %v s, %v ops/s", r.DurationSeconds, r.OpsPerSecond)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), fmt.Sprintf("%d total, %d succeeded, %d failed", r.Total, r.Succeeded, r.Failed)) {
		t.Errorf("text report (err %v):\n%s", err, text.String())
	}
}

// wantClean checks a run of n requests that should all have succeeded with
// nothing noted.
func wantClean(t *testing.T, r *Report, n uint64) {
	t.Helper()
	if r.Total != n || r.Succeeded != n || r.Failed != 0 || len(r.Notes) != 0 || r.Interrupted {
		t.Fatalf("total %d succeeded %d failed %d errors %v notes %v interrupted %v; want %d clean successes",
			r.Total, r.Succeeded, r.Failed, r.Errors, r.Notes, r.Interrupted, n)
	}
}

// countingProxy is a reverse proxy to a target that counts the
// connections opened to it and the requests it forwards.
type countingProxy struct {
	url      string
	conns    atomic.Int64
	requests atomic.Int64
}

// newCountingProxy starts a countingProxy on loopback, closed at cleanup.
func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		rp.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		rp.Transport.(*http.Transport).CloseIdleConnections()
	})
	p.url = srv.URL
	return p
}

// testHTTP is the tests' own client; it keeps no idle connections, so no
// goroutine outlives a test.
var testHTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// storedKV is a key-value read back through the gateway.
type storedKV struct {
	key     string
	value   []byte
	version int64
}

// gatewayRange posts a range over every key with prefix and returns the
// decoded answer.
func gatewayRange(endpoint, prefix string, countOnly bool) (kvs []storedKV, count int64, err error) {
	end := []byte(prefix)
	end[len(end)-1]++ // prefixes here end in '/', never 0xff
	req, _ := json.Marshal(map[string]any{"key": []byte(prefix), "range_end": end, "count_only": countOnly})
	resp, err := testHTTP.Post(endpoint+"/v3/kv/range", "application/json", bytes.NewReader(req))
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return nil, 0, fmt.Errorf("range %s: %d %s %v", prefix, resp.StatusCode, body, err)
	}
	var out struct {
		Kvs []struct {
			Key, Value, Version string
		}
		Count string
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, 0, fmt.Errorf("range answer %s: %v", body, err)
	}
	for _, kv := range out.Kvs {
		k, err1 := base64.StdEncoding.DecodeString(kv.Key)
		v, err2 := base64.StdEncoding.DecodeString(kv.Value)
		ver, err3 := strconv.ParseInt(kv.Version, 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, 0, fmt.Errorf("range answer %s: bad kv %+v", body, kv)
		}
		kvs = append(kvs, storedKV{key: string(k), value: v, version: ver})
	}
	if out.Count != "" {
		count, err = strconv.ParseInt(out.Count, 10, 64)
	}
	return kvs, count, err
}

// rangePrefix returns every key-value under prefix, in key order.
func rangePrefix(t *testing.T, endpoint, prefix string) []storedKV {
	t.Helper()
	kvs, count, err := gatewayRange(endpoint, prefix, false)
	if err != nil {
		t.Fatal(err)
	}
	if count != int64(len(kvs)) {
		t.Fatalf("range %s: count %d but %d kvs", prefix, count, len(kvs))
	}
	return kvs
}

// countPrefix returns how many keys are under prefix, -1 on error.
func countPrefix(endpoint, prefix string) int64 {
	_, count, err := gatewayRange(endpoint, prefix, true)
	if err != nil {
		return -1
	}
	return count
}
