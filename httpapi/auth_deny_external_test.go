package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
)

// The deny matrix of the v3 API: for every route of openapi.yaml, a user
// whose roles do not grant the keys (or who is not an admin) is refused
// with etcd's error and nothing changes; the same user reaches the keys its
// role grants; a request without a user, or with a bad token, is refused.

// denyCase is one request of the matrix.
type denyCase struct {
	path string
	// denied are bodies alice may not send (keys outside "a/", admin
	// calls); allowed one she may (empty: none, an admin route).
	denied  []string
	allowed string
	// anyUser: every user may call it (no key in the request).
	anyUser bool
	// stream: the answer is a stream (read its first line only).
	stream bool
}

func denyMatrix(secretLease, ownLease, ownLease2 int64) []denyCase {
	sec, own := b64("secret"), b64("a/1")
	put := func(k string) string { return `{"requestPut":{"key":"` + k + `","value":"eA=="}}` }
	rng := func(k string) string { return `{"requestRange":{"key":"` + k + `"}}` }
	del := func(k string) string { return `{"requestDeleteRange":{"key":"` + k + `"}}` }
	cmp := func(k string) string { return `{"key":"` + k + `","target":"VERSION","version":"0"}` }
	lease := func(id int64, keys bool) string { return fmt.Sprintf(`{"ID":"%d","keys":%v}`, id, keys) }
	return []denyCase{
		{path: "/v3/kv/range", denied: []string{
			`{"key":"` + sec + `"}`,
			`{"key":"` + b64("a/") + `","range_end":"` + b64("a1") + `"}`, // past the prefix
			`{"key":"` + b64("a/") + `","range_end":"AA=="}`,              // from a/ on
			`{"key":"AA==","range_end":"AA=="}`,                           // everything
		}, allowed: `{"key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}`},
		{path: "/v3/kv/put", denied: []string{`{"key":"` + sec + `","value":"eA=="}`,
			fmt.Sprintf(`{"key":"%s","value":"eA==","lease":"%d"}`, sec, ownLease),
			fmt.Sprintf(`{"key":"%s","value":"eA==","lease":"%d"}`, b64("a/2"), secretLease)}, // the lease holds /secret
			allowed: `{"key":"` + b64("a/2") + `","value":"eA==","prev_kv":true}`},
		{path: "/v3/kv/deleterange", denied: []string{`{"key":"` + sec + `"}`,
			`{"key":"` + b64("a") + `","range_end":"` + b64("b") + `"}`},
			allowed: `{"key":"` + b64("a/9") + `"}`},
		{path: "/v3/kv/txn", denied: []string{
			`{"compare":[` + cmp(sec) + `]}`,
			`{"success":[` + put(sec) + `]}`,
			`{"success":[` + rng(sec) + `]}`,
			`{"failure":[` + del(sec) + `]}`,
			`{"success":[` + put(own) + `],"failure":[` + rng(sec) + `]}`,
			`{"success":[{"requestTxn":{"failure":[` + put(sec) + `]}}]}`,
		}, allowed: `{"compare":[` + cmp(own) + `],"success":[` + put(b64("a/3")) + `],"failure":[` + rng(own) + `]}`},
		{path: "/v3/kv/history", denied: []string{`{"key":"` + sec + `"}`}, allowed: `{"key":"` + own + `"}`},
		{path: "/v3/lock/lock", denied: []string{`{"name":"` + sec + `"}`, `{"name":"` + b64("a0") + `"}`},
			allowed: `{"name":"` + b64("a/lk") + `"}`},
		{path: "/v3/lock/unlock", denied: []string{`{"key":"` + sec + `"}`}, allowed: `{"key":"` + b64("a/gone") + `"}`},
		{path: "/v3/kv/compaction", denied: []string{`{"revision":"1"}`}},
		{path: "/v3/maintenance/alarm", denied: []string{`{}`, `{"action":"ACTIVATE","memberID":"1","alarm":"NOSPACE"}`}},
		{path: "/v3/maintenance/defragment", denied: []string{`{}`}},
		{path: "/v3/maintenance/hash", denied: []string{`{}`}},
		{path: "/v3/maintenance/hashkv", denied: []string{`{}`}},
		{path: "/v3/maintenance/snapshot", denied: []string{`{}`}, stream: true},
		{path: "/v3/watch", denied: []string{
			`{"create_request":{"key":"` + sec + `"}}`,
			`{"create_request":{"key":"AA==","range_end":"AA=="}}`,
		}, allowed: `{"create_request":{"key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}}`, stream: true},
		{path: "/v3/lease/grant", anyUser: true, allowed: `{"TTL":"60"}`},
		{path: "/v3/lease/revoke", denied: []string{lease(secretLease, false)}, allowed: lease(ownLease2, false)},
		{path: "/v3/kv/lease/revoke", denied: []string{lease(secretLease, false)}},
		{path: "/v3/lease/timetolive", denied: []string{lease(secretLease, true)}, allowed: lease(ownLease, true)},
		{path: "/v3/kv/lease/timetolive", denied: []string{lease(secretLease, false)}, allowed: lease(ownLease, false)},
		{path: "/v3/lease/leases", anyUser: true, allowed: `{}`},
		{path: "/v3/kv/lease/leases", anyUser: true, allowed: `{}`},
		{path: "/v3/lease/keepalive", anyUser: true, allowed: lease(ownLease, false), stream: true},
		{path: "/v3/cluster/member/list", anyUser: true, allowed: `{}`},
		{path: "/v3/cluster/member/add", denied: []string{`{"peerURLs":["http://127.0.0.1:1"]}`}},
		{path: "/v3/cluster/member/remove", denied: []string{`{"ID":"1"}`}},
		{path: "/v3/cluster/member/update", denied: []string{`{"ID":"1","peerURLs":["http://127.0.0.1:1"]}`}},
		{path: "/v3/cluster/member/promote", denied: []string{`{"ID":"1"}`}},
		{path: "/v3/auth/enable", denied: []string{`{}`}},
		{path: "/v3/auth/disable", denied: []string{`{}`}},
		{path: "/v3/auth/user/add", denied: []string{`{"name":"eve","password":"x"}`}},
		{path: "/v3/auth/user/get", denied: []string{`{"name":"root"}`}, allowed: `{"name":"alice"}`},
		{path: "/v3/auth/user/list", denied: []string{`{}`}},
		{path: "/v3/auth/user/delete", denied: []string{`{"name":"root"}`, `{"name":"alice"}`}},
		{path: "/v3/auth/user/changepw", denied: []string{`{"name":"root","password":"x"}`, `{"name":"alice","password":"x"}`}},
		{path: "/v3/auth/user/grant", denied: []string{`{"user":"alice","role":"root"}`}},
		{path: "/v3/auth/user/revoke", denied: []string{`{"name":"alice","role":"r1"}`}},
		{path: "/v3/auth/role/add", denied: []string{`{"name":"r2"}`}},
		{path: "/v3/auth/role/get", denied: []string{`{"role":"root"}`}, allowed: `{"role":"r1"}`},
		{path: "/v3/auth/role/list", denied: []string{`{}`}},
		{path: "/v3/auth/role/delete", denied: []string{`{"role":"r1"}`}},
		{path: "/v3/auth/role/grant", denied: []string{`{"name":"r1","perm":{"permType":"READWRITE","key":"AA==","range_end":"AA=="}}`}},
		{path: "/v3/auth/role/revoke", denied: []string{`{"role":"r1","key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}`}},
	}
}

