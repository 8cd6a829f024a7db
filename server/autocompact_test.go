package server

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// ParseAutoCompaction reads etcd's two flags as etcd 3.4 does: a bare
// number is hours in periodic mode and revisions in revision mode; 0 turns
// auto-compaction off.
func TestParseAutoCompaction(t *testing.T) {
	for _, c := range []struct {
		mode, retention string
		want            AutoCompaction
		err             string
	}{
		{"periodic", "0", AutoCompaction{}, ""},
		{"periodic", "0s", AutoCompaction{}, ""},
		{"revision", "0", AutoCompaction{}, ""},
		{"periodic", "1", AutoCompaction{Mode: "periodic", Period: time.Hour}, ""},
		{"periodic", "72", AutoCompaction{Mode: "periodic", Period: 72 * time.Hour}, ""},
		{"periodic", "30m", AutoCompaction{Mode: "periodic", Period: 30 * time.Minute}, ""},
		{"periodic", "1s", AutoCompaction{Mode: "periodic", Period: time.Second}, ""},
		{"revision", "1000", AutoCompaction{Mode: "revision", Revisions: 1000}, ""},
		{"periodic", "-1", AutoCompaction{}, "neither a number of hours nor a duration"},
		{"periodic", "1.5", AutoCompaction{}, "neither a number of hours nor a duration"},
		{"periodic", "-5m", AutoCompaction{}, "neither a number of hours nor a duration"},
		{"periodic", "99999999999", AutoCompaction{}, "too long"},
		{"revision", "1h", AutoCompaction{}, "revision mode keeps a number of revisions"},
		{"revision", "-1", AutoCompaction{}, "revision mode keeps a number of revisions"},
		{"weird", "1", AutoCompaction{}, "must be periodic or revision"},
		{"", "0", AutoCompaction{}, "must be periodic or revision"},
	} {
		got, err := ParseAutoCompaction(c.mode, c.retention)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %q: err %v, want it to mention %q", c.mode, c.retention, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %q: %+v, %v; want %+v", c.mode, c.retention, got, err, c.want)
		}
	}
}

func autoCompactions(s *Server) float64 {
	var m dto.Metric
	s.metrics.autoCompactions.Write(&m)
	return m.GetCounter().GetValue()
}

// Periodic mode, retention 1s: about a second after the writes stop, the
// member compacts to the revision they reached, logs it and counts it.
func TestAutoCompactionPeriodic(t *testing.T) {
	logs := &logBuffer{}
	cfg := testConfig(t.TempDir())
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg.AutoCompaction = AutoCompaction{Mode: AutoCompactPeriodic, Period: time.Second}
	s := mustStart(t, cfg)
	var rev int64
	for i := range 10 {
		rev = mustPut(t, s, key(i), "v").Header.Revision
	}
	waitFor(t, fmt.Sprintf("a compaction to revision %d", rev), func() bool { return s.storeNow().CompactRev() == rev })
	if n := autoCompactions(s); n < 1 {
		t.Errorf("cairn_server_auto_compactions_total = %v after a compaction", n)
	}
	logged := false
	for _, line := range strings.Split(logs.String(), "\n") {
		logged = logged || strings.Contains(line, `msg="auto compaction done"`) &&
			strings.Contains(line, fmt.Sprintf("mode=periodic revision=%d retention=1s", rev))
	}
	if !logged {
		t.Errorf("the compaction to %d was not logged:\n%s", rev, logs)
	}
}

// Revision mode, retention 10: the leader compacts to its revision minus
// 10, and only the leader proposes compactions.
func TestAutoCompactionRevisionByTheLeader(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.AutoCompaction = AutoCompaction{Mode: AutoCompactRevision, Revisions: 10, RevisionInterval: 20 * time.Millisecond}
	})
	lead := c.waitLeader()
	var rev int64
	for i := range 30 {
		rev = c.put(lead, key(i), "v").Header.Revision
	}
	for _, m := range c.members {
		waitFor(t, fmt.Sprintf("%s compacted to %d", m.name, rev-10), func() bool {
			return m.server().storeNow().CompactRev() == rev-10
		})
	}
	if now := c.waitLeader(); now != lead {
		t.Skip("the leader changed during the test") // then either may have compacted
	}
	for _, m := range c.members {
		n := autoCompactions(m.server())
		if m == lead && n < 1 || m != lead && n != 0 {
			t.Errorf("%s (leader: %v) counted %v auto compactions", m.name, m == lead, n)
		}
	}
}
