package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// leaseExpiryWorkload measures what a mass expiry of leases does to
// writes. Before the clock starts it grants --leases leases (TTL
// --lease-ttl) and attaches one key to each (<prefix>lease/<n>, a
// transaction of 100 puts per request); then --clients writers put keys
// (as the put workload: --rate, --val-size, --key-space-size under
// --prefix) while the leases expire, until every lease key is gone and
// --lease-tail more has passed (or --duration, or --total, ends it first).
// The setup sends 64 requests at a time (or --clients, if more); choose a
// --lease-ttl well above the time it takes, or leases expire before their
// keys are attached (the run then fails). A poller counts the lease keys
// every 100ms; each put is put in the phase
// its sending falls in: before the first lease key disappeared, during the
// expiry, or after the last one. The report's requests are the puts; its
// lease_expiry section has the latency of each phase and how fast the
// leases went.
var leaseExpiryWorkload = &workload{
	name:    "lease-expiry",
	help:    "puts while --leases leases with a key each expire (--lease-ttl)",
	options: []string{"lease-ttl", "leases", "lease-tail"},
	run:     runLeaseExpiry,
}

// LeaseExpiryReport is lease-expiry's part of the report.
type LeaseExpiryReport struct {
	Leases int64 `json:"leases"`
	// TTLSeconds is the leases' TTL; SetupSeconds how long granting them
	// and attaching their keys took.
	TTLSeconds   int64   `json:"ttl_seconds"`
	SetupSeconds float64 `json:"setup_seconds"`
	// ExpirySeconds is from the first lease key seen gone to the last;
	// KeysPerSecond the rate at which they went. Complete says every lease
	// key went before the run ended.
	ExpirySeconds float64 `json:"expiry_seconds"`
	KeysPerSecond float64 `json:"keys_per_second"`
	Complete      bool    `json:"complete"`
	// The puts sent before, during and after the expiry.
	Before LeasePhase `json:"before"`
	During LeasePhase `json:"during"`
	After  LeasePhase `json:"after"`
}

// LeasePhase is the puts of one phase of lease-expiry.
type LeasePhase struct {
	Puts      uint64  `json:"puts"`
	Failed    uint64  `json:"failed"`
	LatencyMs Latency `json:"latency_ms"`
}

func (l *LeaseExpiryReport) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "\nLeases:      %d with a key each, TTL %ds, set up in %.1fs\n", l.Leases, l.TTLSeconds, l.SetupSeconds)
	fmt.Fprintf(b, "Expiry:      %.1fs from the first key gone to the last, %.0f keys/s", l.ExpirySeconds, l.KeysPerSecond)
	if !l.Complete {
		b.WriteString(" (INCOMPLETE: lease keys were left when the run ended)")
	}
	b.WriteString("\n")
	for _, p := range []struct {
		name string
		ph   *LeasePhase
	}{{"before", &l.Before}, {"during", &l.During}, {"after", &l.After}} {
		fmt.Fprintf(b, "\nPuts %s the expiry: %d (%d failed), latency (ms):\n", p.name, p.ph.Puts, p.ph.Failed)
		if p.ph.Puts > 0 {
			writeLatency(b, p.ph.LatencyMs)
		}
	}
}

// expiryClock records when the lease keys started and finished going, in
// nanoseconds since the run's start (0: not yet).
type expiryClock struct {
	first, last atomic.Int64
}

// phase returns 0, 1 or 2 for a put sent at t: before, during, after.
func (c *expiryClock) phase(t time.Time, start time.Time) int {
	at := int64(t.Sub(start))
	if f := c.first.Load(); f == 0 || at < f {
		return 0
	}
	if l := c.last.Load(); l == 0 || at < l {
		return 1
	}
	return 2
}

func runLeaseExpiry(ctx context.Context, cfg *Config) (*runResult, error) {
	cfg.pickSeed()
	eps := newEndpoints(cfg)
	defer closeEndpoints(eps)
	leasePrefix := cfg.Prefix + "lease/"
	setupStart := time.Now()
	if err := setUpExpiringLeases(ctx, cfg, eps, leasePrefix); err != nil {
		return nil, err
	}
	setup := time.Since(setupStart)

	// The poller: counts the lease keys, marks the phases, and ends the
	// run --lease-tail after the last one went.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	r := &runner{cfg: cfg, keys: newKeyGen(cfg), ctx: rctx}
	r.start = time.Now()
	if cfg.Duration > 0 {
		r.deadline = r.start.Add(cfg.Duration)
	}
	var clock expiryClock
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		var buf bytes.Buffer
		body := []byte(`{"key":"` + b64(leasePrefix) + `","range_end":"` + b64(prefixEnd(leasePrefix)) + `","count_only":true}`)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
			}
			status, ans, err := eps[0].do(rctx, request{path: "/v3/kv/range", body: body}, &buf)
			if err != nil || status != 200 {
				continue
			}
			n, _ := strconv.ParseInt(string(unquote(jsonField(ans, []byte(`"count"`)))), 10, 64)
			now := int64(time.Since(r.start))
			if n < int64(cfg.Leases) && clock.first.Load() == 0 {
				clock.first.Store(now)
			}
			if n == 0 {
				clock.last.Store(now)
				select {
				case <-time.After(cfg.LeaseTail):
				case <-rctx.Done():
				}
				stop()
				return
			}
		}
	}()

	cpu0, cpuOK := processCPU()
	value := valueBytes(cfg.Seed, cfg.ValSize)
	recs := make([][3]*recorder, cfg.Clients)
	var writers sync.WaitGroup
	for i := range cfg.Clients {
		recs[i] = [3]*recorder{newRecorder(), newRecorder(), newRecorder()}
		writers.Add(1)
		go func() {
			defer writers.Done()
			expiryWriter(r, eps[i%len(eps)], rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)), value, &clock, recs[i])
		}()
	}
	writers.Wait()
	elapsed := time.Since(r.start)
	stop()
	<-pollDone
	cpu1, _ := processCPU()

	res := &runResult{rec: newRecorder(), elapsed: elapsed}
	var phases [3]*recorder
	for p := range phases {
		phases[p] = newRecorder()
		for _, c := range recs {
			phases[p].merge(c[p])
		}
		res.rec.merge(phases[p])
	}
	if cpuOK {
		res.cpu = cpu1 - cpu0
	}
	le := &LeaseExpiryReport{Leases: int64(cfg.Leases), TTLSeconds: cfg.LeaseTTL, SetupSeconds: setup.Seconds()}
	if f, l := clock.first.Load(), clock.last.Load(); f > 0 && l > 0 {
		le.Complete = true
		le.ExpirySeconds = time.Duration(l - f).Seconds()
		if le.ExpirySeconds > 0 {
			le.KeysPerSecond = float64(cfg.Leases) / le.ExpirySeconds
		}
	}
	for p, ph := range []*LeasePhase{&le.Before, &le.During, &le.After} {
		ph.Puts = phases[p].lat.count()
		for _, n := range phases[p].failed {
			ph.Failed += n
		}
		ph.LatencyMs = latencyOf(&phases[p].lat)
	}
	res.leaseExpiry = le
	return res, nil
}

