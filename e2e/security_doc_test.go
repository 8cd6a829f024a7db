package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// The commands of docs/security.md work as written, but for the ports
// and the binary: openssl makes the CA and the certificates, the member
// starts with TLS on both sets of URLs, curl and etcdctl (v2) write and
// read with the client certificate, curl without one is refused, and
// etcdctl v3 (gRPC over the same port) reads the key curl wrote.
func TestSecurityDocTLS(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	certs := docFileBlocks(t, "security.md", "Make certificates")
	serve := docFileBlocks(t, "security.md", "Serve clients over TLS")
	if len(certs) != 1 || len(serve) != 3 || len(serve[0]) != 1 || len(serve[1]) != 4 || len(serve[2]) != 1 {
		t.Fatalf("docs/security.md: want a block of openssl commands, a cairn command, 4 client commands and an etcdctl v3 one; got %q %q", certs, serve)
	}
	dir := t.TempDir()
	sh := func(line string) (string, error) {
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := sh(strings.Join(certs[0], "\n")); err != nil {
		t.Fatalf("openssl commands: %v\n%s", err, out)
	}
	client, peer := fmt.Sprint(freePort(t)), fmt.Sprint(freePort(t))
	ports := strings.NewReplacer("127.0.0.1:2379", "127.0.0.1:"+client, "127.0.0.1:2380", "127.0.0.1:"+peer)
	startDocMember(t, dir, ports.Replace(serve[0][0]), "a.log")
	put := ports.Replace(serve[1][0])
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := sh(put)
		if err == nil && strings.Contains(out, `"revision"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v %s", put, err, out)
		}
	}
	for i, want := range []string{`"value":"YmFy"`, "hello", "refused: no client certificate"} {
		line := ports.Replace(serve[1][i+1])
		if out, _ := sh(line); !strings.Contains(out, want) {
			t.Errorf("%s: %q, want %q", line, out, want)
		}
	}
	if _, err := exec.LookPath("etcdctl"); err == nil {
		line := ports.Replace(serve[2][0])
		if out, err := sh(line); err != nil || out != "foo\nbar" {
			t.Errorf("%s: %q, %v; want foo and bar", line, out, err)
		}
	}
}

// The auth commands of docs/security.md work as written, but for the port:
// curl sets up root and alice with a role on /app/ and turns auth on; alice's
// token writes under /app/ and is refused /secret; etcdctl v2 with
// --username writes under /app/ and curl with basic auth is refused /secret.
func TestSecurityDocAuth(t *testing.T) {
	blocks := docFileBlocks(t, "security.md", "Users, roles and permissions")
	if len(blocks) != 3 || len(blocks[0]) != 7 || len(blocks[1]) != 3 || len(blocks[2]) != 2 {
		t.Fatalf("docs/security.md: want the setup (7 commands), the token (3) and v2 (2) blocks; got %q", blocks)
	}
	m := startMember(t, t.TempDir())
	host := strings.TrimPrefix(m.url, "http://")
	sh := func(script string) string {
		t.Helper()
		cmd := exec.Command(testbin.Need(t, "bash"), "-c", strings.ReplaceAll(script, "127.0.0.1:2379", host))
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	for _, line := range blocks[0] {
		if out := sh(line); !strings.Contains(out, `"header"`) {
			t.Fatalf("%s: %s", line, out)
		}
	}
	if out := sh(strings.Join(blocks[1], "\n")); !strings.Contains(out, `"revision"`) || !strings.Contains(out, `"etcdserver: permission denied"`) {
		t.Errorf("the token block: %s", out)
	}
	testbin.Need(t, "etcdctl")
	if out := sh(blocks[2][0]); strings.TrimSpace(out) != "2" {
		t.Errorf("%s: %q", blocks[2][0], out)
	}
	if out := sh(blocks[2][1]); !strings.Contains(out, `"errorCode":110`) || !strings.Contains(out, "Insufficient credentials") {
		t.Errorf("%s: %q", blocks[2][1], out)
	}
}
