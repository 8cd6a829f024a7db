package httpapi_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/server"
)

var _ httpapi.V2Keys = (*server.Server)(nil)

// startEtcdV2 starts etcd 3.4 with --enable-v2 on free loopback ports and
// returns its client URL; the test is skipped without it.
func startEtcdV2(t *testing.T) string { return httpapi.StartEtcd(t, "--enable-v2") }

// v2Reply is what a v2 client sees of an answer.
type v2Reply struct {
	status              int
	body                string
	etcdIndex, location string
	raftIndex           bool
	contentType         string
}

// v2Call sends one request as curl -X method url -d form would, without
// following redirects.
func v2Call(t *testing.T, base, method, target, form string) v2Reply {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, base+target, body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(target, "/../") || strings.Contains(target, "//") {
		req.URL.Opaque = "//" + req.URL.Host + target // keep the path as is
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return v2Reply{
		status: resp.StatusCode, body: string(b), etcdIndex: resp.Header.Get("X-Etcd-Index"),
		location: resp.Header.Get("Location"), raftIndex: resp.Header.Get("X-Raft-Index") != "",
		contentType: resp.Header.Get("Content-Type"),
	}
}

var (
	v2Indexes  = regexp.MustCompile(`"(modifiedIndex|createdIndex|index)":[0-9]+`)
	v2InOrder  = regexp.MustCompile(`/[0-9]{20}"`)
	v2Redirect = regexp.MustCompile(`<a href="[^"]*">Moved Permanently</a>.\n\n`)
	v2Compare  = regexp.MustCompile(`!= [0-9]+\]`)
	v2Expiry   = regexp.MustCompile(`"expiration":"[^"]+","ttl":[0-9]+`)
)

// v2Normalize hides what differs between two stores with other histories:
// indexes (cairn's revisions start elsewhere) and in-order names.
func v2Normalize(s string) string {
	s = v2Indexes.ReplaceAllString(s, `"$1":_`)
	s = v2InOrder.ReplaceAllString(s, `/N"`)
	s = v2Compare.ReplaceAllString(s, `!= _]`)
	s = v2Expiry.ReplaceAllString(s, `"expiration":_,"ttl":_`)
	return v2Redirect.ReplaceAllString(s, "")
}

// TestV2CompareWithEtcd sends the same v2 requests to a real etcd 3.4
// (--enable-v2) and to a real cairn member, both new, and asserts the same
// status, body (indexes aside) and headers from both.
func TestV2CompareWithEtcd(t *testing.T) {
	etcd := startEtcdV2(t)
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	cairn := ts.URL
	steps := []struct{ method, target, form string }{
		{"PUT", "/v2/keys/a/b", "value=1"},
		{"GET", "/v2/keys/a/b", ""},
		{"GET", "/v2/keys/a", ""},
		{"PUT", "/v2/keys/a", "value=x"},
		{"PUT", "/v2/keys/a/b/c", "value=x"},
		{"PUT", "/v2/keys/", "value=x"},
		{"PUT", "/v2/keys", "value=x"},
		{"DELETE", "/v2/keys/a", ""},
		{"DELETE", "/v2/keys/a?dir=true", ""},
		{"PUT", "/v2/keys/a?prevValue=2", "value=3"},
		{"PUT", "/v2/keys/a/b?prevValue=2&prevIndex=3", "value=3"},
		{"DELETE", "/v2/keys/a/b?prevValue=2", ""},
		{"DELETE", "/v2/keys/nope/x?prevValue=2", ""},
		{"GET", "/v2/keys/a/b/x/y", ""},
		{"DELETE", "/v2/keys/a/b/x?prevValue=1", ""},
		{"PUT", "/v2/keys/a/b/x?prevExist=true", "value=1"},
		{"PUT", "/v2/keys/a/nope/x?prevValue=1", "value=1"},
		{"PUT", "/v2/keys/x?prevIndex=abc", "value=1"},
		{"PUT", "/v2/keys/x?prevIndex=-1", "value=1"},
		{"GET", "/v2/keys/x?waitIndex=x", ""},
		{"GET", "/v2/keys/x?recursive=maybe", ""},
		{"GET", "/v2/keys/x?sorted=x", ""},
		{"GET", "/v2/keys/x?quorum=x", ""},
		{"GET", "/v2/keys/x?wait=x", ""},
		{"GET", "/v2/keys/x?stream=x", ""},
		{"PUT", "/v2/keys/x?dir=x", ""},
		{"PUT", "/v2/keys/x?prevExist=abc", "value=1"},
		{"PUT", "/v2/keys/x?prevValue=", "value=1"},
		{"PUT", "/v2/keys/x?refresh=x", ""},
		{"PUT", "/v2/keys/x?ttl=abc", "value=1"},
		{"PUT", "/v2/keys/x?ttl=-1", "value=1"},
		{"PUT", "/v2/keys/x?refresh=true", "value=1"},
		{"PUT", "/v2/keys/x?refresh=true", ""},
		{"PUT", "/v2/keys/x?wait=true", "value=1"},
		{"PUT", "/v2/keys/x?dir=true", ""},
		{"PUT", "/v2/keys/x?dir=true", ""},
		{"PUT", "/v2/keys/x?dir=true&prevExist=true", ""},
		{"PUT", "/v2/keys/_hidden", "value=h"},
		{"GET", "/v2/keys/?recursive=true&sorted=true", ""},
		{"GET", "/v2/keys/_hidden", ""},
		{"PUT", "/v2/keys/p?prevExist=false", "value=1"},
		{"PUT", "/v2/keys/p?prevExist=false", "value=2"},
		{"PUT", "/v2/keys/q?prevExist=true", "value=2"},
		{"PUT", "/v2/keys/p?prevExist=true", "value=3"},
		{"PUT", "/v2/keys/p?prevValue=3", "value=4"},
		{"PUT", "/v2/keys/p?prevIndex=0", "value=4"},
		{"POST", "/v2/keys/q", "value=a"},
		{"POST", "/v2/keys/q?prevExist=true", "value=b"},
		{"GET", "/v2/keys/q?sorted=true", ""},
		{"PUT", "/v2/keys/q", "value=x"},
		{"POST", "/v2/keys/a/b", "value=1"},
		{"DELETE", "/v2/keys/p?prevValue=4", ""},
		{"DELETE", "/v2/keys/q?recursive=true", ""},
		{"GET", "/v2/keys/q", ""},
		{"PUT", "/v2/keys/p", ""},
		{"PUT", "/v2/keys/p?dir=true", "value="},
		{"PUT", "/v2/keys/p?prevValue=zz", ""},
		{"GET", "/v2/keys/a%2Fb", ""},
		{"GET", "/v2/keys/%61/b", ""},
		{"GET", "/v2/keys/a/", ""},
		{"GET", "/v2/keys/a/../a/b", ""},
		{"GET", "/v2/keys//a/b?quorum=true", ""},
		{"PATCH", "/v2/keys/a", ""},
		{"PUT", "/v2/keys/d/e?value=fromquery", "dir=false"},
		{"GET", "/v2/keys/d/e", ""},
		{"PUT", "/v2/keys/" + strings.Repeat("long/", 200) + "end", "value=deep"},
		{"DELETE", "/v2/keys/", ""},
		{"PUT", "/v2/keys/tt?ttl=100", "value=v"},
		{"PUT", "/v2/keys/tt?ttl=50&refresh=true", ""},
		{"PUT", "/v2/keys/tt?ttl=50&refresh=true", "value="},
		{"GET", "/v2/keys/tt", ""},
		{"PUT", "/v2/keys/tt?ttl=", "value=w"},
		{"PUT", "/v2/keys/td?ttl=100&dir=true", ""},
		{"PUT", "/v2/keys/tt3?ttl=5&prevExist=false", "value=x"},
		{"POST", "/v2/keys/tq?ttl=100", "value=x"},
		{"PUT", "/v2/keys/nott?ttl=5&refresh=true", ""},
		{"PUT", "/v2/keys/tt?ttl=100&prevValue=w", "value=y"},
	}
	for _, st := range steps {
		want := v2Call(t, etcd, st.method, st.target, st.form)
		got := v2Call(t, cairn, st.method, st.target, st.form)
		what := st.method + " " + st.target + " " + st.form
		if got.status != want.status || v2Normalize(got.body) != v2Normalize(want.body) {
			t.Errorf("%s:\ncairn %d %s\netcd  %d %s", what, got.status, got.body, want.status, want.body)
		}
		if (got.etcdIndex == "") != (want.etcdIndex == "") || got.raftIndex != want.raftIndex || got.location != want.location {
			t.Errorf("%s: headers: cairn index %q raft %v location %q; etcd %q %v %q", what,
				got.etcdIndex, got.raftIndex, got.location, want.etcdIndex, want.raftIndex, want.location)
		}
	}
}
