package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one GET /metrics, parsed by Prometheus's own text parser.
type scrape struct {
	t    testing.TB
	fams map[string]*dto.MetricFamily
}

func scrapeMetrics(t testing.TB, url string) scrape {
	t.Helper()
	resp, err := httpClient.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s/metrics: %d %q\n%s", url, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing %s/metrics: %v", url, err)
	}
	return scrape{t: t, fams: fams}
}

// metric returns the series of name (a family of type typ) whose labels
// include labels (name, value, ...), failing the test if there is none.
func (s scrape) metric(name string, typ dto.MetricType, labels ...string) *dto.Metric {
	s.t.Helper()
	f := s.fams[name]
	if f == nil {
		s.t.Fatalf("%s is not served", name)
	}
	if f.GetType() != typ {
		s.t.Fatalf("%s is a %v, want a %v", name, f.GetType(), typ)
	}
series:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue series
			}
		}
		return m
	}
	s.t.Fatalf("%s has no series %v", name, labels)
	return nil
}

// value is the value of a gauge or counter series.
func (s scrape) value(name string, labels ...string) float64 {
	s.t.Helper()
	f := s.fams[name]
	if f != nil && f.GetType() == dto.MetricType_COUNTER {
		return s.metric(name, dto.MetricType_COUNTER, labels...).GetCounter().GetValue()
	}
	return s.metric(name, dto.MetricType_GAUGE, labels...).GetGauge().GetValue()
}

// observations is the number of observations of a histogram series.
func (s scrape) observations(name string, labels ...string) uint64 {
	s.t.Helper()
	return s.metric(name, dto.MetricType_HISTOGRAM, labels...).GetHistogram().GetSampleCount()
}

// metricsURL is where member m serves --listen-metrics-urls, from its log.
func metricsURL(t testing.TB, m *member) string {
	t.Helper()
	for _, line := range strings.Split(m.logs.String(), "\n") {
		var rec struct{ Msg, Address string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving metrics" {
			return "http://" + rec.Address
		}
	}
	t.Fatalf("no metrics listener in the log:\n%s", m.logs)
	return ""
}