// publicRoutes answer anyone, auth or not (etcd: authenticate, status).
var publicRoutes = []string{"/v3/auth/authenticate", "/v3/auth/status", "/v3/maintenance/status"}

// rawPost sends a request with token as its Authorization header; for a
// stream, it reads the first line only.
func rawPost(t *testing.T, base, token, path, body string, stream bool) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if stream && resp.StatusCode == 200 {
		return 200, readFirstLine(t, resp.Body)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// state is everything a user could have changed: the keys with their
// revisions, the leases, the users and roles, the alarms.
func state(t *testing.T, ts *httpapi.TestServer, root string) string {
	t.Helper()
	var b strings.Builder
	for _, c := range [][2]string{
		{"/v3/kv/range", `{"key":"AA==","range_end":"AA=="}`},
		{"/v3/lease/leases", `{}`},
		{"/v3/auth/user/list", `{}`},
		{"/v3/auth/role/list", `{}`},
		{"/v3/auth/role/get", `{"role":"r1"}`},
		{"/v3/auth/user/get", `{"name":"alice"}`},
		{"/v3/maintenance/alarm", `{}`},
		{"/v3/cluster/member/list", `{}`},
		{"/v3/auth/status", `{}`},
	} {
		status, body := ts.PostAs(root, c[0], c[1])
		fmt.Fprintf(&b, "%s %d %s\n", c[0], status, body)
	}
	return b.String()
}

func TestAuthDenyMatrixV3(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMemberWith(t, fastBcrypt), httpapi.Config{})
	must := func(token, path, body string) string { t.Helper(); return mustAs(t, ts, token, path, body) }
	grant := func(key string) int64 {
		var r struct{ ID string }
		if err := json.Unmarshal([]byte(must("", "/v3/lease/grant", `{"TTL":"600"}`)), &r); err != nil {
			t.Fatal(err)
		}
		var id int64
		fmt.Sscan(r.ID, &id)
		must("", "/v3/kv/put", fmt.Sprintf(`{"key":"%s","value":"eA==","lease":"%d"}`, b64(key), id))
		return id
	}
	for _, c := range [][2]string{
		{"/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
		{"/v3/auth/user/grant", `{"user":"root","role":"root"}`},
		{"/v3/auth/user/add", `{"name":"alice","password":"apw"}`},
		{"/v3/auth/role/add", `{"name":"r1"}`},
		{"/v3/auth/role/grant", `{"name":"r1","perm":{"permType":"READWRITE","key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}}`},
		{"/v3/auth/user/grant", `{"user":"alice","role":"r1"}`},
		{"/v3/kv/put", `{"key":"` + b64("a/1") + `","value":"MQ=="}`},
	} {
		must("", c[0], c[1])
	}
	secretLease, ownLease, ownLease2 := grant("secret"), grant("a/l"), grant("a/m")
	must("", "/v3/auth/enable", `{}`)
	root, alice := authenticate(t, ts, "root", "rootpw"), authenticate(t, ts, "alice", "apw")

	matrix := denyMatrix(secretLease, ownLease, ownLease2)
	// Every v3 route of openapi.yaml is in the matrix or public.
	doc, err := openapi3.NewLoader().LoadFromData(cairn.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for path := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v3/") || slices.Contains(publicRoutes, path) {
			continue
		}
		if !slices.ContainsFunc(matrix, func(c denyCase) bool { return c.path == path }) {
			t.Errorf("%s is not in the deny matrix", path)
		}
	}

	before := state(t, ts, root)
	for _, c := range matrix {
		// No user, or a token that is not one: refused before anything.
		for _, tok := range []string{"", "garbage", root + "x", "Bearer " + alice + "x", strings.Repeat("t", 64<<10)} {
			want := 401
			if tok == "" {
				want = 400
			}
			if status, body := rawPost(t, ts.URL, tok, c.path, `{}`, c.stream); status != want {
				t.Errorf("%s with token %.12q: %d %s, want %d", c.path, tok, status, body, want)
			}
		}
		for _, body := range c.denied {
			status, resp := rawPost(t, ts.URL, alice, c.path, body, c.stream)
			if c.path == "/v3/watch" {
				if status != 200 || !strings.Contains(resp, `"canceled":true`) || !strings.Contains(resp, cairn.ErrPermissionDenied.Error()) {
					t.Errorf("watch %s as alice: %d %s, want a canceled watch (permission denied)", body, status, resp)
				}
				continue
			}
			if status != 403 || !strings.Contains(resp, `"code":7`) {
				t.Errorf("%s %s as alice: %d %s, want 403 permission denied", c.path, body, status, resp)
			}
		}
	}
	if after := state(t, ts, root); after != before {
		t.Fatalf("denied requests changed the state:\nbefore\n%s\nafter\n%s", before, after)
	}
	for _, c := range matrix {
		if c.allowed == "" {
			continue
		}
		status, resp := rawPost(t, ts.URL, alice, c.path, c.allowed, c.stream)
		if status != 200 || strings.Contains(resp, `"canceled":true`) {
			t.Errorf("%s %s as alice: %d %s, want it served", c.path, c.allowed, status, resp)
		}
	}
	// Bearer works as the raw form does.
	if status, resp := rawPost(t, ts.URL, "Bearer "+alice, "/v3/kv/range", `{"key":"`+b64("a/1")+`"}`, false); status != 200 {
		t.Errorf("Bearer token: %d %s", status, resp)
	}
}

