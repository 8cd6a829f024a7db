package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// histogramRows is the number of rows of the printed latency histogram.
const histogramRows = 12

// Report is the result of one run, printed as text or as one JSON object.
// Counts are requests; latencies are milliseconds over successes only.
// Total = Succeeded + Failed, and Failed is the sum of Errors.
type Report struct {
	Workload       string   `json:"workload"`
	Endpoints      []string `json:"endpoints"`
	Clients        int      `json:"clients"`
	Conns          int      `json:"conns"`
	KeySize        int      `json:"key_size"`
	ValSize        int      `json:"val_size"`
	KeySpaceSize   uint64   `json:"key_space_size"`
	SequentialKeys bool     `json:"sequential_keys"`
	Consistency    string   `json:"consistency,omitempty"` // range only
	Rate           float64  `json:"rate"`                  // requested cap, 0 = none
	Seed           uint64   `json:"seed"`                  // --seed repeats the value and each client's keys
	// HTTPClient is the client the requests went through: raw or std
	// (--http-client; std for lease-keepalive), grpc for the gRPC
	// workloads (etcd's clientv3).
	HTTPClient string `json:"http_client"`

	// Total is the number of requests answered or failed.
	Total     uint64 `json:"total"`
	Succeeded uint64 `json:"succeeded"`
	Failed    uint64 `json:"failed"`
	// Errors counts failures by message.
	Errors map[string]uint64 `json:"errors"`
	// Notes counts successes a workload singled out (e.g. empty ranges).
	Notes map[string]uint64 `json:"notes"`
	// Interrupted is true when a signal stopped the run early.
	Interrupted bool `json:"interrupted"`

	// DurationSeconds is from the first request sent to the last answer.
	DurationSeconds float64 `json:"duration_seconds"`
	// OpsPerSecond is Succeeded / DurationSeconds.
	OpsPerSecond float64 `json:"ops_per_second"`
	// ClientCPUSeconds is the CPU time (user + system) cairn-bench itself
	// used during the run, 0 where it cannot be read. Compare it with
	// DurationSeconds times the cores to see whether the client, not the
	// server, was the limit.
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	// LatencyMs summarises the latency of successes.
	LatencyMs Latency `json:"latency_ms"`
	// Histogram has log-spaced rows from the fastest to the slowest
	// success; its counts add up to Succeeded.
	Histogram []HistogramRow `json:"histogram"`
	// Watch is the watch-latency workload's own part (its requests above
	// are its puts); nil for the other workloads.
	Watch *WatchReport `json:"watch,omitempty"`
	// LeaseExpiry is the lease-expiry workload's own part (its requests
	// above are its puts); nil for the other workloads.
	LeaseExpiry *LeaseExpiryReport `json:"lease_expiry,omitempty"`
}