// hexID is a member id of /v3/maintenance/status (decimal) as etcd's
// metric labels write it (hex).
func hexID(t testing.TB, decimal string) string {
	id, err := strconv.ParseUint(decimal, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(id, 16)
}

// A real three-member cluster serves etcd's metric names, with live values,
// on its client port and on --listen-metrics-urls, as etcd 3.4 does.
func TestMetricsAfterWrites(t *testing.T) {
	c := startCluster(t, 3, "--listen-metrics-urls", "http://127.0.0.1:0")
	lead := c.leader()
	const writes = 20
	for i := range writes {
		lead.putRetry(t, fmt.Sprintf("metrics/%02d", i), "v")
	}
	var grant struct{ ID string }
	if err := lead.call(context.Background(), "/v3/lease/grant", map[string]any{"TTL": 60}, &grant); err != nil {
		t.Fatal(err)
	}
	// An open watch stream with one watcher.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", lead.url+"/v3/watch",
		strings.NewReader(fmt.Sprintf(`{"create_request":{"key":%q}}`, b64("metrics/00"))))
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !bufio.NewScanner(resp.Body).Scan() {
		t.Fatal("the watch stream sent no created response")
	}

	ids := map[*cmember]string{}
	for _, m := range c.members {
		st, err := m.status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids[m] = hexID(t, st.Header.MemberID)
	}
	// The store flushes to bbolt in the background: poll for its first
	// commit.
	deadline := time.Now().Add(10 * time.Second)
	s := scrapeMetrics(t, lead.url)
	for s.observations("etcd_disk_backend_commit_duration_seconds") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		s = scrapeMetrics(t, lead.url)
	}
	atLeast := func(name string, min float64, labels ...string) {
		t.Helper()
		if v := s.value(name, labels...); v < min {
			t.Errorf("%s%v = %v, want at least %v", name, labels, v, min)
		}
	}
	atLeast("etcd_server_has_leader", 1)
	atLeast("etcd_server_is_leader", 1)
	atLeast("etcd_server_leader_changes_seen_total", 1)
	atLeast("etcd_server_proposals_applied_total", writes)
	atLeast("etcd_server_proposals_committed_total", s.value("etcd_server_proposals_applied_total"))
	atLeast("etcd_server_proposals_pending", 0)
	atLeast("etcd_server_proposals_failed_total", 0)
	atLeast("etcd_server_quota_backend_bytes", 2<<30)
	atLeast("etcd_server_id", 1, "server_id", ids[lead])
	atLeast("etcd_mvcc_db_total_size_in_bytes", 1)
	atLeast("etcd_mvcc_db_total_size_in_use_in_bytes", 1)
	if s.value("etcd_mvcc_db_total_size_in_use_in_bytes") > s.value("etcd_mvcc_db_total_size_in_bytes") {
		t.Error("more of the database in use than allocated")
	}
	atLeast("etcd_debugging_mvcc_keys_total", writes)
	atLeast("etcd_debugging_mvcc_current_revision", writes+1)
	atLeast("etcd_debugging_mvcc_watch_stream_total", 1)
	atLeast("etcd_debugging_mvcc_watcher_total", 1)
	atLeast("etcd_debugging_mvcc_slow_watcher_total", 0)
	atLeast("etcd_debugging_lease_granted_total", 1)
	atLeast("cairn_http_requests_total", writes, "api", "v3", "route", "/v3/kv/put", "code", "200")
	if n := s.observations("etcd_disk_wal_fsync_duration_seconds"); n == 0 {
		t.Error("no WAL fsync observed")
	}
	if n := s.observations("cairn_http_request_duration_seconds", "route", "/v3/kv/put"); n < writes {
		t.Errorf("%d put latencies observed, want %d", n, writes)
	}
	atLeast("go_goroutines", 1)
	atLeast("process_resident_memory_bytes", 1)
	for _, m := range c.members {
		if m == lead {
			continue
		}
		atLeast("etcd_network_peer_sent_bytes_total", 1, "To", ids[m])
		atLeast("etcd_network_peer_received_bytes_total", 1, "From", ids[m])
		if n := s.observations("etcd_network_peer_round_trip_time_seconds", "To", ids[m]); n == 0 {
			t.Errorf("no round trip to %s observed", ids[m])
		}
	}

	// A follower serves the same on its metrics listener, and /health there.
	var follower *cmember
	for _, m := range c.members {
		if m != lead {
			follower = m
		}
	}
	url := metricsURL(t, follower.member)
	s = scrapeMetrics(t, url)
	atLeast("etcd_server_has_leader", 1)
	if s.value("etcd_server_is_leader") != 0 {
		t.Error("a follower says it leads")
	}
	atLeast("etcd_server_proposals_applied_total", writes)
	atLeast("etcd_network_peer_sent_bytes_total", 1, "To", ids[lead])
	hr, err := httpClient.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if hr.StatusCode != 200 || string(body) != `{"health":"true"}` {
		t.Errorf("GET /health on the metrics listener: %d %s", hr.StatusCode, body)
	}
}

// --auto-compaction-retention 1s (periodic): the member compacts by itself
// to the revision the writes reached, and says so in its log and metrics.
func TestAutoCompactionPeriodicFlag(t *testing.T) {
	m := startMember(t, t.TempDir(), "--auto-compaction-mode", "periodic", "--auto-compaction-retention", "1s")
	var rev int64
	for i := range 5 {
		rev = m.putRetry(t, fmt.Sprintf("ac/%d", i), "v")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := scrapeMetrics(t, m.url)
		if int64(s.value("etcd_debugging_mvcc_compact_revision")) == rev {
			if n := s.value("cairn_server_auto_compactions_total"); n < 1 {
				t.Errorf("cairn_server_auto_compactions_total = %v after a compaction", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no compaction to revision %d; logs:\n%s", rev, m.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(m.logs.String(), `"msg":"auto compaction done"`) {
		t.Errorf("the compaction was not logged:\n%s", m.logs)
	}
}
