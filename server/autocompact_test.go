package server

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/compactor"
	dto "github.com/prometheus/client_model/go"
)

func autoCompactions(s *Server) float64 {
	var m dto.Metric
	s.metrics.AutoCompactions.Write(&m)
	return m.GetCounter().GetValue()
}

// Periodic mode, retention 1s: about a second after the writes stop, the
// member compacts to the revision they reached, logs it and counts it.
func TestAutoCompactionPeriodic(t *testing.T) {
	logs := &logBuffer{}
	cfg := testConfig(t.TempDir())
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg.AutoCompaction = compactor.Config{Mode: compactor.ModePeriodic, Period: time.Second}
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
		cfg.AutoCompaction = compactor.Config{Mode: compactor.ModeRevision, Revisions: 10, RevisionInterval: 20 * time.Millisecond}
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
