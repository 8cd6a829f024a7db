package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

func TestVersion(t *testing.T) {
	ts := newTestServer(t)
	r := ts.call("GET", "/version", "", "")
	expect(t, r, 200, `{"etcdserver":"3.4.0","etcdcluster":"3.4.0","cairn":"`+cairn.Version+`"}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	r = ts.callOffSpec("POST", "/version", "")
	expect(t, r, 405, "Method Not Allowed\n")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow: %q", r.header.Get("Allow"))
	}

	ts = newTestServerConfig(t, Config{ClusterVersion: "3.5.0"})
	expect(t, ts.call("GET", "/version", "", ""), 200, `{"etcdserver":"3.4.0","etcdcluster":"3.5.0","cairn":"`+cairn.Version+`"}`)
}

func TestHealth(t *testing.T) {
	ts := newTestServer(t)
	r := ts.call("GET", "/health", "", "")
	expect(t, r, 200, `{"health":"true"}`)
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q (etcd 3.4 sends text/plain)", ct)
	}
	expect(t, ts.callOffSpec("PUT", "/health", ""), 405, "Method Not Allowed\n")

	// A member whose store is gone cannot serve a linearizable read.
	ts.store.Close()
	expect(t, ts.call("GET", "/health", "", ""), 503, "{\"health\":\"false\"}\n")
	if !strings.Contains(ts.logs.String(), "health check failed") {
		t.Errorf("the failure is not logged: %q", ts.logs.String())
	}
}

// TestHealthTimeout: a read that does not complete in time makes the member
// unhealthy rather than hanging the check.
func TestHealthTimeout(t *testing.T) {
	ts := newTestServerConfig(t, Config{HealthTimeout: 1})
	ts.backend.setFault(context.DeadlineExceeded)
	expect(t, ts.call("GET", "/health", "", ""), 503, "{\"health\":\"false\"}\n")
}

func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t)
	r := ts.call("GET", "/openapi.yaml", "", "")
	if r.status != 200 || r.body != string(cairn.OpenAPI) || r.header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("got %d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
}

// TestOpenAPIMatchesRoutes: every operation of openapi.yaml is served, and
// the paths the handler serves outside it are refused as etcd refuses them.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(cairn.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	// Not served: 405, or a 404 that is not a JSON error of the endpoint
	// (revoking a lease that does not exist is a JSON 404).
	notServed := func(r *reply) bool {
		return r.status == 405 || (r.status == 404 && r.header.Get("Content-Type") != "application/json")
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		if strings.HasPrefix(path, "/v2/") {
			continue // served over a member only: v2openapi_external_test.go checks them
		}
		if path == "/ui" {
			continue // the dashboard, when cmd/cairn passes it (Config.UI): e2e/ui_test.go checks it
		}
		if strings.HasPrefix(path, "/v3/cluster/") || (strings.HasPrefix(path, "/v3/maintenance/") && path != "/v3/maintenance/status") {
			continue // served over a member only: cluster_openapi_external_test.go checks them
		}
		if strings.HasPrefix(path, "/v3/auth/") {
			continue // served over a member only: auth_external_test.go checks them
		}
		for method := range item.Operations() {
			n++
			if path == "/v3/watch" {
				continue // a stream: watch_test.go checks it is served
			}
			r := ts.send(method, path, "", "")
			if notServed(r) {
				t.Errorf("%s %s is in openapi.yaml but not served: %d %s", method, path, r.status, r.body)
			}
			unlock(t, ts, path, r)
			if strings.HasPrefix(path, "/v3/") {
				beta := strings.Replace(path, "/v3/", "/v3beta/", 1)
				r := ts.send(method, beta, "", "")
				if notServed(r) {
					t.Errorf("%s %s is not served: %d", method, beta, r.status)
				}
				unlock(t, ts, path, r)
			}
		}
	}
	if n != 23 {
		t.Errorf("openapi.yaml has %d operations; this test expects the 23 this package serves", n)
	}
	// etcd's gateway answers unknown /v3/ paths and wrong methods in plain text.
	expect(t, ts.callOffSpec("POST", "/v3/kv/nope", `{}`), 404, "Not Found\n")
	expect(t, ts.callOffSpec("POST", "/v3alpha/kv/range", `{}`), 404, "404 page not found\n")
	expect(t, ts.callOffSpec("GET", "/v3/kv/range", ``), 405, "Method Not Allowed\n")
	expect(t, ts.callOffSpec("PUT", "/v3/kv/put", `{}`), 405, "Method Not Allowed\n")
}

// unlock releases the lock that r, the answer to path, acquired (if
// path is /v3/lock/lock), so that the next lock of the same name is not
// left waiting.
func unlock(t *testing.T, ts *testServer, path string, r *reply) {
	t.Helper()
	if path != "/v3/lock/lock" || r.status != 200 {
		return
	}
	var held struct {
		Key []byte `json:"key"`
	}
	if err := json.Unmarshal([]byte(r.body), &held); err != nil {
		t.Fatal(err)
	}
	if u := ts.post("/v3/lock/unlock", `{"key":"`+base64.StdEncoding.EncodeToString(held.Key)+`"}`); u.status != 200 {
		t.Fatalf("unlock: %d %s", u.status, u.body)
	}
}

// TestCORS: etcd's default --cors allows every origin; with a list, only
// those origins get the headers. OPTIONS is answered before routing.
func TestCORS(t *testing.T) {
	ts := newTestServer(t)
	r := ts.callOffSpec("OPTIONS", "/v3/kv/range", "")
	expect(t, r, 200, "")
	for h, want := range map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "POST, GET, OPTIONS, PUT, DELETE",
		"Access-Control-Allow-Headers": "accept, content-type, authorization",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if got := ts.post("/v3/kv/range", `{"key":"Zm9v"}`).header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin on a range: %q", got)
	}

	ts = newTestServerConfig(t, Config{CORS: []string{"http://ok.example"}})
	for origin, want := range map[string]string{"http://ok.example": "http://ok.example", "http://evil.example": ""} {
		req, _ := http.NewRequest("GET", ts.URL+"/version", nil)
		req.Header.Set("Origin", origin)
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
}

// TestBackendErrors: errors of the member map through the one table to
// etcd's code, status and message, wrapped or not; anything else is an
// internal error: code 2, status 500, logged.
func TestBackendErrors(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		err    error
		status int
		code   int
		msg    string
		logged bool
	}{
		{cairn.ErrNoLeader, 503, 14, "etcdserver: no leader", false},
		{fmt.Errorf("proposal 7: %w", cairn.ErrTimeout), 503, 14, "etcdserver: request timed out", false},
		{cairn.ErrStopped, 503, 14, "etcdserver: server stopped", false},
		{cairn.ErrNoSpace, 429, 8, "etcdserver: mvcc: database space exceeded", false},
		{fmt.Errorf("read at 5: %w", cairn.ErrCompacted), 400, 11, "etcdserver: mvcc: required revision has been compacted", false},
		{context.DeadlineExceeded, 504, 4, "context deadline exceeded", false},
		{errors.New("bbolt: disk on fire"), 500, 2, "bbolt: disk on fire", true},
	}
	for _, tt := range tests {
		ts.backend.setFault(tt.err)
		for _, path := range []string{"/v3/kv/range", "/v3/kv/put", "/v3/kv/txn", "/v3/maintenance/status"} {
			r := ts.post(path, `{"key":"Zm9v"}`)
			want := fmt.Sprintf(`{"error":%q,"message":%q,"code":%d}`, tt.msg, tt.msg, tt.code)
			if r.status != tt.status || r.body != want {
				t.Errorf("%v on %s:\n got %d %s\nwant %d %s", tt.err, path, r.status, r.body, tt.status, want)
			}
		}
		if logged := strings.Contains(ts.logs.String(), tt.msg); logged != tt.logged {
			t.Errorf("%v: logged = %v, want %v (logs: %q)", tt.err, logged, tt.logged, ts.logs.String())
		}
	}
}

// TestErrorTable: every entry's HTTP status is the one grpc-gateway v1 gives
// its code, and a wrapped sentinel maps like the sentinel.
func TestErrorTable(t *testing.T) {
	statusOf := map[grpcCode]int{
		codeCanceled: 408, codeUnknown: 500, codeInvalidArgument: 400, codeDeadlineExceeded: 504,
		codeNotFound: 404, codeResourceExhausted: 429, codeOutOfRange: 400, codeUnavailable: 503,
		6: 409, 7: 403, 9: 412, 10: 409, 12: 501, 13: 500, 15: 500, 16: 401,
	}
	for code, want := range statusOf {
		if got := code.httpStatus(); got != want {
			t.Errorf("code %d: status %d, want %d", code, got, want)
		}
	}
	for _, e := range v3Errors {
		code, msg, known := v3Status(fmt.Errorf("context: %w", e.err))
		if !known || code != e.code {
			t.Errorf("%v: code %d known %v", e.err, code, known)
		}
		if !strings.HasPrefix(msg, "etcdserver: ") && e.code != codeCanceled && e.code != codeDeadlineExceeded {
			t.Errorf("%v: message %q is not etcd's", e.err, msg)
		}
	}
}

// TestV2ErrorStatus: every v2 error code gets the HTTP status etcd 3.4 sends
// with it (etcdserver/api/v2error), as observed side by side in
// TestV2CompareWithEtcd for the codes a request can provoke.
func TestV2ErrorStatus(t *testing.T) {
	statusOf := map[int]int{
		v2store.EcodeKeyNotFound: 404, v2store.EcodeTestFailed: 412, v2store.EcodeNotFile: 403,
		v2store.EcodeNotDir: 400, v2store.EcodeNodeExist: 412, v2store.EcodeKeyIsPreserved: 400,
		v2store.EcodeRootROnly: 400, v2store.EcodeDirNotEmpty: 403, v2store.EcodeUnauthorized: 401,
		v2store.EcodeValueRequired: 400, v2store.EcodePrevValueRequired: 400, v2store.EcodeTTLNaN: 400,
		v2store.EcodeIndexNaN: 400, v2store.EcodeValueOrTTLRequired: 400, v2store.EcodeTimeoutNaN: 400,
		v2store.EcodeNameRequired: 400, v2store.EcodeIndexOrValueRequired: 400,
		v2store.EcodeIndexValueMutex: 400, v2store.EcodeInvalidField: 400, v2store.EcodeInvalidForm: 400,
		v2store.EcodeRefreshValue: 400, v2store.EcodeRefreshTTLRequired: 400,
		v2store.EcodeRaftInternal: 500, v2store.EcodeLeaderElect: 500,
		v2store.EcodeWatcherCleared: 400, v2store.EcodeEventIndexCleared: 400,
	}
	for code, want := range statusOf {
		if got := v2Status(code); got != want {
			t.Errorf("code %d: status %d, want %d", code, got, want)
		}
	}
}
