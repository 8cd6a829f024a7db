package compactor

import (
	"strings"
	"testing"
	"time"
)

// Parse reads etcd's two flags as etcd 3.4 does: a bare
// number is hours in periodic mode and revisions in revision mode; 0 turns
// auto-compaction off.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		mode, retention string
		want            Config
		err             string
	}{
		{"periodic", "0", Config{}, ""},
		{"periodic", "0s", Config{}, ""},
		{"revision", "0", Config{}, ""},
		{"periodic", "1", Config{Mode: "periodic", Period: time.Hour}, ""},
		{"periodic", "72", Config{Mode: "periodic", Period: 72 * time.Hour}, ""},
		{"periodic", "30m", Config{Mode: "periodic", Period: 30 * time.Minute}, ""},
		{"periodic", "1s", Config{Mode: "periodic", Period: time.Second}, ""},
		{"revision", "1000", Config{Mode: "revision", Revisions: 1000}, ""},
		{"periodic", "-1", Config{}, "neither a number of hours nor a duration"},
		{"periodic", "1.5", Config{}, "neither a number of hours nor a duration"},
		{"periodic", "-5m", Config{}, "neither a number of hours nor a duration"},
		{"periodic", "99999999999", Config{}, "too long"},
		{"revision", "1h", Config{}, "revision mode keeps a number of revisions"},
		{"revision", "-1", Config{}, "revision mode keeps a number of revisions"},
		{"weird", "1", Config{}, "must be periodic or revision"},
		{"", "0", Config{}, "must be periodic or revision"},
	} {
		got, err := Parse(c.mode, c.retention)
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
