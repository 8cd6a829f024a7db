package main

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

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

// WatchReport is the watch-latency part of a Report. Latencies are
// milliseconds; counts are events (one per watcher per put).
type WatchReport struct {
	Transport         string `json:"transport"`
	Watchers          int    `json:"watchers"`
	Streams           int    `json:"streams"`
	WatchersPerStream int    `json:"watchers_per_stream"`
	// Puts is the number of puts acknowledged; every watcher should see
	// each of them once: EventsExpected = Puts * Watchers.
	Puts           uint64 `json:"puts"`
	EventsExpected uint64 `json:"events_expected"`
	EventsReceived uint64 `json:"events_received"`
	// Missing counts expected events not received by the end of the drain;
	// OutOfOrder events whose revision was not above the watcher's last.
	Missing    uint64 `json:"missing"`
	OutOfOrder uint64 `json:"out_of_order"`
	// EventsPerSecond is EventsReceived over the time from the first put to
	// the last event received.
	EventsPerSecond float64 `json:"events_per_second"`
	// AckToEventMs is the latency from the moment the put's answer was read
	// to the moment an event of it was received, per event. An event that
	// came before its put's answer counts 0 and is counted in EarlyEvents.
	AckToEventMs Latency `json:"ack_to_event_ms"`
	EarlyEvents  uint64  `json:"early_events"`
	// SendToEventMs is the latency from the moment the put was sent.
	SendToEventMs Latency `json:"send_to_event_ms"`
	// ServerMaxRSSMiB is the largest resident set of --server-pid sampled
	// during the run (Linux), 0 if not asked.
	ServerMaxRSSMiB float64 `json:"server_max_rss_mib"`
	// Drained is false when the drain timeout ended the wait for the last
	// events.
	Drained bool `json:"drained"`

	// errors go to the report's Errors, prefixed "watch: ".
	errors map[string]uint64
}

// writeText appends the watch section of the text report.
func (w *WatchReport) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "\nWatchers:    %d over %d %s streams (%d per stream)\n", w.Watchers, w.Streams, w.Transport, w.WatchersPerStream)
	fmt.Fprintf(b, "Events:      %d received of %d expected (%d puts); %d missing, %d out of order\n",
		w.EventsReceived, w.EventsExpected, w.Puts, w.Missing, w.OutOfOrder)
	fmt.Fprintf(b, "Delivered:   %.1f events/s\n", w.EventsPerSecond)
	if !w.Drained {
		b.WriteString("             (drain timeout: stopped waiting for the last events)\n")
	}
	if w.ServerMaxRSSMiB > 0 {
		fmt.Fprintf(b, "Server RSS:  %.1f MiB max\n", w.ServerMaxRSSMiB)
	}
	fmt.Fprintf(b, "\nPut acknowledged -> event (ms), %d events before their put's answer counted 0:\n", w.EarlyEvents)
	writeLatency(b, w.AckToEventMs)
	b.WriteString("\nPut sent -> event (ms):\n")
	writeLatency(b, w.SendToEventMs)
}

