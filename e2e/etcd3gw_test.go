package e2e

import (
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// runEtcd3gw runs testdata/etcd3gw_client.py (python etcd3gw, unchanged)
// against the member at clientURL and fails the test unless it says OK.
func runEtcd3gw(t *testing.T, python, clientURL string) {
	t.Helper()
	u, err := url.Parse(clientURL)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, filepath.Join("testdata", "etcd3gw_client.py"), u.Hostname(), u.Port()).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("etcd3gw against %s: %v\n%s", clientURL, err, out)
	}
}

// OpenStack's python etcd3gw, unchanged, against cairn: puts, gets, a watch
// whose "created" message and first events are ready together (etcd3gw
// decodes each HTTP chunk as one message, so each must be its own chunk),
// a prefix watch, a lease with keepalive, its lock, transactions. The same
// script against a real etcd 3.4 shows it asks nothing etcd does not do.
func TestEtcd3gw(t *testing.T) {
	python := testbin.NeedPython(t, "etcd3gw")
	m := startMember(t, t.TempDir())
	runEtcd3gw(t, python, m.url)

	t.Run("etcd", func(t *testing.T) {
		runEtcd3gw(t, python, testbin.StartEtcd(t))
	})
}
