package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	client "go.etcd.io/etcd/client/v2"

	"github.com/cairnkv/cairn/internal/testbin"
)

// postAs sends a v3 request to m with token as its Authorization header.
func postAs(t testing.TB, m *member, token, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := m.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls check until it returns "" (done), failing the test with
// its last answer after a generous deadline (members apply at their pace).
func eventually(t testing.TB, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		last := check()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Auth across a real three-member cluster: the state is replicated through
// raft and survives a restart; a token made on one member works on every
// member; a password change on another member ends it everywhere; failed
// logins count in a metric and are logged without the password; etcdctl
// v2 --username and etcd's Go v2 client reach what the user's v3 role
// grants, and nothing else.
func TestAuthCluster(t *testing.T) {
	c := startCluster(t, 3, "--bcrypt-cost", "4")
	c.waitPublished(t)
	m0, m1, m2 := c.members[0].member, c.members[1].member, c.members[2].member
	must := func(m *member, token, path, body string) string {
		t.Helper()
		status, resp := postAs(t, m, token, path, body)
		if status != 200 {
			t.Fatalf("%s %s: %d %s", path, body, status, resp)
		}
		return resp
	}
	for _, s := range [][2]string{
		{"/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
		{"/v3/auth/user/grant", `{"user":"root","role":"root"}`},
		{"/v3/auth/user/add", `{"name":"alice","password":"apw"}`},
		{"/v3/auth/role/add", `{"name":"app"}`},
		{"/v3/auth/role/grant", `{"name":"app","perm":{"permType":"READWRITE","key":"` + b64("/app/") + `","range_end":"` + b64("/app0") + `"}}`},
		{"/v3/auth/user/grant", `{"user":"alice","role":"app"}`},
		{"/v3/kv/put", `{"key":"` + b64("/secret") + `","value":"` + b64("s") + `"}`},
		{"/v3/auth/enable", `{}`},
	} {
		must(m0, "", s[0], s[1])
	}
	token := func(m *member, name, pw string) string {
		var r struct{ Token string }
		if err := json.Unmarshal([]byte(must(m, "", "/v3/auth/authenticate", `{"name":"`+name+`","password":"`+pw+`"}`)), &r); err != nil {
			t.Fatal(err)
		}
		return r.Token
	}
	alice := token(m0, "alice", "apw")
	must(m0, alice, "/v3/kv/put", `{"key":"`+b64("/app/x")+`","value":"`+b64("1")+`"}`)
	for _, m := range []*member{m1, m2} {
		eventually(t, "alice's token on another member", func() string {
			if status, body := postAs(t, m, alice, "/v3/kv/range", `{"key":"`+b64("/app/x")+`"}`); status != 200 {
				return body
			}
			return ""
		})
		if status, body := postAs(t, m, alice, "/v3/kv/range", `{"key":"`+b64("/secret")+`"}`); status != 403 {
			t.Errorf("alice reading /secret on %s: %d %s", m.url, status, body)
		}
	}

	// Failed logins: counted, logged, the password nowhere in the log.
	const wrong = "wrong-password-7f3a"
	for range 3 {
		if status, _ := postAs(t, m0, "", "/v3/auth/authenticate", `{"name":"alice","password":"`+wrong+`"}`); status != 400 {
			t.Fatalf("a wrong password: %d", status)
		}
	}
	if got := scrapeMetrics(t, m0.url).value("cairn_auth_failed_authentications_total"); got != 3 {
		t.Errorf("cairn_auth_failed_authentications_total = %v, want 3", got)
	}
	if logs := m0.logs.String(); !strings.Contains(logs, "authentication failed") || strings.Contains(logs, wrong) {
		t.Errorf("the log lacks the failed login or holds the password")
	}

	// A password change on m2 ends alice's token on every member.
	root := token(m2, "root", "rootpw")
	must(m2, root, "/v3/auth/user/changepw", `{"name":"alice","password":"apw2"}`)
	for _, m := range []*member{m0, m1, m2} {
		eventually(t, "alice's old token after the password change", func() string {
			if status, body := postAs(t, m, alice, "/v3/kv/range", `{"key":"`+b64("/app/x")+`"}`); status != 401 {
				return body
			}
			return ""
		})
	}

	// A restart keeps users, roles and the enabled flag.
	if err := m1.stop(); err != nil {
		t.Fatal(err)
	}
	m1.restart()
	if status, body := postAs(t, m1, "", "/v3/kv/range", `{"key":"`+b64("/app/x")+`"}`); status != 400 || !strings.Contains(body, "user name is empty") {
		t.Errorf("no token after a restart: %d %s", status, body)
	}
	alice = token(m1, "alice", "apw2")
	must(m1, alice, "/v3/kv/range", `{"key":"`+b64("/app/x")+`"}`)

	// v2 clients, unchanged, with alice's password.
	endpoints := []string{m0.url, m1.url, m2.url}
	kapi := client.NewKeysAPI(v2ClientAs(t, "alice", "apw2", endpoints...))
	ctx := context.Background()
	if _, err := kapi.Set(ctx, "/app/v2", "from-v2", nil); err != nil {
		t.Errorf("Go v2 client set /app/v2 as alice: %v", err)
	}
	if _, err := kapi.Get(ctx, "/secret", &client.GetOptions{Quorum: true}); v2Code(err) != 110 {
		t.Errorf("Go v2 client get /secret as alice: %v, want error 110", err)
	}
	if _, err := client.NewKeysAPI(v2ClientAs(t, "alice", "bad", endpoints...)).Get(ctx, "/app/x", nil); v2Code(err) != 110 {
		t.Errorf("Go v2 client with a wrong password: %v, want error 110", err)
	}
	bin := testbin.Need(t, "etcdctl")
	etcdctl := func(args ...string) (string, error) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, append([]string{"--endpoints", m2.url, "--username", "alice:apw2"}, args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=2")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out)), err
	}
	if out, err := etcdctl("get", "--quorum", "/app/v2"); err != nil || out != "from-v2" {
		t.Errorf("etcdctl v2 get /app/v2 as alice: %q %v", out, err)
	}
	if out, err := etcdctl("get", "--quorum", "/secret"); err == nil || !strings.Contains(out, "110") {
		t.Errorf("etcdctl v2 get /secret as alice: %q %v, want error 110", out, err)
	}
	if out, err := etcdctl("set", "/secret", "x"); err == nil || !strings.Contains(out, "110") {
		t.Errorf("etcdctl v2 set /secret as alice: %q %v, want error 110", out, err)
	}
}

// v2ClientAs is etcd's Go v2 client with basic-auth credentials.
func v2ClientAs(t testing.TB, user, password string, endpoints ...string) client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: endpoints, Transport: client.DefaultTransport, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
