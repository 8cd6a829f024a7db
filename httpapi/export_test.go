package httpapi

import "testing"

// Exports for package httpapi_test. Package server imports httpapi (it
// implements Backend), so the tests that run the HTTP API over a real member
// live outside package httpapi and reach these helpers from there.

// TestServer is the spec-checking test server.
type TestServer = testServer

// ServeBackend serves New(b, cfg) on 127.0.0.1 for the rest of the test.
func ServeBackend(tb testing.TB, b Backend, cfg Config) *TestServer { return serveBackend(tb, b, cfg) }

// StartEtcd runs the real etcd 3.4 on loopback with the extra flags and
// returns its client URL; the test is skipped without it.
func StartEtcd(t *testing.T, flags ...string) string { return startEtcd(t, flags...) }

// CompareWithEtcd runs the side-by-side session against a new etcd 3.4 and
// ts, which must serve a new member.
func CompareWithEtcd(t *testing.T, ts *TestServer) { compareWithEtcd(t, ts) }

// CompareKeepAliveWithEtcd compares the keepalive stream's answers with a
// new etcd 3.4's; ts must serve a new member.
func CompareKeepAliveWithEtcd(t *testing.T, ts *TestServer) { compareKeepAliveWithEtcd(t, ts) }

// Post sends a v3 request checked against openapi.yaml.
func (ts *testServer) Post(path, body string) (status int, respBody string) {
	ts.t.Helper()
	r := ts.post(path, body)
	return r.status, r.body
}

// PostAs sends a v3 request checked against openapi.yaml with token in its
// Authorization header (none when empty).
func (ts *testServer) PostAs(token, path, body string) (status int, respBody string) {
	ts.t.Helper()
	ts.token = token
	defer func() { ts.token = "" }()
	r := ts.post(path, body)
	return r.status, r.body
}

// Logs returns what the handler and the HTTP server logged so far.
func (ts *testServer) Logs() string { return ts.logs.String() }

// NormalizeIDs hides what differs between two clusters in a v3 body.
func NormalizeIDs(body string) string { return normalize(body) }
