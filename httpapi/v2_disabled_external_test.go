package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// With DisableV2 (--enable-v2=false) every /v2/ path answers what etcd
// 3.4.23 answers without --enable-v2: 404 with Go's "404 page not found";
// the v3 API and /version are served as before.
func TestDisableV2(t *testing.T) {
	s := startMember(t)
	on := httpapi.ServeBackend(t, s, httpapi.Config{})
	off := httpapi.ServeBackend(t, s, httpapi.Config{DisableV2: true})
	for _, c := range []struct{ method, path string }{
		{"GET", "/v2/keys"}, {"GET", "/v2/keys/a"}, {"PUT", "/v2/keys/a?value=1"},
		{"GET", "/v2/members"}, {"GET", "/v2/members/leader"}, {"DELETE", "/v2/members/1"},
		{"GET", "/v2/machines"}, {"GET", "/v2/stats/self"}, {"GET", "/v2/stats/store"},
		{"GET", "/v2/stats/leader"},
	} {
		if r := v2Call(t, off.URL, c.method, c.path, ""); r.status != http.StatusNotFound || r.body != "404 page not found\n" {
			t.Errorf("disabled: %s %s: %d %q", c.method, c.path, r.status, r.body)
		}
	}
	if r := v2Call(t, on.URL, "GET", "/v2/members", ""); r.status != http.StatusOK {
		t.Errorf("enabled: GET /v2/members: %d %q", r.status, r.body)
	}
	if r := v2Call(t, off.URL, "GET", "/version", ""); r.status != http.StatusOK {
		t.Errorf("disabled: GET /version: %d %q", r.status, r.body)
	}
	if status, body := off.Post("/v3/kv/range", `{"key":"Zm9v"}`); status != http.StatusOK {
		t.Errorf("disabled: POST /v3/kv/range: %d %s", status, body)
	}
}
