package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/internal/testmember"
)

// startCairn runs a one-member cairn in-process (package server behind
// package httpapi, as cmd/cairn wires them) on loopback and returns its
// client URL.
func startCairn(t *testing.T) string {
	t.Helper()
	s := testmember.Start(t, nil)
	srv := httptest.NewUnstartedServer(httpapi.New(s, httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(func() {
		s.CloseWatches()
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte("ready")}); err == nil {
			return srv.URL
		} else if ctx.Err() != nil {
			t.Fatalf("the member never answered: %v", err)
		}
	}
}

// runWatchBench runs watch-latency against endpoint and checks what any
// correct server must give: every watcher sees every put once, in order.
func runWatchBench(t *testing.T, endpoint string, set func(*Config)) *Report {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Workload = "watch-latency"
	cfg.Endpoints = []string{endpoint}
	cfg.Prefix = fmt.Sprintf("watch-bench-test/%d/", time.Now().UnixNano())
	cfg.KeySpaceSize, cfg.Total, cfg.Clients = 50, 150, 3
	cfg.Watchers, cfg.WatchersPerStream = 7, 3
	set(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := rep.Watch
	if w == nil {
		t.Fatal("no watch section in the report")
	}
	if rep.Succeeded != uint64(cfg.Total) || w.Puts != uint64(cfg.Total) || w.Watchers != cfg.Watchers || w.Streams != 3 {
		t.Fatalf("puts %d/%d, watchers %d, streams %d; want %d puts, %d watchers on 3 streams", w.Puts, rep.Succeeded, w.Watchers, w.Streams, cfg.Total, cfg.Watchers)
	}
	if w.EventsExpected != uint64(cfg.Total*int64(cfg.Watchers)) || w.EventsReceived != w.EventsExpected ||
		w.Missing != 0 || w.OutOfOrder != 0 || !w.Drained || len(rep.Errors) != 0 {
		t.Fatalf("watch report %+v, errors %v", w, rep.Errors)
	}
	if w.EventsPerSecond <= 0 || w.SendToEventMs.Max <= 0 || w.SendToEventMs.Min > w.SendToEventMs.Max || w.AckToEventMs.Max > w.SendToEventMs.Max {
		t.Fatalf("latencies %+v / %+v, events/s %v", w.AckToEventMs, w.SendToEventMs, w.EventsPerSecond)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "Put acknowledged -> event") {
		t.Fatalf("text report: %v\n%s", err, text.String())
	}
	return rep
}

func TestWatchLatencyAgainstEtcd(t *testing.T) {
	runWatchBench(t, startEtcd(t), func(*Config) {})
}

func TestWatchLatencyAgainstCairn(t *testing.T) {
	ep := startCairn(t)
	runWatchBench(t, ep, func(*Config) {})
	runWatchBench(t, ep, func(c *Config) { c.WatchTransport = "ws"; c.Rate = 500 })
}

// events reads the gateway's lines by scanning bytes: check it on lines as
// etcd prints them.
func TestWatchEventsScan(t *testing.T) {
	wr := &watchRun{base: 10}
	wr.acks.slot(0, true).Store(int64(time.Millisecond))     // revision 10 answered at 1ms
	wr.acks.slot(1, true).Store(int64(5 * time.Millisecond)) // revision 11 at 5ms
	val := make([]byte, 16)
	binary.LittleEndian.PutUint64(val, uint64(500*time.Microsecond)) // sent at 0.5ms
	v := base64.StdEncoding.EncodeToString(val)
	ev := func(rev int) string {
		return fmt.Sprintf(`{"kv":{"key":"YQ==","create_revision":"2","mod_revision":"%d","version":"3","value":"%s"}}`, rev, v)
	}
	hdr := `"header":{"cluster_id":"1","member_id":"2","revision":"11","raft_term":"2"}`
	tl := &watchTally{last: make([]int64, 2), errs: map[string]uint64{}}
	wr.events([]byte(`{"result":{`+hdr+`,"events":[`+ev(10)+`,`+ev(11)+`]}}`), 3*time.Millisecond, tl)
	wr.events([]byte(`{"result":{`+hdr+`,"watch_id":"1","events":[`+ev(11)+`]}}`), 6*time.Millisecond, tl)
	wr.events([]byte(`{"result":{`+hdr+`,"watch_id":"1"}}`), 7*time.Millisecond, tl) // progress
	wr.events([]byte(`{"result":{`+hdr+`,"watch_id":"1","events":[`+ev(11)+`]}}`), 8*time.Millisecond, tl)
	if tl.received != 4 || tl.last[0] != 11 || tl.last[1] != 11 || tl.outOfOrder != 1 {
		t.Fatalf("tally %+v", tl)
	}
	// Watch 0 got revision 11 at 3ms, before its answer at 5ms: early.
	if tl.early != 1 || tl.ackLat.count() != 4 || tl.ackLat.quantile(1) != 3*time.Millisecond {
		t.Fatalf("early %d, ack latencies %d, max %v", tl.early, tl.ackLat.count(), tl.ackLat.quantile(1))
	}
	if tl.sendLat.quantile(0) != 2500*time.Microsecond || tl.sendLat.quantile(1) != 7500*time.Microsecond {
		t.Fatalf("send latencies %v..%v", tl.sendLat.quantile(0), tl.sendLat.quantile(1))
	}
}

func TestWatchFlagsOnlyForWatchLatency(t *testing.T) {
	if _, err := ParseFlags([]string{"put", "--watchers", "5"}, nil, io.Discard); err == nil || !strings.Contains(err.Error(), "--watchers does not apply") {
		t.Fatalf("err %v", err)
	}
	cfg, err := ParseFlags([]string{"watch-latency", "--watchers", "100", "--watchers-per-stream", "10", "--watch-transport", "ws"}, nil, io.Discard)
	if err != nil || cfg.Watchers != 100 || cfg.WatchersPerStream != 10 || cfg.WatchTransport != "ws" {
		t.Fatalf("%+v %v", cfg, err)
	}
	for _, args := range [][]string{{"--watchers", "0"}, {"--watch-transport", "grpc"}, {"--drain-timeout", "0s"}} {
		if _, err := ParseFlags(append([]string{"watch-latency"}, args...), nil, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
