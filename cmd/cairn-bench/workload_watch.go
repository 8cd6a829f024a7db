package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file owns the watch-latency run: its shared state, the order of its
// phases (open the streams, put, drain) and the merging of the tallies into
// the report. The puts are in workload_watch_put.go, the streams in
// workload_watch_stream.go, the scan of their lines in
// workload_watch_events.go and the report section in
// workload_watch_report.go.

// watchLatencyWorkload measures how long a put takes to reach watchers: W
// watchers on --prefix over POST /v3/watch streams (or websockets), and
// --clients writers putting keys under the prefix at --rate. It has its own
// runner (runWatchLatency): unlike the other workloads it is not one
// request and one answer.
var watchLatencyWorkload = &workload{
	name:    "watch-latency",
	help:    "W watchers of --prefix; puts at --rate; put acknowledged -> event received",
	options: []string{"watchers", "watchers-per-stream", "watch-transport", "server-pid", "drain-timeout"},
	run:     runWatchLatency,
}

// ackTimes maps revisions (from a base) to the time their put was
// answered, in nanoseconds since the run's start (0: not yet), without
// locks: chunks are allocated on first use.
type ackTimes struct {
	chunks [1 << 16]atomic.Pointer[[1 << 14]atomic.Int64]
}

func (a *ackTimes) slot(i int64, alloc bool) *atomic.Int64 {
	if i < 0 || i >= int64(len(a.chunks))<<14 {
		return nil
	}
	p := &a.chunks[i>>14]
	c := p.Load()
	if c == nil {
		if !alloc {
			return nil
		}
		p.CompareAndSwap(nil, new([1 << 14]atomic.Int64))
		c = p.Load()
	}
	return &c[i&(1<<14-1)]
}

// watchRun is the shared state of one watch-latency run.
type watchRun struct {
	cfg   *Config
	ctx   context.Context
	start time.Time
	base  int64 // revision of the first put
	acks  ackTimes
	// lastAcked is the highest revision acknowledged so far.
	lastAcked atomic.Int64
	puts      atomic.Uint64
	// lastEvent is the time of the last event received (ns since start).
	lastEvent atomic.Int64
}

// storeMax raises a to v if v is above it, without locks.
func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// watchTally is one stream reader's count, merged at the end.
type watchTally struct {
	ackLat, sendLat histogram
	received, early uint64
	outOfOrder      uint64
	last            []int64 // per watch id: last revision received
	errs            map[string]uint64
}