func writeLatency(b *strings.Builder, l Latency) {
	for _, row := range []struct {
		name string
		v    float64
	}{{"min", l.Min}, {"avg", l.Avg}, {"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}, {"p99.9", l.P999}, {"max", l.Max}} {
		fmt.Fprintf(b, "  %-6s %10.3f\n", row.name, row.v)
	}
}

func latencyOf(h *histogram) Latency {
	return Latency{
		Min:  ms(h.quantile(0)),
		Avg:  ms(h.mean()),
		Max:  ms(h.quantile(1)),
		P50:  ms(h.quantile(0.50)),
		P90:  ms(h.quantile(0.90)),
		P99:  ms(h.quantile(0.99)),
		P999: ms(h.quantile(0.999)),
	}
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
	if cfg.Seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		cfg.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
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

// write is one writer: puts at the runner's pace, each value starting with
// the send time, each answer's revision recorded with its time.
func (wr *watchRun) write(r *runner, ep *endpoint, rng *rand.Rand, value []byte, rec *recorder) {
	var (
		timer *time.Timer
		key   []byte
		buf   bytes.Buffer
		val   = append([]byte(nil), value...)
		head  = []byte(`{"key":"`)
	)
	for {
		n, ok := r.next(&timer)
		if !ok {
			return
		}
		key = r.keys.appendKey(key[:0], r.keys.pick(n, rng))
		sent := time.Now()
		binary.LittleEndian.PutUint64(val, uint64(sent.Sub(wr.start)))
		body := make([]byte, 0, len(head)+base64.StdEncoding.EncodedLen(len(key))+len(val)*2+16)
		body = append(body, head...)
		body = base64.StdEncoding.AppendEncode(body, key)
		body = append(body, `","value":"`...)
		body = base64.StdEncoding.AppendEncode(body, val)
		body = append(body, `"}`...)
		status, answer, err := ep.do(r.ctx, request{path: "/v3/kv/put", body: body}, &buf)
		acked := time.Now()
		switch {
		case err != nil && r.ctx.Err() != nil:
			return
		case err != nil:
			rec.fail(errorMessage(err))
			continue
		case status != 200:
			rec.fail(statusMessage(status, answer))
			continue
		}
		rev, perr := strconv.ParseInt(string(unquote(jsonField(answer, []byte(`"revision"`)))), 10, 64)
		if perr != nil {
			rec.fail("put answer without a revision")
			continue
		}
		rec.succeed(acked.Sub(sent), "")
		wr.puts.Add(1)
		if s := wr.acks.slot(rev-wr.base, true); s != nil {
			s.Store(int64(acked.Sub(wr.start)))
		}
		for {
			old := wr.lastAcked.Load()
			if rev <= old || wr.lastAcked.CompareAndSwap(old, rev) {
				break
			}
		}
	}
}

// stream opens one watch stream with n watchers on the prefix, calls ready
// once every watcher is created, and reads events into t until ctx is
// done. Over HTTP the body holds the n creates and ends there: etcd 3.4's
// gateway answers nothing before the request body is complete (its HTTP
// server reads the rest of the body before it sends the headers). Over a
// websocket the creates go one at a time, each after the previous one's
// created response, as etcd's Go client sends them.
func (wr *watchRun) stream(ctx context.Context, base string, n int, t *watchTally, ready func()) error {
	var senders sync.WaitGroup
	defer senders.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	key, end := b64(wr.cfg.Prefix), b64(prefixEnd(wr.cfg.Prefix))
	create := []byte(`{"create_request":{"key":"` + key + `","range_end":"` + end + `"}}`)
	created := 0
	createdc := make(chan struct{}, 1)
	readyOnce := sync.OnceFunc(ready)
	defer readyOnce()
	handle := func(line []byte) {
		now := time.Since(wr.start)
		if created < n {
			if bytes.Contains(line, []byte(`"created":true`)) {
				if created++; created == n {
					readyOnce()
				}
				select {
				case createdc <- struct{}{}:
				default: // over HTTP nobody waits for it
				}
			}
			return
		}
		wr.events(line, now, t)
	}
	// send writes the creates, one per created response, then waits; it
	// runs in a goroutine counted in senders.
	send := func(write func([]byte) error) {
		defer senders.Done()
		for i := range n {
			if i > 0 {
				select {
				case <-createdc:
				case <-ctx.Done():
					return
				}
			}
			if write(create) != nil {
				return
			}
		}
		<-ctx.Done()
	}
	if wr.cfg.WatchTransport == "ws" {
		return wr.streamWS(ctx, base, func(write func([]byte) error) {
			senders.Add(1)
			go send(write)
		}, handle)
	}
	body := bytes.Repeat(create, n)
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v3/watch", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := watchTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return errors.New(statusMessage(resp.StatusCode, b))
	}
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 && err == nil {
			handle(line)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// watchTransport carries the watch streams: one connection each, no
// timeout on the answer (a stream lasts the whole run), no proxy.
var watchTransport = &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConnsPerHost: 1024,
	DisableCompression:  true,
}

// streamWS is stream over a websocket: one message per create request, one
// response per message.
func (wr *watchRun) streamWS(ctx context.Context, base string, startSend func(write func([]byte) error), handle func([]byte)) error {
	url := "ws" + strings.TrimPrefix(base, "http") + "/v3/watch"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: watchTransport}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 20)
	startSend(func(b []byte) error { return c.Write(ctx, websocket.MessageText, b) })
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		handle(msg)
	}
}

// Byte patterns of the gateway's watch lines.
var (
	patWatchID  = []byte(`"watch_id":"`)
	patEvents   = []byte(`"events":[`)
	patModRev   = []byte(`"mod_revision":"`)
	patValue    = []byte(`"value":"`)
	patCanceled = []byte(`"canceled":true`)
)

// events tallies the events of one response line received at now (since
// the run's start). It scans bytes rather than parsing JSON: the gateway's
// strings are base64 or decimal, so the patterns cannot appear inside them.
func (wr *watchRun) events(line []byte, now time.Duration, t *watchTally) {
	ev := bytes.Index(line, patEvents)
	if ev < 0 {
		if bytes.Contains(line, patCanceled) {
			t.errs["a watch was canceled: "+strings.TrimSpace(string(line))]++
		}
		return // progress and other responses carry no event
	}
	var id int64
	if i := bytes.Index(line[:ev], patWatchID); i >= 0 {
		id, _ = strconv.ParseInt(string(digits(line[i+len(patWatchID):])), 10, 64)
	}
	if id < 0 || id >= int64(len(t.last)) {
		t.errs[fmt.Sprintf("an event for unknown watch %d", id)]++
		return
	}
	rest := line[ev:]
	for {
		i := bytes.Index(rest, patModRev)
		if i < 0 {
			break
		}
		rest = rest[i+len(patModRev):]
		rev, err := strconv.ParseInt(string(digits(rest)), 10, 64)
		if err != nil {
			t.errs["an event without a revision"]++
			return
		}
		var sent time.Duration
		if j := bytes.Index(rest, patValue); j >= 0 && len(rest) >= j+len(patValue)+12 {
			var v [9]byte
			if _, err := base64.StdEncoding.Decode(v[:], rest[j+len(patValue):j+len(patValue)+12]); err == nil {
				sent = time.Duration(binary.LittleEndian.Uint64(v[:8]))
			}
			rest = rest[j+len(patValue):]
		}
		t.received++
		if last := t.last[id]; rev <= last {
			t.outOfOrder++
		} else {
			atomic.StoreInt64(&t.last[id], rev)
		}
		if s := wr.acks.slot(rev-wr.base, false); s != nil && s.Load() != 0 && now >= time.Duration(s.Load()) {
			t.ackLat.record(now - time.Duration(s.Load()))
		} else {
			t.ackLat.record(0)
			t.early++
		}
		if sent > 0 {
			t.sendLat.record(now - sent)
		}
	}
	for {
		old := wr.lastEvent.Load()
		if int64(now) <= old || wr.lastEvent.CompareAndSwap(old, int64(now)) {
			break
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
