package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	client "go.etcd.io/etcd/client/v2"

	"github.com/cairnkv/cairn/internal/testcerts"
)

// tlsSetup is a CA, a client certificate it signed and a directory for
// the members' certificates.
type tlsSetup struct {
	ca     *testcerts.CA
	dir    string
	client testcerts.Pair
	http   *http.Client // trusts ca, presents client
}

func newTLSSetup(t *testing.T) *tlsSetup {
	s := &tlsSetup{ca: testcerts.NewCA(t, "ca"), dir: t.TempDir()}
	s.client = s.ca.Issue(t, s.dir, "client")
	s.http = &http.Client{Transport: &http.Transport{TLSClientConfig: testcerts.ClientConfig(t, s.ca, s.client)}}
	return s
}

// memberFlags are the TLS flags of a member named name: https client URLs,
// client and peer certificates of ca, both sets requiring certificates.
func (s *tlsSetup) memberFlags(t *testing.T, name string) []string {
	p := s.ca.Issue(t, s.dir, name)
	return []string{
		"--listen-client-urls", "https://127.0.0.1:0", "--advertise-client-urls", "https://127.0.0.1:0",
		"--cert-file", p.CertFile, "--key-file", p.KeyFile, "--trusted-ca-file", s.ca.File, "--client-cert-auth",
		"--peer-cert-file", p.CertFile, "--peer-key-file", p.KeyFile, "--peer-trusted-ca-file", s.ca.File, "--peer-client-cert-auth",
	}
}

