package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// condReply is a conditional v2 request's answer.
type condReply struct {
	status     int
	etag, body string
	etcdIndex  string
}

// condCall sends a v2 request with the given headers (name, value pairs).
func condCall(t *testing.T, base, method, target, form string, headers ...string) condReply {
	t.Helper()
	req, err := http.NewRequest(method, base+target, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return condReply{resp.StatusCode, resp.Header.Get("ETag"), string(b), resp.Header.Get("X-Etcd-Index")}
}

func expectCond(t *testing.T, got condReply, status int, bodyHas string) {
	t.Helper()
	if got.status != status || !strings.Contains(got.body, bodyHas) {
		t.Errorf("got %d %s, want %d with %s", got.status, got.body, status, bodyHas)
	}
}

// TestV2ConditionalRequests: ETag on a file's GET, If-None-Match answered
// 304, If-Match as prevIndex and If-None-Match: * as prevExist=false on
// writes, the parameters winning over the headers, and bad headers refused
// without a change.
func TestV2ConditionalRequests(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	u := ts.URL
	put := condCall(t, u, "PUT", "/v2/keys/f", "value=1")
	expectCond(t, put, 201, `"value":"1"`)
	tag := `"` + put.etcdIndex + `"`

	get := condCall(t, u, "GET", "/v2/keys/f", "")
	if get.status != 200 || get.etag != tag {
		t.Fatalf("GET: %d ETag %q, want 200 %s", get.status, get.etag, tag)
	}
	nm := condCall(t, u, "GET", "/v2/keys/f", "", "If-None-Match", tag)
	if nm.status != 304 || nm.body != "" || nm.etag != tag || nm.etcdIndex == "" {
		t.Errorf("If-None-Match %s: %d %q ETag %q X-Etcd-Index %q, want 304 without a body", tag, nm.status, nm.body, nm.etag, nm.etcdIndex)
	}
	expectCond(t, condCall(t, u, "GET", "/v2/keys/f", "", "If-None-Match", `"1", `+tag), 304, "")
	expectCond(t, condCall(t, u, "GET", "/v2/keys/f", "", "If-None-Match", `"1"`), 200, `"value":"1"`)
	if d := condCall(t, u, "GET", "/v2/keys/", "", "If-None-Match", "*"); d.status != 200 || d.etag != "" {
		t.Errorf("a directory has no ETag: %d %q", d.status, d.etag)
	}

	// If-Match is prevIndex.
	expectCond(t, condCall(t, u, "PUT", "/v2/keys/f", "value=2", "If-Match", `"1"`), 412, `"errorCode":101`)
	expectCond(t, condCall(t, u, "DELETE", "/v2/keys/f", "", "If-Match", `"1"`), 412, `"errorCode":101`)
	swap := condCall(t, u, "PUT", "/v2/keys/f", "value=2", "If-Match", tag)
	expectCond(t, swap, 200, `"action":"compareAndSwap"`)
	tag = `"` + swap.etcdIndex + `"`
	// The parameter wins: prevIndex=1 fails whatever If-Match says.
	expectCond(t, condCall(t, u, "PUT", "/v2/keys/f?prevIndex=1", "value=3", "If-Match", tag), 412, `"errorCode":101`)

	// If-None-Match: * is prevExist=false; prevExist=true wins over it.
	expectCond(t, condCall(t, u, "PUT", "/v2/keys/f", "value=3", "If-None-Match", "*"), 412, `"errorCode":105`)
	expectCond(t, condCall(t, u, "PUT", "/v2/keys/g", "value=1", "If-None-Match", "*"), 201, `"action":"create"`)
	expectCond(t, condCall(t, u, "PUT", "/v2/keys/f?prevExist=true", "value=3", "If-None-Match", "*"), 200, `"action":"update"`)

	// Bad headers: errorCode 209, nothing changes.
	before := condCall(t, u, "GET", "/v2/keys/f", "")
	for _, h := range [][]string{
		{"PUT", "If-Match", `"1", "2"`},
		{"PUT", "If-Match", `W/"5"`},
		{"PUT", "If-Match", `5`},
		{"DELETE", "If-Match", `"x"`},
		{"PUT", "If-None-Match", tag},
		{"POST", "If-Match", tag},
		{"DELETE", "If-None-Match", "*"},
	} {
		got := condCall(t, u, h[0], "/v2/keys/f", "value=bad", h[1], h[2])
		if got.status != 400 || !strings.Contains(got.body, `"errorCode":209`) || !strings.Contains(got.body, `\"`+h[1]+`\"`) {
			t.Errorf("%s with %s: %s: %d %s, want 400 errorCode 209 naming the header", h[0], h[1], h[2], got.status, got.body)
		}
	}
	if after := condCall(t, u, "GET", "/v2/keys/f", ""); after.body != before.body || after.etcdIndex != before.etcdIndex {
		t.Errorf("a refused request changed the key: %s -> %s", before.body, after.body)
	}
}