// Latency is a latency summary in milliseconds. Min, Avg and Max are
// exact; the percentiles are within 0.4% (see histogram).
type Latency struct {
	Min  float64 `json:"min"`
	Avg  float64 `json:"avg"`
	Max  float64 `json:"max"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
}

// HistogramRow counts the successes with latency in [FromMs, ToMs).
type HistogramRow struct {
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
	Count  uint64  `json:"count"`
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newReport builds the report of a run from its merged tally.
func newReport(cfg *Config, rec *recorder, elapsed time.Duration, interrupted bool) *Report {
	r := &Report{
		Workload:        cfg.Workload,
		Endpoints:       cfg.Endpoints,
		Clients:         cfg.Clients,
		Conns:           cfg.conns(),
		KeySize:         cfg.KeySize,
		ValSize:         cfg.ValSize,
		KeySpaceSize:    cfg.KeySpaceSize,
		SequentialKeys:  cfg.SequentialKeys,
		Rate:            cfg.Rate,
		Seed:            cfg.Seed,
		HTTPClient:      cfg.httpClient(),
		Succeeded:       rec.lat.count(),
		Errors:          rec.failed,
		Notes:           rec.notes,
		Interrupted:     interrupted,
		DurationSeconds: elapsed.Seconds(),
	}
	if w, _ := lookupWorkload(cfg.Workload); w.uses("consistency") {
		r.Consistency = cfg.Consistency
	}
	for _, n := range rec.failed {
		r.Failed += n
	}
	r.Total = r.Succeeded + r.Failed
	if elapsed > 0 {
		r.OpsPerSecond = float64(r.Succeeded) / elapsed.Seconds()
	}
	h := &rec.lat
	r.LatencyMs = latencyOf(h)
	r.Histogram = []HistogramRow{}
	for _, b := range h.bins(histogramRows) {
		r.Histogram = append(r.Histogram, HistogramRow{FromMs: ms(b.From), ToMs: ms(b.To), Count: b.Count})
	}
	return r
}

// WriteJSON writes the report as one JSON object on one line, so that runs
// appended to a file make JSON lines.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	return enc.Encode(r)
}

// WriteText writes the report for people to read.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	keys := "random"
	if r.SequentialKeys {
		keys = "sequential"
	}
	fmt.Fprintf(&b, "Workload:    %s", r.Workload)
	if r.Consistency != "" {
		fmt.Fprintf(&b, " (consistency %s)", r.Consistency)
	}
	fmt.Fprintf(&b, ", %d-byte keys (%s of %d), %d-byte values\n", r.KeySize, keys, r.KeySpaceSize, r.ValSize)
	fmt.Fprintf(&b, "Endpoints:   %s\n", strings.Join(r.Endpoints, ","))
	fmt.Fprintf(&b, "Seed:        %d\n", r.Seed)
	if r.HTTPClient == "grpc" {
		fmt.Fprintf(&b, "Clients:     %d over %d connections (gRPC, clientv3)", r.Clients, r.Conns)
	} else {
		fmt.Fprintf(&b, "Clients:     %d over %d connections (%s HTTP client)", r.Clients, r.Conns, r.HTTPClient)
	}
	if r.Rate > 0 {
		fmt.Fprintf(&b, ", rate cap %g/s", r.Rate)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Requests:    %d total, %d succeeded, %d failed\n", r.Total, r.Succeeded, r.Failed)
	if r.Interrupted {
		b.WriteString("             (interrupted: stopped early)\n")
	}
	fmt.Fprintf(&b, "Duration:    %.3f s\n", r.DurationSeconds)
	fmt.Fprintf(&b, "Throughput:  %.1f ops/s\n", r.OpsPerSecond)
	if r.ClientCPUSeconds > 0 && r.DurationSeconds > 0 {
		fmt.Fprintf(&b, "Client CPU:  %.3f s (%.0f%% of one core)\n", r.ClientCPUSeconds, 100*r.ClientCPUSeconds/r.DurationSeconds)
	}
	if r.Succeeded > 0 {
		b.WriteString("\nLatency (ms):\n")
		writeLatency(&b, r.LatencyMs)
		b.WriteString("\nHistogram (ms):\n")
		var most uint64
		for _, row := range r.Histogram {
			most = max(most, row.Count)
		}
		for _, row := range r.Histogram {
			bar := 0
			if most > 0 {
				bar = int((row.Count*40 + most - 1) / most)
			}
			fmt.Fprintf(&b, "  %10.3f - %10.3f  %8d  %s\n", row.FromMs, row.ToMs, row.Count, strings.Repeat("#", bar))
		}
	}
	if r.LeaseExpiry != nil {
		r.LeaseExpiry.writeText(&b)
	}
	if r.Watch != nil {
		r.Watch.writeText(&b)
	}
	writeCounts(&b, "Errors", r.Errors)
	writeCounts(&b, "Notes", r.Notes)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCounts writes a titled list of counts by message, largest first.
func writeCounts(b *strings.Builder, title string, m map[string]uint64) {
	if len(m) == 0 {
		return
	}
	msgs := make([]string, 0, len(m))
	for msg := range m {
		msgs = append(msgs, msg)
	}
	sort.Slice(msgs, func(i, j int) bool {
		if m[msgs[i]] != m[msgs[j]] {
			return m[msgs[i]] > m[msgs[j]]
		}
		return msgs[i] < msgs[j]
	})
	fmt.Fprintf(b, "\n%s:\n", title)
	for _, msg := range msgs {
		fmt.Fprintf(b, "  %8d  %s\n", m[msg], msg)
	}
}

// writeLatency writes l as a table of rows, min to max, one per line.
func writeLatency(b *strings.Builder, l Latency) {
	for _, row := range []struct {
		name string
		v    float64
	}{{"min", l.Min}, {"avg", l.Avg}, {"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}, {"p99.9", l.P999}, {"max", l.Max}} {
		fmt.Fprintf(b, "  %-6s %10.3f\n", row.name, row.v)
	}
}

// latencyOf summarises the latencies recorded in h.
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