// A 3-member cluster whose peers speak mTLS forms and replicates; its peer
// listeners refuse plain HTTP and a client without a certificate; a member
// whose certificate another CA signed cannot join it.
func TestTLSClusterPeerMTLS(t *testing.T) {
	s := newTLSSetup(t)
	c := &cluster{t: t, token: fmt.Sprintf("e2e-tls-%d", time.Now().UnixNano()), scheme: "https", client: s.http}
	c.memberArgs = func(m *cmember) []string { return s.memberFlags(t, m.name) }
	c.start(3)
	for i, m := range c.members {
		if !strings.HasPrefix(m.url, "https://") || !strings.HasPrefix(m.peerURL, "https://") {
			t.Fatalf("%s: client URL %s, peer URL %s", m.name, m.url, m.peerURL)
		}
		m.putRetry(t, fmt.Sprintf("k%d", i), m.name)
	}
	for _, m := range c.members {
		if n, err := m.countPrefix(context.Background(), "k", false); err != nil || n != 3 {
			t.Fatalf("%s holds %d of 3 keys (%v)", m.name, n, err)
		}
	}
	peer := c.members[0].peerURL
	if resp, err := http.Get(strings.Replace(peer, "https:", "http:", 1) + "/members"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to a peer URL: %d", resp.StatusCode)
		}
	}
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: testcerts.ClientConfig(t, s.ca, testcerts.Pair{})}}
	if resp, err := anon.Get(peer + "/members"); err == nil {
		resp.Body.Close()
		t.Errorf("a peer URL answered a client without a certificate: %d", resp.StatusCode)
	}

	// The intruder: added to the cluster (a learner, so that the quorum
	// stays 2 of 3), with a certificate of another CA.
	other := testcerts.NewCA(t, "other")
	nm := &cmember{name: "m3", peerURL: fmt.Sprintf("https://127.0.0.1:%d", freePort(t))}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := c.members[1].members(t, "add", map[string]any{"peerURLs": []string{nm.peerURL}, "isLearner": true})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("member add: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var initial []string
	for _, m := range append(c.members, nm) {
		initial = append(initial, m.name+"="+m.peerURL)
	}
	p := other.Issue(t, s.dir, "m3")
	intruder := &member{t: t, dataDir: t.TempDir(), args: append([]string{
		"--name", nm.name, "--listen-peer-urls", nm.peerURL, "--initial-advertise-peer-urls", nm.peerURL,
		"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "existing",
		"--initial-cluster-token", c.token,
		"--peer-cert-file", p.CertFile, "--peer-key-file", p.KeyFile, "--peer-trusted-ca-file", s.ca.File,
	}, e2eTiming...)}
	t.Cleanup(intruder.kill9)
	err := intruder.launch()
	if err == nil {
		t.Fatal("a member with a certificate of another CA joined the cluster")
	}
	if !strings.Contains(err.Error(), "tls: unknown certificate authority") {
		t.Errorf("the intruder stopped, but not for its certificate: %v", err)
	}
	// The cluster still serves, the intruder's entry never started.
	c.members[0].putRetry(t, "after", "v")
	list, err := c.members[2].members(t, "list", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Members {
		if len(m.PeerURLs) == 1 && m.PeerURLs[0] == nm.peerURL && m.Name != "" {
			t.Errorf("the intruder's entry is started: %+v", m)
		}
	}
}

// etcdctl (ETCDCTL_API=2, --ca-file --cert-file --key-file) and etcd's Go
// v2 client with a TLS transport work against a member with
// --client-cert-auth; etcdctl without a client certificate is refused.
func TestTLSClients(t *testing.T) {
	s := newTLSSetup(t)
	m := &member{t: t, dataDir: t.TempDir(), args: s.memberFlags(t, "m0"), client: s.http}
	t.Cleanup(m.kill9)
	m.start()

	if bin, err := exec.LookPath("etcdctl"); err != nil {
		t.Log("etcdctl is not installed: skipping its part")
	} else {
		run := func(args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoints", m.url}, args...)...)
			cmd.Env = append(os.Environ(), "ETCDCTL_API=2")
			out, err := cmd.CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}
		certs := []string{"--ca-file", s.ca.File, "--cert-file", s.client.CertFile, "--key-file", s.client.KeyFile}
		for _, st := range []struct{ args, want string }{
			{"set /tls/a hello", "hello"},
			{"get /tls/a", "hello"},
			{"ls /tls", "/tls/a"},
		} {
			if out, err := run(append(certs, strings.Fields(st.args)...)...); err != nil || out != st.want {
				t.Errorf("etcdctl %s: %q, %v; want %q", st.args, out, err, st.want)
			}
		}
		if out, err := run("--ca-file", s.ca.File, "get", "/tls/a"); err == nil || !strings.Contains(out, "certificate required") {
			t.Errorf("etcdctl without a client certificate: %q, %v", out, err)
		}
	}

	cfg := testcerts.ClientConfig(t, s.ca, s.client)
	gc, err := client.New(client.Config{Endpoints: []string{m.url}, Transport: &http.Transport{TLSClientConfig: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	keys := client.NewKeysAPI(gc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := keys.Set(ctx, "/tls/b", "from-go", nil); err != nil {
		t.Fatalf("Go v2 client Set over TLS: %v", err)
	}
	if r, err := keys.Get(ctx, "/tls/b", nil); err != nil || r.Node.Value != "from-go" {
		t.Fatalf("Go v2 client Get over TLS: %+v %v", r, err)
	}
	ms, err := client.NewMembersAPI(gc).List(ctx)
	if err != nil || len(ms) != 1 || len(ms[0].ClientURLs) != 1 || ms[0].ClientURLs[0] != m.url {
		t.Fatalf("members over TLS: %+v %v", ms, err)
	}
	// A Go client that presents no certificate is refused.
	bare, _ := client.New(client.Config{Endpoints: []string{m.url}, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.ca.Pool()}}})
	if _, err := client.NewKeysAPI(bare).Get(ctx, "/tls/b", nil); err == nil {
		t.Error("a Go client without a certificate was answered")
	}
}

// cairn-bench reaches an https member that wants client certificates with
// --cacert, --cert and --key, through both of its HTTP clients.
func TestTLSLoadTool(t *testing.T) {
	s := newTLSSetup(t)
	m := &member{t: t, dataDir: t.TempDir(), args: s.memberFlags(t, "m0"), client: s.http}
	t.Cleanup(m.kill9)
	m.start()
	for _, hc := range []string{"raw", "std"} {
		args := []string{"put", "--endpoints", m.url, "--cacert", s.ca.File, "--cert", s.client.CertFile, "--key", s.client.KeyFile,
			"--http-client", hc, "--clients", "8", "--total", "200", "--output", "json"}
		out, err := exec.Command(filepath.Join(binDir, "cairn-bench"), args...).Output()
		if err != nil {
			t.Fatalf("cairn-bench --http-client %s: %v\n%s", hc, err, out)
		}
		var r benchReport
		if err := json.Unmarshal(out, &r); err != nil || r.Failed != 0 || r.Succeeded != 200 {
			t.Fatalf("cairn-bench --http-client %s: %+v %v\n%s", hc, r, err, out)
		}
	}
	out, err := exec.Command(filepath.Join(binDir, "cairn-bench"), "put", "--endpoints", m.url, "--cacert", s.ca.File, "--total", "10", "--output", "json").Output()
	var r benchReport
	if err != nil || json.Unmarshal(out, &r) != nil || r.Failed != 10 || r.Errors["remote error : tls: certificate required"] != 10 {
		t.Errorf("cairn-bench without a client certificate: %v %s", err, out)
	}
}