// runWatchLatency is the watch-latency runner.
func runWatchLatency(ctx context.Context, cfg *Config) (*runResult, error) {
	cfg.pickSeed()
	eps := newEndpoints(cfg)
	defer closeEndpoints(eps)
	wr := &watchRun{cfg: cfg, ctx: ctx}

	// The revision before the first put: the header of a count-only range.
	var buf bytes.Buffer
	status, body, err := eps[0].do(ctx, request{path: "/v3/kv/range", body: []byte(`{"key":"` + b64(cfg.Prefix) + `","count_only":true}`)}, &buf)
	if err != nil || status != 200 {
		return nil, fmt.Errorf("reading the current revision: %v %d %s", err, status, body)
	}
	rev, err := strconv.ParseInt(string(unquote(jsonField(body, []byte(`"revision"`)))), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("reading the current revision from %s: %v", body, err)
	}
	wr.base = rev + 1

	streams := (cfg.Watchers + cfg.WatchersPerStream - 1) / cfg.WatchersPerStream
	tallies := make([]*watchTally, streams)
	var (
		readers sync.WaitGroup
		ready   sync.WaitGroup
		rctx    context.Context
		stopAll context.CancelFunc
	)
	rctx, stopAll = context.WithCancel(ctx)
	defer stopAll()
	openErr := make(chan error, streams)
	for s := range streams {
		n := min(cfg.WatchersPerStream, cfg.Watchers-s*cfg.WatchersPerStream)
		t := &watchTally{last: make([]int64, n), errs: map[string]uint64{}}
		tallies[s] = t
		readers.Add(1)
		ready.Add(1)
		go func() {
			defer readers.Done()
			if err := wr.stream(rctx, eps[s%len(eps)].base, n, t, ready.Done); err != nil && rctx.Err() == nil {
				openErr <- err
			}
		}()
	}
	waitReady := make(chan struct{})
	go func() { ready.Wait(); close(waitReady) }()
	var openTimeout <-chan time.Time
	if cfg.Timeout > 0 {
		t := time.NewTimer(cfg.Timeout)
		defer t.Stop()
		openTimeout = t.C
	}
	select {
	case <-waitReady:
	case err := <-openErr:
		stopAll()
		readers.Wait()
		return nil, fmt.Errorf("opening the watch streams: %w", err)
	case <-openTimeout:
		stopAll()
		readers.Wait()
		<-waitReady
		return nil, fmt.Errorf("opening the watch streams: not every watcher was created within --timeout %v", cfg.Timeout)
	case <-ctx.Done():
		stopAll()
		readers.Wait()
		<-waitReady
		return nil, ctx.Err()
	}

	var rss atomic.Int64
	rssDone := make(chan struct{})
	if cfg.ServerPID > 0 {
		go sampleRSS(cfg.ServerPID, &rss, rssDone)
	}

	// The writers.
	cpu0, cpuOK := processCPU()
	value := valueBytes(cfg.Seed, max(cfg.ValSize, 8))
	r := &runner{cfg: cfg, keys: newKeyGen(cfg), ctx: ctx}
	r.start = time.Now()
	wr.start = r.start
	if cfg.Duration > 0 {
		r.deadline = r.start.Add(cfg.Duration)
	}
	recs := make([]*recorder, cfg.Clients)
	var writers sync.WaitGroup
	for i := range cfg.Clients {
		recs[i] = newRecorder()
		writers.Add(1)
		go func() {
			defer writers.Done()
			wr.write(r, eps[i%len(eps)], rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)), value, recs[i])
		}()
	}
	writers.Wait()
	putsDone := time.Now()

	// The drain: wait for every watcher to reach the last acknowledged
	// revision, or the timeout.
	last := wr.lastAcked.Load()
	drained := true
	deadline := time.NewTimer(cfg.DrainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for wait := last >= wr.base; wait; {
		select {
		case <-deadline.C:
			drained, wait = false, false
		case <-ctx.Done():
			drained, wait = false, false
		case <-tick.C:
			wait = !allReached(tallies, last)
		}
	}
	stopAll()
	readers.Wait()
	close(rssDone)
	elapsed := putsDone.Sub(r.start)
	cpu1, _ := processCPU()

	// The report: the puts as the other workloads report requests, the
	// events in the watch section.
	res := &runResult{rec: newRecorder(), elapsed: elapsed}
	for _, rec := range recs {
		res.rec.merge(rec)
	}
	if cpuOK {
		res.cpu = cpu1 - cpu0
	}
	w := &WatchReport{
		errors:            map[string]uint64{},
		Transport:         cfg.WatchTransport,
		Watchers:          cfg.Watchers,
		Streams:           streams,
		WatchersPerStream: cfg.WatchersPerStream,
		Puts:              wr.puts.Load(),
		Drained:           drained,
		ServerMaxRSSMiB:   float64(rss.Load()) / (1 << 20),
	}
	w.EventsExpected = w.Puts * uint64(cfg.Watchers)
	var ackLat, sendLat histogram
	for _, t := range tallies {
		ackLat.merge(&t.ackLat)
		sendLat.merge(&t.sendLat)
		w.EventsReceived += t.received
		w.EarlyEvents += t.early
		w.OutOfOrder += t.outOfOrder
		for msg, n := range t.errs {
			count(w.errors, "watch: "+msg, n)
		}
	}
	if w.EventsExpected > w.EventsReceived {
		w.Missing = w.EventsExpected - w.EventsReceived
	}
	if span := time.Duration(wr.lastEvent.Load()); span > 0 {
		w.EventsPerSecond = float64(w.EventsReceived) / span.Seconds()
	}
	w.AckToEventMs = latencyOf(&ackLat)
	w.SendToEventMs = latencyOf(&sendLat)
	res.watch = w
	return res, nil
}

// allReached reports whether every watcher has received revision last.
func allReached(tallies []*watchTally, last int64) bool {
	for _, t := range tallies {
		for i := range t.last {
			if atomic.LoadInt64(&t.last[i]) < last {
				return false
			}
		}
	}
	return true
}

// sampleRSS keeps in max the largest resident set size of process pid,
// read from /proc every 100ms until done closes.
func sampleRSS(pid int, maxRSS *atomic.Int64, done <-chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	path := fmt.Sprintf("/proc/%d/status", pid)
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
					if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb<<10 > maxRSS.Load() {
						maxRSS.Store(kb << 10)
					}
				}
			}
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}
