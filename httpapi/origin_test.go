package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// originExchange sends one request to base as a browser or a rebinding
// page would: Host and Origin as given (empty: left out).
func originExchange(t *testing.T, base, method, path, host, origin string, header map[string]string, body string) *reply {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// TestOriginLimitsAsEtcd runs the same requests against etcd 3.4 and a
// handler with the same --cors and --host-whitelist: the answers match,
// but for the two differences cairn makes on purpose (origin.go): Vary:
// Origin, and a simple cross-origin write refused instead of carried out.
func TestOriginLimitsAsEtcd(t *testing.T) {
	const ok, evil = "http://ok.example:8080", "http://evil.example"
	etcd := startEtcd(t, "--cors", ok, "--host-whitelist", "localhost,127.0.0.1")
	ts := newTestServerConfig(t, Config{CORS: []string{ok}, HostWhitelist: []string{"localhost", "127.0.0.1"}})
	port := func(base string) string { u, _ := url.Parse(base); return u.Port() }
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
	simple := map[string]string{"Content-Type": "text/plain"}
	put := `{"key":"Zm9v","value":"ZXZpbA=="}` // foo=evil

	for _, c := range []struct {
		name              string
		method, path      string
		host              string // with %p for the port
		origin            string
		header            map[string]string
		body              string
		status            int
		etcdStatus        int // when it differs from cairn's
		acao              string
		vary, compareBody bool
	}{
		{name: "host not listed", method: "GET", path: "/version", host: "evil.example:%p", status: 421, compareBody: true},
		{name: "host not listed, no port", method: "POST", path: "/v3/kv/put", host: "evil.example", body: put, status: 421, compareBody: true},
		{name: "listed host", method: "GET", path: "/version", host: "localhost:%p", status: 200},
		{name: "preflight, listed origin", method: "OPTIONS", path: "/v3/kv/put", origin: ok, header: preflight, status: 200, acao: ok},
		{name: "preflight, other origin", method: "OPTIONS", path: "/v3/kv/put", origin: evil, header: preflight, status: 200},
		{name: "read, listed origin", method: "POST", path: "/v3/kv/range", origin: ok, body: `{"key":"Zm9v"}`, status: 200, acao: ok},
		{name: "GET, other origin", method: "GET", path: "/version", origin: evil, status: 200},
		{name: "simple write, other origin", method: "POST", path: "/v3/kv/put", origin: evil, header: simple, body: put, status: 403, etcdStatus: 200},
	} {
		for _, target := range []struct {
			name, base string
			etcd       bool
		}{{"etcd", etcd, true}, {"cairn", ts.URL, false}} {
			host := strings.ReplaceAll(c.host, "%p", port(target.base))
			r := originExchange(t, target.base, c.method, c.path, host, c.origin, c.header, c.body)
			want := c.status
			if target.etcd && c.etcdStatus != 0 {
				want = c.etcdStatus
			}
			if r.status != want {
				t.Errorf("%s: %s answered %d %q, want %d", c.name, target.name, r.status, r.body, want)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != c.acao {
				t.Errorf("%s: %s: Access-Control-Allow-Origin %q, want %q", c.name, target.name, got, c.acao)
			}
			if c.acao != "" && r.header.Get("Access-Control-Allow-Methods") != "POST, GET, OPTIONS, PUT, DELETE" {
				t.Errorf("%s: %s: Allow-Methods %q", c.name, target.name, r.header.Get("Access-Control-Allow-Methods"))
			}
			if got, want := r.header.Get("Vary"), map[bool]string{true: "Origin"}[c.status != 421 && !target.etcd]; got != want {
				t.Errorf("%s: %s: Vary %q, want %q", c.name, target.name, got, want)
			}
			if c.compareBody {
				if want := strings.Replace(hostRefusedText, "%q", `"evil.example"`, 1) + "\n"; r.body != want {
					t.Errorf("%s: %s answered %q, want %q", c.name, target.name, r.body, want)
				}
				if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("%s: %s: Content-Type %q", c.name, target.name, ct)
				}
			}
		}
	}
	// etcd carried the foreign write out; cairn did not.
	for _, target := range []struct {
		name, base, want string
	}{{"etcd", etcd, `"value":"ZXZpbA=="`}, {"cairn", ts.URL, `"header"`}} {
		r := originExchange(t, target.base, "POST", "/v3/kv/range", "", "", nil, `{"key":"Zm9v"}`)
		if !strings.Contains(r.body, target.want) {
			t.Errorf("%s after the foreign write: %s", target.name, r.body)
		}
	}
	if r := originExchange(t, ts.URL, "POST", "/v3/kv/range", "", "", nil, `{"key":"Zm9v"}`); strings.Contains(r.body, "kvs") {
		t.Errorf("cairn carried out the write of a foreign origin: %s", r.body)
	}
}

// With --cors set, the member's own origin (a page it served) and a
// request with no Origin (curl, etcdctl) still write; HTTPS requests skip
// the host check. With the default --cors, any origin writes and the
// answer does not vary.
func TestOriginLimitsLetOwnOriginWrite(t *testing.T) {
	ts := newTestServerConfig(t, Config{CORS: []string{"https://ok.example"}, HostWhitelist: []string{"127.0.0.1"}})
	put := `{"key":"Zm9v","value":"YmFy"}`
	for name, origin := range map[string]string{"own origin": ts.URL, "no origin": "", "listed origin": "https://ok.example"} {
		if r := originExchange(t, ts.URL, "POST", "/v3/kv/put", "", origin, nil, put); r.status != 200 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := originExchange(t, ts.URL, "DELETE", "/v2/keys/foo", "", "null", nil, ""); r.status != 403 {
		t.Errorf("DELETE from the null origin: %d %s", r.status, r.body)
	}

	ts = newTestServer(t)
	r := originExchange(t, ts.URL, "POST", "/v3/kv/put", "rebound.example:2379", "http://evil.example", map[string]string{"Content-Type": "text/plain"}, put)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Vary") != "" {
		t.Errorf("default --cors and --host-whitelist: %d %v %s", r.status, r.header, r.body)
	}
}
