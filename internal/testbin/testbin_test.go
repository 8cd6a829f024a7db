package testbin

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelperNeedsEtcdctl is run by TestNeedOnAFreshMachine in a child
// process with an empty PATH; on its own it does nothing.
func TestHelperNeedsEtcdctl(t *testing.T) {
	if os.Getenv("TESTBIN_CHILD") == "" {
		return
	}
	Need(t, "etcdctl")
	t.Log("etcdctl found")
}

// On a machine without etcdctl a test that needs it is skipped, and says
// which package to install; under CAIRN_REQUIRE_TOOLS it fails instead.
func TestNeedOnAFreshMachine(t *testing.T) {
	for _, require := range []bool{false, true} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeedsEtcdctl$", "-test.v")
		cmd.Env = []string{"PATH=" + t.TempDir(), "TESTBIN_CHILD=1"}
		if require {
			cmd.Env = append(cmd.Env, RequireEnv+"=1")
		}
		out, err := cmd.CombinedOutput()
		s := string(out)
		if !strings.Contains(s, "etcdctl is not installed (Debian package etcd-client: apt-get install etcd-client)") {
			t.Errorf("require=%v: the message does not name the package:\n%s", require, s)
		}
		switch {
		case !require && (err != nil || !strings.Contains(s, "--- SKIP")):
			t.Errorf("without %s: want a skip, got %v:\n%s", RequireEnv, err, s)
		case require && (err == nil || !strings.Contains(s, "--- FAIL")):
			t.Errorf("with %s: want a failure, got %v:\n%s", RequireEnv, err, s)
		}
	}
}
