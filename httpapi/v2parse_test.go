package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestParseV2KeyRequestBad: every bad parameter gets etcd 3.4's code and
// cause (observed with etcd --enable-v2), with index 0.
func TestParseV2KeyRequestBad(t *testing.T) {
	for _, tc := range []struct {
		method, target, form string
		code                 int
		cause                string
	}{
		{"PUT", "/v2/keys/a?prevIndex=abc", "", 203, `invalid value for "prevIndex"`},
		{"PUT", "/v2/keys/a?prevIndex=-1", "", 203, `invalid value for "prevIndex"`},
		{"PUT", "/v2/keys/a?prevIndex=18446744073709551616", "", 203, `invalid value for "prevIndex"`},
		{"GET", "/v2/keys/a?waitIndex=x", "", 203, `invalid value for "waitIndex"`},
		{"GET", "/v2/keys/a?recursive=maybe", "", 209, `invalid value for "recursive"`},
		{"GET", "/v2/keys/a?sorted=2", "", 209, `invalid value for "sorted"`},
		{"GET", "/v2/keys/a?wait=x", "", 209, `invalid value for "wait"`},
		{"PUT", "/v2/keys/a?dir=x", "", 209, `invalid value for "dir"`},
		{"GET", "/v2/keys/a?quorum=x", "", 209, `invalid value for "quorum"`},
		{"GET", "/v2/keys/a?stream=x", "", 209, `invalid value for "stream"`},
		{"PUT", "/v2/keys/a?wait=true", "value=1", 209, `"wait" can only be used with GET requests`},
		{"PUT", "/v2/keys/a?prevValue=", "value=1", 201, `"prevValue" cannot be empty`},
		{"PUT", "/v2/keys/a", "prevValue=&value=1", 201, `"prevValue" cannot be empty`},
		{"PUT", "/v2/keys/a?ttl=abc", "value=1", 202, `invalid value for "ttl"`},
		{"PUT", "/v2/keys/a?ttl=-1", "value=1", 202, `invalid value for "ttl"`},
		{"PUT", "/v2/keys/a?prevExist=abc", "value=1", 209, "invalid value for prevExist"},
		{"PUT", "/v2/keys/a?refresh=x", "", 209, "invalid value for refresh"},
		{"PUT", "/v2/keys/a?refresh=true", "value=1", 211, "A value was provided on a refresh"},
		{"PUT", "/v2/keys/a?refresh=true", "", 212, "No TTL value set"},
		{"PUT", "/v2/keys/a?x=%zz", "", 210, `invalid URL escape "%zz"`},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.form))
		if tc.form != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		q, err := parseV2KeyRequest(r)
		if err == nil {
			t.Errorf("%s %s %s: parsed as %+v", tc.method, tc.target, tc.form, q)
			continue
		}
		if err.Code != tc.code || err.Cause != tc.cause || err.Index != 0 {
			t.Errorf("%s %s %s: %d %q, want %d %q", tc.method, tc.target, tc.form, err.Code, err.Cause, tc.code, tc.cause)
		}
	}
}

// TestParseV2KeyRequest: good requests, parameters from the query string
// and the form body merged, paths cleaned and decoded.
func TestParseV2KeyRequest(t *testing.T) {
	r := httptest.NewRequest("PUT", "/v2/keys/a%2Fb/c?prevExist=false&dir=0", strings.NewReader("value=v&prevIndex=7&recursive=T"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	q, err := parseV2KeyRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if q.path != "/a/b/c" || q.value != "v" || !q.hasValue || q.prevIndex != 7 || !q.recursive || q.dir ||
		q.prevExist == nil || *q.prevExist {
		t.Fatalf("parsed %+v", q)
	}
	for target, want := range map[string]string{"/v2/keys": "/", "/v2/keys/": "/", "/v2/keys/x/": "/x", "/v2/keys/_h": "/_h"} {
		q, err := parseV2KeyRequest(httptest.NewRequest("GET", target, nil))
		if err != nil || q.path != want {
			t.Errorf("%s: path %q (%v), want %q", target, q.path, err, want)
		}
	}
	q, err = parseV2KeyRequest(httptest.NewRequest("PUT", "/v2/keys/t?ttl=", nil))
	if err != nil || !q.ttlEmpty || q.ttl != nil || q.storeRequest().TTL != nil {
		t.Fatalf("ttl=: %+v %v", q, err)
	}
	if q.storeRequest().Method == 0 {
		t.Fatal("PUT without a store method")
	}
}

func TestV2Redirect(t *testing.T) {
	for target, want := range map[string]string{
		"/v2/keys/a":      "",
		"/v2/keys/a/":     "",
		"/v2/keys/a/../b": "/v2/keys/b",
		"/v2/keys//a?x=1": "/v2/keys/a?x=1",
		"/v2/keys/./a/":   "/v2/keys/a/",
		"/v2/keys/a/b/..": "/v2/keys/a",
	} {
		r := httptest.NewRequest("GET", "http://h"+target, nil)
		if got := v2Redirect(r.URL); got != want {
			t.Errorf("v2Redirect(%s) = %q, want %q", target, got, want)
		}
	}
}
