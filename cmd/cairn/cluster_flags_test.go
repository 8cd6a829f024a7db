package main

import (
	"net"
	"strconv"
	"testing"
)

// An advertised URL with port 0 takes the port its listener got, so a
// member listening on port 0 advertises where it can really be reached.
func TestResolvePortZero(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	cases := map[string]string{
		"http://127.0.0.1:0":                      "http://127.0.0.1:" + port,
		"http://127.0.0.1:2379":                   "http://127.0.0.1:2379",
		"http://127.0.0.1:0,http://10.0.0.1:2379": "http://127.0.0.1:" + port + ",http://10.0.0.1:2379",
	}
	for in, want := range cases {
		if got := resolvePortZero(in, []net.Listener{l}); got != want {
			t.Errorf("resolvePortZero(%q) = %q, want %q", in, got, want)
		}
	}
}

// The cluster flags reach the member's configuration.
func TestClusterFlags(t *testing.T) {
	m := NewMain()
	err := m.ParseFlags([]string{
		"--name", "b",
		"--initial-cluster", "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380",
		"--initial-advertise-peer-urls", "http://10.0.0.2:2380",
		"--advertise-client-urls", "http://10.0.0.2:2379",
		"--initial-cluster-state", "existing",
		"--experimental-snapshot-catchup-entries", "77",
	}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := m.Config.serverConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.InitialCluster) != 2 || sc.InitialClusterState != "existing" || sc.SnapshotCatchUpEntries != 77 ||
		len(sc.PeerURLs) != 1 || sc.PeerURLs[0] != "http://10.0.0.2:2380" ||
		len(sc.ClientURLs) != 1 || sc.ClientURLs[0] != "http://10.0.0.2:2379" {
		t.Fatalf("server config: %+v", sc)
	}
}
