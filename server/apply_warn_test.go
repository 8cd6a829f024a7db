package server

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// An apply slower than --experimental-warning-apply-duration is logged with
// how long it took, in milliseconds, and what it applied. A threshold of
// 1ns makes every batch slow.
func TestSlowApplyIsLogged(t *testing.T) {
	logs := &logBuffer{}
	cfg := testConfig(t.TempDir())
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	cfg.WarningApplyDuration = time.Nanosecond
	s := mustStart(t, cfg)
	put := mustPut(t, s, "foo", "bar")
	waitFor(t, "the warning for the put", func() bool { return strings.Contains(logs.String(), `"requests":"put=1"`) })
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec struct {
			Level, Msg, Requests string
			TookMS               *float64 `json:"took_ms"`
			FirstIndex           uint64   `json:"first_index"`
			Entries              int
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Requests != "put=1" {
			continue
		}
		if rec.Level != "WARN" || rec.Msg != "apply took too long" || rec.TookMS == nil || *rec.TookMS < 0 ||
			rec.Entries != 1 || rec.FirstIndex == 0 {
			t.Fatalf("the warning for the put (revision %d): %s", put.Header.Revision, line)
		}
		return
	}
	t.Fatalf("no warning for the put:\n%s", logs)
}
