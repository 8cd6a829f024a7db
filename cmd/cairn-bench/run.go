package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// maxMessages bounds the distinct failure messages (and notes) one client
// keeps; later new ones count under otherMessage.
const (
	maxMessages  = 64
	otherMessage = "(other messages)"
)

// Run sends the load cfg describes and returns its report. It validates cfg
// first. It returns early, with a report marked Interrupted, when ctx is
// done; requests cut short by that are not counted. Failures of requests
// are in the report, never an error; the error is for a config that cannot
// run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.authenticate(ctx); err != nil {
		return nil, err
	}
	w, _ := lookupWorkload(cfg.Workload)
	if w.run != nil {
		res, err := w.run(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		rep := newReport(&cfg, res.rec, res.elapsed, ctx.Err() != nil)
		rep.ClientCPUSeconds = res.cpu.Seconds()
		rep.Watch = res.watch
		rep.LeaseExpiry = res.leaseExpiry
		if res.watch != nil {
			for msg, n := range res.watch.errors {
				count(rep.Errors, msg, n)
			}
		}
		return rep, nil
	}
	cfg.pickSeed()
	seed := cfg.Seed
	value := valueBytes(seed, cfg.ValSize)

	eps := newEndpoints(&cfg)
	defer closeEndpoints(eps)
	if w.prepare != nil {
		if err := w.prepare(ctx, &cfg, eps); err != nil {
			return nil, fmt.Errorf("workload %s: %w", w.name, err)
		}
	}
	r := &runner{cfg: &cfg, keys: newKeyGen(&cfg), ctx: ctx}
	clients := make([]*client, cfg.Clients)
	for i := range clients {
		o, err := w.newOp(&cfg, value)
		if err != nil {
			return nil, fmt.Errorf("workload %s: %w", w.name, err)
		}
		clients[i] = &client{
			r:   r,
			ep:  eps[i%len(eps)],
			op:  o,
			rng: rand.New(rand.NewPCG(seed, uint64(i)+1)),
			rec: newRecorder(),
		}
	}

	cpu0, cpuOK := processCPU()
	r.start = time.Now()
	if cfg.Duration > 0 {
		r.deadline = r.start.Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.loop()
		}()
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	cpu1, _ := processCPU()

	total := newRecorder()
	for _, c := range clients {
		total.merge(c.rec)
	}
	rep := newReport(&cfg, total, elapsed, ctx.Err() != nil)
	if cpuOK {
		rep.ClientCPUSeconds = (cpu1 - cpu0).Seconds()
	}
	return rep, nil
}

// pickSeed gives c a random odd seed when --seed is 0 (pick one), so that
// the report says which seed repeats the run.
func (c *Config) pickSeed() {
	if c.Seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		c.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
}

// valueBytes returns the value of every request of a run with this seed:
// n pseudo-random bytes.
func valueBytes(seed uint64, n int) []byte {
	value := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range value {
		value[i] = byte(rng.Uint32())
	}
	return value
}

// runner is the state the clients of one run share: the request counter
// that enforces --total, --duration and --rate, and the key generator.
type runner struct {
	cfg      *Config
	keys     *keyGen
	ctx      context.Context
	start    time.Time
	deadline time.Time // zero: no --duration
	issued   atomic.Uint64
}

// next hands out the number of the next request to send, waiting for its
// slot under --rate, or reports false when the run is over (total reached,
// deadline passed or ctx done). timer is the caller's reusable timer.
func (r *runner) next(timer **time.Timer) (uint64, bool) {
	if r.ctx.Err() != nil {
		return 0, false
	}
	n := r.issued.Add(1) - 1
	if r.cfg.Total > 0 && n >= uint64(r.cfg.Total) {
		return 0, false
	}
	if r.cfg.Rate > 0 {
		due := r.start.Add(time.Duration(float64(n) / r.cfg.Rate * float64(time.Second)))
		if !r.deadline.IsZero() && !due.Before(r.deadline) {
			return 0, false
		}
		if wait := time.Until(due); wait > 0 {
			if *timer == nil {
				*timer = time.NewTimer(wait)
			} else {
				(*timer).Reset(wait)
			}
			select {
			case <-(*timer).C:
			case <-r.ctx.Done():
				return 0, false
			}
		}
	}
	if !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
		return 0, false
	}
	return n, true
}

// client is one requester: it sends one request at a time to its endpoint
// and records the outcomes in its own recorder, without locks.
type client struct {
	r   *runner
	ep  *endpoint
	op  op
	rng *rand.Rand
	rec *recorder
}

// loop sends requests until the runner says stop.
func (c *client) loop() {
	var (
		timer *time.Timer
		key   []byte
		buf   bytes.Buffer
	)
	for {
		n, ok := c.r.next(&timer)
		if !ok {
			return
		}
		key = c.r.keys.appendKey(key[:0], c.r.keys.pick(n, c.rng))
		req := c.op.build(key)
		start := time.Now()
		status, body, err := c.ep.do(c.r.ctx, req, &buf)
		latency := time.Since(start)
		switch {
		case err != nil && c.r.ctx.Err() != nil:
			return // cut short by the interrupt: not counted
		case err != nil:
			c.rec.fail(errorMessage(err))
		case status != 200 && status != 201: // 201: a v2 write that created its key
			c.rec.fail(statusMessage(status, body))
		default:
			note, cerr := c.op.check(body)
			if cerr != nil {
				c.rec.fail(cerr.Error())
			} else {
				c.rec.succeed(latency, note)
			}
		}
	}
}

// recorder is one client's tally: latencies of successes, failures and
// notes by message. Not safe for concurrent use.
type recorder struct {
	lat    histogram
	failed map[string]uint64
	notes  map[string]uint64
}

// newRecorder returns an empty recorder.
func newRecorder() *recorder {
	return &recorder{failed: map[string]uint64{}, notes: map[string]uint64{}}
}

// succeed records a success of the given latency, noted if note != "".
func (r *recorder) succeed(d time.Duration, note string) {
	r.lat.record(d)
	if note != "" {
		count(r.notes, note, 1)
	}
}

// fail records a failure with its message.
func (r *recorder) fail(msg string) { count(r.failed, msg, 1) }

// merge adds o's tally to r.
func (r *recorder) merge(o *recorder) {
	r.lat.merge(&o.lat)
	for m, n := range o.failed {
		count(r.failed, m, n)
	}
	for m, n := range o.notes {
		count(r.notes, m, n)
	}
}

// count adds n under msg, or under otherMessage once m holds maxMessages
// distinct messages.
func count(m map[string]uint64, msg string, n uint64) {
	if _, ok := m[msg]; !ok && len(m) >= maxMessages {
		msg = otherMessage
	}
	m[msg] += n
}
