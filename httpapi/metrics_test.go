package httpapi

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairnkv/cairn/store"
)

// GET /metrics counts each request under its route and status, and
// observes the latency of requests but not of streams.
func TestRequestMetrics(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	mustPut(t, ts, "a", "1")
	mustPut(t, ts, "a", "2")
	ts.send("POST", "/v3/kv/put", "", `{"key":`)              // 400
	ts.callOffSpec("GET", "/no/such/path", ``)                // 404, no route
	ts.send("POST", "/v3beta/kv/range", "", `{"key":"YQ=="}`) // the beta route is its own
	w := openWatch(t, ts, `{"create_request":{"key":"YQ=="}}`, false)
	w.next()
	w.cancel() // the handler counts the stream once it has ended

	var fams map[string]*dto.MetricFamily
	scrape := func() {
		t.Helper()
		r := ts.call("GET", "/metrics", "", "")
		if r.status != 200 {
			t.Fatalf("GET /metrics: %d %s", r.status, r.body)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		if fams, err = p.TextToMetricFamilies(strings.NewReader(r.body)); err != nil {
			t.Fatalf("parsing /metrics: %v\n%s", err, r.body)
		}
	}
	find := func(name string, labels ...string) *dto.Metric {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("%s not served", name)
		}
	next:
		for _, m := range f.Metric {
			for i := 0; i < len(labels); i += 2 {
				if labelValue(m, labels[i]) != labels[i+1] {
					continue next
				}
			}
			return m
		}
		return nil
	}
	count := func(api, route, code string) float64 {
		m := find("cairn_http_requests_total", "api", api, "route", route, "code", code)
		if m == nil {
			return 0
		}
		return m.GetCounter().GetValue()
	}
	deadline := time.Now().Add(10 * time.Second)
	for scrape(); count("v3", "/v3/watch", "200") == 0 && time.Now().Before(deadline); scrape() {
		time.Sleep(10 * time.Millisecond) // polling for the stream's end
	}
	for _, c := range []struct {
		api, route, code string
		want             float64
	}{
		{"v3", "/v3/kv/put", "200", 2},
		{"v3", "/v3/kv/put", "400", 1},
		{"other", "unmatched", "404", 1},
		{"v3", "/v3beta/kv/range", "200", 1},
		{"v3", "/v3/watch", "200", 1},
	} {
		if got := count(c.api, c.route, c.code); got != c.want {
			t.Errorf("requests{%s %s %s} = %v, want %v", c.api, c.route, c.code, got, c.want)
		}
	}
	if m := find("cairn_http_request_duration_seconds", "route", "/v3/kv/put"); m.GetHistogram().GetSampleCount() != 3 {
		t.Errorf("put durations: %v, want 3 observations", m.GetHistogram().GetSampleCount())
	}
	if m := find("cairn_http_request_duration_seconds", "route", "/v3/watch"); m.GetHistogram().GetSampleCount() != 0 {
		t.Errorf("a watch stream's lifetime was observed as a latency: %v", m)
	}
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