// setupWorkers is how many requests at a time lease-expiry's setup sends
// (at least; --clients if more): the setup must finish well within the
// leases' TTL.
const setupWorkers = 64

// setUpExpiringLeases grants cfg.Leases leases and puts one key under
// prefix for each, setupWorkers (or --clients) requests at a time.
func setUpExpiringLeases(ctx context.Context, cfg *Config, eps []*endpoint, prefix string) error {
	n := cfg.Leases
	ids := make([]int64, n)
	grant := []byte(`{"TTL":` + strconv.FormatInt(cfg.LeaseTTL, 10) + `}`)
	var first atomic.Pointer[error]
	parallel := func(jobs int, job func(ep *endpoint, buf *bytes.Buffer, j int) error) {
		var wg sync.WaitGroup
		workers := min(max(cfg.Clients, setupWorkers), jobs)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				for j := w; j < jobs && first.Load() == nil; j += workers {
					if err := job(eps[w%len(eps)], &buf, j); err != nil {
						first.CompareAndSwap(nil, &err)
					}
				}
			}()
		}
		wg.Wait()
	}
	post := func(ep *endpoint, buf *bytes.Buffer, path string, body []byte) ([]byte, error) {
		status, ans, err := ep.do(ctx, request{path: path, body: body}, buf)
		if err == nil && status != 200 {
			err = errors.New(statusMessage(status, ans))
		}
		return ans, err
	}
	parallel(n, func(ep *endpoint, buf *bytes.Buffer, i int) error {
		ans, err := post(ep, buf, "/v3/lease/grant", bytes.Clone(grant))
		if err == nil {
			ids[i], err = leaseID(ans)
		}
		if err != nil {
			return fmt.Errorf("granting lease %d of %d: %w", i+1, n, err)
		}
		return nil
	})
	if p := first.Load(); p != nil {
		return *p
	}
	const perTxn = 100
	parallel((n+perTxn-1)/perTxn, func(ep *endpoint, buf *bytes.Buffer, t int) error {
		var b bytes.Buffer
		b.WriteString(`{"success":[`)
		for i := t * perTxn; i < min((t+1)*perTxn, n); i++ {
			if i > t*perTxn {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"request_put":{"key":"%s","value":"dg==","lease":"%d"}}`,
				base64.StdEncoding.EncodeToString([]byte(prefix+strconv.Itoa(i))), ids[i])
		}
		b.WriteString(`]}`)
		if _, err := post(ep, buf, "/v3/kv/txn", b.Bytes()); err != nil {
			return fmt.Errorf("attaching keys to leases: %w", err)
		}
		return nil
	})
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

// expiryWriter puts keys at the runner's pace, recording each in the phase
// its sending fell in.
func expiryWriter(r *runner, ep *endpoint, rng *rand.Rand, value []byte, clock *expiryClock, recs [3]*recorder) {
	var (
		timer *time.Timer
		key   []byte
		buf   bytes.Buffer
		tail  = []byte(`","value":"` + base64.StdEncoding.EncodeToString(value) + `"}`)
		body  = jsonBody{head: []byte(`{"key":"`), tail: tail}
	)
	for {
		n, ok := r.next(&timer)
		if !ok {
			return
		}
		key = r.keys.appendKey(key[:0], r.keys.pick(n, rng))
		sent := time.Now()
		status, answer, err := ep.do(r.ctx, request{path: "/v3/kv/put", body: body.build(key)}, &buf)
		latency := time.Since(sent)
		rec := recs[clock.phase(sent, r.start)]
		switch {
		case err != nil && r.ctx.Err() != nil:
			return
		case err != nil:
			rec.fail(errorMessage(err))
		case status != 200:
			rec.fail(statusMessage(status, answer))
		default:
			rec.succeed(latency, "")
		}
	}
}
