package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/server"
)

// env is an environment as os.Environ gives it.
func env(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func TestDefaultsAreEtcds(t *testing.T) {
	m := NewMain()
	if err := m.ParseFlags(nil, env(nil)); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Name != "default" || c.DataDir != "default.cairn" || c.ListenClientURLs != "http://127.0.0.1:2379" ||
		c.ListenPeerURLs != "http://127.0.0.1:2380" || c.SnapshotCount != 10000 || c.MaxRequestBytes != 1572864 ||
		c.QuotaBackendBytes != 2<<30 || c.InitialClusterState != "new" {
		t.Fatalf("defaults: %+v", c)
	}
	sc, err := c.serverConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.InitialCluster) != 1 || sc.InitialCluster[0].Name != "default" || sc.InitialCluster[0].URLs[0] != "http://127.0.0.1:2380" {
		t.Fatalf("default initial cluster: %+v", sc.InitialCluster)
	}
}

func TestEnvironmentMirrorsEveryFlagAndFlagsWin(t *testing.T) {
	m := NewMain()
	err := m.ParseFlags([]string{"--name", "from-flag"}, env(map[string]string{
		"CAIRN_NAME":              "from-env",
		"CAIRN_DATA_DIR":          "/tmp/x",
		"CAIRN_SNAPSHOT_COUNT":    "42",
		"CAIRN_MAX_REQUEST_BYTES": "1000",
		"CAIRN_LOG_FORMAT":        "json",
	}))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Name != "from-flag" {
		t.Errorf("name %q: the flag must win over CAIRN_NAME", c.Name)
	}
	if c.DataDir != "/tmp/x" || c.SnapshotCount != 42 || c.MaxRequestBytes != 1000 || c.LogFormat != "json" {
		t.Errorf("environment not applied: %+v", c)
	}
	if got := EnvName("CAIRN", "initial-cluster-token"); got != "CAIRN_INITIAL_CLUSTER_TOKEN" {
		t.Errorf("EnvName: %s", got)
	}
}

func TestBadFlagValues(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379"}, nil, "must be provided for client url"},
		{[]string{"--listen-client-urls", "127.0.0.1:2379", "--advertise-client-urls", "http://x:1"}, nil, "--listen-client-urls"},
		{[]string{"--listen-client-urls", "ftp://x:1", "--advertise-client-urls", "http://x:1"}, nil, "scheme must be http or https"},
		{[]string{"--initial-cluster-state", "maybe"}, nil, "new or existing"},
		{[]string{"--election-timeout", "200"}, nil, "--election-timeout"},
		{[]string{"--snapshot-count", "many"}, nil, "invalid value"},
		{nil, map[string]string{"CAIRN_SNAPSHOT_COUNT": "many"}, "CAIRN_SNAPSHOT_COUNT"},
		{[]string{"stray"}, nil, "unexpected argument"},
		{[]string{"--experimental-watch-progress-notify-interval", "0s"}, nil, "--experimental-watch-progress-notify-interval"},
		{[]string{"--max-watchers-per-connection", "0"}, nil, "--max-watchers-per-connection"},
		{[]string{"--max-watch-pending-bytes", "-1"}, nil, "--max-watch-pending-bytes"},
	}
	for _, c := range cases {
		m := NewMain()
		err := m.ParseFlags(c.args, env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: err %v, want it to mention %q", c.args, c.env, err, c.want)
		}
	}
}

// TestWatchFlags: etcd's progress-notify flag with its default, cairn's own
// watch limits, and their way into the member's configuration.
func TestWatchFlags(t *testing.T) {
	m := NewMain()
	if err := m.ParseFlags(nil, env(nil)); err != nil {
		t.Fatal(err)
	}
	sc, err := m.Config.serverConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := sc.Watch; w.ProgressNotifyInterval != 10*time.Minute || w.MaxWatchersPerConnection != 10000 || w.MaxPendingBytes != 1<<20 {
		t.Fatalf("defaults: %+v", w)
	}
	m = NewMain()
	err = m.ParseFlags([]string{"--experimental-watch-progress-notify-interval", "5s", "--max-watchers-per-connection", "-1"},
		env(map[string]string{"CAIRN_MAX_WATCH_PENDING_BYTES": "4096"}))
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ = m.Config.serverConfig(nil); sc.Watch != (server.WatchConfig{ProgressNotifyInterval: 5 * time.Second, MaxWatchersPerConnection: -1, MaxPendingBytes: 4096}) {
		t.Fatalf("set: %+v", sc.Watch)
	}
}
