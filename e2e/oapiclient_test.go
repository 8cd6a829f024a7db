package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// Generated clients, as a new user makes them: from the member's
// GET /openapi.yaml, with each generator's default settings, at pinned
// versions. Downloads go through the Go module cache and npm's cache, so
// only a machine's first run fetches them.

// oapiCodegen is the oapi-codegen the Go client is generated with.
const oapiCodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"

// fetchSpec saves the member's GET /openapi.yaml in dir.
func fetchSpec(t *testing.T, m *member, dir string) string {
	t.Helper()
	code, _, body := do(t, "GET", m.url+"/openapi.yaml", "", "")
	if code != 200 {
		t.Fatalf("GET /openapi.yaml: %d %s", code, body)
	}
	path := filepath.Join(dir, "openapi.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyDir copies the files of testdata/name into a new temp dir.
func copyDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", name, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs a command in dir and fails the test with its output if it fails.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// expectPass checks the output of a client program of testdata: a line per
// step and PASS at the end.
func expectPass(t *testing.T, out string) {
	t.Helper()
	for _, step := range []string{"ok range prefix", "ok txn mod_revision=", "ok history", "ok compaction", "ok lease revoke again",
		"ok member list", "ok status", "ok v2 put with ttl", "ok v2 directory listing", "ok v2 get deleted"} {
		if !strings.Contains(out, step) {
			t.Errorf("the client did not report %q:\n%s", step, out)
		}
	}
	if !strings.HasSuffix(out, "PASS\n") {
		t.Errorf("the client did not pass:\n%s", out)
	}
}

// TestGeneratedGoClient generates a Go client with oapi-codegen (default
// settings) from GET /openapi.yaml, builds testdata/oapigo over it and runs
// it against a real member: put, range of a prefix, a compare-and-swap
// transaction that succeeds then fails, the key's history, compaction, a lease granted, used,
// asked for its time to live and revoked, member list, status, and v2 PUT
// with a TTL, GET, a directory listing, a create refused and DELETE.
func TestGeneratedGoClient(t *testing.T) {
	m := startMember(t, t.TempDir())
	dir := copyDir(t, "oapigo")
	spec := fetchSpec(t, m, dir)
	if err := os.Mkdir(filepath.Join(dir, "client"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "go", "run", oapiCodegen, "-package", "client", "-o", "client/client.gen.go", spec)
	run(t, dir, "go", "build", "-o", "oapigo", ".")
	expectPass(t, run(t, dir, filepath.Join(dir, "oapigo"), m.url))
}

// npmTools installs testdata/oapits's pinned packages once per test binary,
// under binDir (removed by TestMain), and returns that directory. npm's
// cache keeps later runs offline.
var npmTools = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(binDir, "oapits")
	b, err := os.ReadFile(filepath.Join("testdata", "oapits", "package.json"))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "package.json"), b, 0o644)
	}
	if err != nil {
		return "", err
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install: %v\n%s", err, out)
	}
	return dir, nil
})

// needNPM returns the directory of the installed npm packages, skipping the
// test (or failing it under CAIRN_REQUIRE_TOOLS) without node and npm.
func needNPM(t *testing.T) string {
	t.Helper()
	testbin.Need(t, "node")
	testbin.Need(t, "npm")
	dir, err := npmTools()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGeneratedTypeScriptClient generates TypeScript types with
// openapi-typescript (default settings) from GET /openapi.yaml, compiles
// testdata/oapits/main.ts over them with openapi-fetch and tsc --strict,
// and runs it with node against a real member: the same session as
// TestGeneratedGoClient.
func TestGeneratedTypeScriptClient(t *testing.T) {
	tools := needNPM(t)
	m := startMember(t, t.TempDir())
	dir := copyDir(t, "oapits")
	spec := fetchSpec(t, m, dir)
	if err := os.Symlink(filepath.Join(tools, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin")
	run(t, dir, filepath.Join(bin, "openapi-typescript"), spec, "-o", "schema.d.ts")
	run(t, dir, filepath.Join(bin, "tsc"), "-p", ".", "--strict")
	expectPass(t, run(t, dir, "node", filepath.Join("out", "main.js"), m.url))
}

// TestOpenAPILint runs Redocly's lint with its recommended rules over
// openapi.yaml: no error may be reported.
func TestOpenAPILint(t *testing.T) {
	tools := needNPM(t)
	out, err := exec.Command(filepath.Join(tools, "node_modules", ".bin", "redocly"), "lint", "--extends=recommended",
		filepath.Join("..", "openapi.yaml")).CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
	t.Logf("redocly lint:\n%s", out)
}