// Oversized credentials change nothing: a password over bcrypt's 72 bytes
// is refused when set and fails authentication; a name or password as big
// as a request may be is only a failed login.
func TestAuthOversizedCredentials(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMemberWith(t, fastBcrypt), httpapi.Config{})
	long := strings.Repeat("p", 73)
	if status, body := ts.PostAs("", "/v3/auth/user/add", `{"name":"alice","password":"`+long+`"}`); status != 400 ||
		!strings.Contains(body, cairn.ErrPasswordTooLong.Error()) {
		t.Errorf("user add with a 73-byte password: %d %s", status, body)
	}
	mustAs(t, ts, "", "/v3/auth/user/add", `{"name":"root","password":"`+long[:72]+`"}`)
	mustAs(t, ts, "", "/v3/auth/user/grant", `{"user":"root","role":"root"}`)
	mustAs(t, ts, "", "/v3/auth/enable", `{}`)
	huge := strings.Repeat("x", 1<<20)
	for _, body := range []string{
		`{"name":"root","password":"` + long + `"}`, // 72 bytes right, one more: not the password
		`{"name":"root","password":"` + huge + `"}`,
		`{"name":"` + huge + `","password":"x"}`,
	} {
		status, resp := rawPost(t, ts.URL, "", "/v3/auth/authenticate", body, false)
		if status != 400 || !strings.Contains(resp, cairn.ErrAuthFailed.Error()) {
			t.Errorf("authenticate with %d bytes: %d %.200s", len(body), status, resp)
		}
	}
	if users := mustAs(t, ts, authenticate(t, ts, "root", long[:72]), "/v3/auth/user/list", `{}`); !strings.Contains(users, `"users":["root"]`) {
		t.Errorf("users after the refusals: %s", users)
	}
}
