// Package testbin finds the programs that some tests run besides Go: a real
// etcd 3.4 and etcdctl to compare with, httpie and curl for the examples of
// the documentation, bash to run those examples as written, node and npm to
// rebuild the dashboard's bundle, chromium to drive the dashboard.
//
// On a machine without one of them the test that needs it is skipped, with
// a message that names the Debian package to install, so that `go test
// ./...` passes on a fresh machine with only Go. When the environment
// variable CAIRN_REQUIRE_TOOLS is set (.ci/run sets it), a missing program
// fails the test instead: CI cannot go green by skipping.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable that turns skips for a missing
// program into failures.
const RequireEnv = "CAIRN_REQUIRE_TOOLS"

// Debian names the Debian package of each program a test may run.
var Debian = map[string]string{
	"etcd":     "etcd-server",
	"etcdctl":  "etcd-client",
	"http":     "httpie",
	"curl":     "curl",
	"bash":     "bash",
	"node":     "nodejs",
	"npm":      "npm",
	"chromium": "chromium",
}

// Need returns the path of program on PATH. When it is not there, the test
// is skipped (or failed, under RequireEnv) with the package to install.
// program must be a key of Debian.
func Need(tb testing.TB, program string) string {
	tb.Helper()
	pkg, ok := Debian[program]
	if !ok {
		tb.Fatalf("testbin: no Debian package known for %q; add it to testbin.Debian", program)
	}
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	Missing(tb, fmt.Sprintf("%s is not installed (Debian package %s: apt-get install %s)", program, pkg, pkg))
	return ""
}

// Missing skips the test for want of something it needs (a program, or the
// right version of one), or fails it when RequireEnv is set.
func Missing(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv(RequireEnv) != "" {
		tb.Fatalf("%s; %s is set, so this is a failure, not a skip", why, RequireEnv)
	}
	tb.Skip(why)
}
