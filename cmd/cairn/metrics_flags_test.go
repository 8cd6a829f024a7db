package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/compactor"
)

// etcd's auto-compaction flags (and their environment mirror) reach the
// member's configuration; auto-compaction is off by default, as in etcd.
func TestAutoCompactionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want compactor.Config
	}{
		{nil, nil, compactor.Config{}},
		{[]string{"--auto-compaction-retention", "1"}, nil, compactor.Config{Mode: "periodic", Period: time.Hour}},
		{[]string{"--auto-compaction-retention", "90s"}, nil, compactor.Config{Mode: "periodic", Period: 90 * time.Second}},
		{[]string{"--auto-compaction-mode", "revision"}, map[string]string{"CAIRN_AUTO_COMPACTION_RETENTION": "10"},
			compactor.Config{Mode: "revision", Revisions: 10}},
	} {
		m := NewMain()
		if err := m.ParseFlags(c.args, env(c.env)); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		sc, err := m.Config.serverConfig(nil)
		if err != nil || sc.AutoCompaction != c.want {
			t.Errorf("%v %v: %+v, %v; want %+v", c.args, c.env, sc.AutoCompaction, err, c.want)
		}
	}
}

func TestBadMetricsAndCompactionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--auto-compaction-mode", "hourly"}, "--auto-compaction-mode"},
		{[]string{"--auto-compaction-retention", "soon"}, "--auto-compaction-retention"},
		{[]string{"--auto-compaction-mode", "revision", "--auto-compaction-retention", "1h"}, "--auto-compaction-retention"},
		{[]string{"--listen-metrics-urls", "127.0.0.1:2381"}, "--listen-metrics-urls"},
		{[]string{"--listen-metrics-urls", "https://127.0.0.1:2381"}, "not implemented yet: TLS"},
	} {
		m := NewMain()
		err := m.ParseFlags(c.args, env(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want it to mention %q", c.args, err, c.want)
		}
	}
}
