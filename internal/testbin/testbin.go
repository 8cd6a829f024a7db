// Package testbin finds the programs that some tests run besides Go: a real
// etcd 3.4 and etcdctl to compare with, httpie and curl for the examples of
// the documentation, bash to run those examples as written, node and npm
// for the generated TypeScript client, the OpenAPI lint and the dashboard's
// bundle, chromium to drive the dashboard.
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
	pkg := packageOf(tb, Debian, "Debian", program)
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	missingPackage(tb, program+" is not installed", pkg)
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

// DebianPython names the Debian package of each Python module a test may
// import.
var DebianPython = map[string]string{
	"etcd3gw": "python3-etcd3gw",
}

// NeedPython returns the path of a python3 that imports module: Debian's
// /usr/bin/python3 first (where apt-get installs python3-* packages), then
// python3 on PATH. When none does, the test is skipped (or failed, under
// RequireEnv) with the package to install. module must be a key of
// DebianPython.
func NeedPython(tb testing.TB, module string) string {
	tb.Helper()
	pkg := packageOf(tb, DebianPython, "DebianPython", module)
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import "+module).Run() == nil {
			return py
		}
	}
	missingPackage(tb, "no python3 imports "+module, pkg)
	return ""
}

// missingPackage is Missing with the Debian package that would bring it.
func missingPackage(tb testing.TB, what, pkg string) {
	tb.Helper()
	Missing(tb, fmt.Sprintf("%s (Debian package %s: apt-get install %s)", what, pkg, pkg))
}

// packageOf returns table[name], the Debian package of name; a name missing
// from the table is a mistake in the test (tableName says where to add it).
func packageOf(tb testing.TB, table map[string]string, tableName, name string) string {
	tb.Helper()
	pkg, ok := table[name]
	if !ok {
		tb.Fatalf("testbin: no Debian package known for %q; add it to testbin.%s", name, tableName)
	}
	return pkg
}
