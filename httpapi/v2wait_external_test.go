package httpapi_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
)

// TestV2Wait: ?wait=true long-polls over the watch hub as etcd 3.4 does:
// headers flushed at once, then the first event on the path; waitIndex
// reads history; recursive sees the subtree but not hidden nodes; a
// compacted waitIndex is 401; stream=true sends every event.
func TestV2Wait(t *testing.T) {
	s := startMember(t)
	ts := httpapi.ServeBackend(t, s, httpapi.Config{})
	do := func(method, target, form string) string {
		t.Helper()
		r := v2Call(t, ts.URL, method, target, form)
		return r.body
	}
	open := func(target string) (*http.Response, *bufio.Reader) {
		t.Helper()
		resp, err := http.Get(ts.URL + target) // returns once the headers are flushed
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp, bufio.NewReader(resp.Body)
	}
	line := func(br *bufio.Reader) string {
		t.Helper()
		l, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		return strings.TrimSpace(l)
	}

	do("PUT", "/v2/keys/a/b", "value=1") // revision 2

	// Long poll on one key: the headers come before any event.
	resp, br := open("/v2/keys/a/b?wait=true")
	if resp.StatusCode != 200 || resp.Header.Get("X-Etcd-Index") != "2" {
		t.Fatalf("wait: %d, X-Etcd-Index %q", resp.StatusCode, resp.Header.Get("X-Etcd-Index"))
	}
	do("PUT", "/v2/keys/a/other", "value=x") // 3: not this key
	do("PUT", "/v2/keys/a/b?prevValue=1", "value=2")
	if got, want := line(br), `{"action":"compareAndSwap","node":{"key":"/a/b","value":"2","modifiedIndex":4,"createdIndex":2},"prevNode":{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}}`; got != want {
		t.Fatalf("wait event:\n got %s\nwant %s", got, want)
	}

	// History: waitIndex 2 is the first set.
	_, br = open("/v2/keys/a/b?wait=true&waitIndex=2")
	if got, want := line(br), `{"action":"set","node":{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}}`; got != want {
		t.Fatalf("waitIndex 2:\n got %s\nwant %s", got, want)
	}

	// Recursive: the subtree, hidden nodes left out; a v3 write is a set.
	resp, br = open("/v2/keys/a?wait=true&recursive=true&stream=true")
	do("PUT", "/v2/keys/a/_hidden", "value=h")
	if _, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte("/a/v3"), Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	do("DELETE", "/v2/keys/a/other", "")
	for _, want := range []string{
		`{"action":"set","node":{"key":"/a/v3","value":"x","modifiedIndex":6,"createdIndex":6}}`,
		`{"action":"delete","node":{"key":"/a/other","modifiedIndex":7,"createdIndex":3},"prevNode":{"key":"/a/other","value":"x","modifiedIndex":3,"createdIndex":3}}`,
	} {
		if got := line(br); got != want {
			t.Fatalf("stream:\n got %s\nwant %s", got, want)
		}
	}
	resp.Body.Close()

	// A watched key deleted with its directory: a delete of the key.
	_, br = open("/v2/keys/a/b?wait=true")
	do("DELETE", "/v2/keys/a?recursive=true", "")
	if got, want := line(br), `{"action":"delete","node":{"key":"/a/b","modifiedIndex":8}}`; got != want {
		t.Fatalf("key deleted with its dir:\n got %s\nwant %s", got, want)
	}

	// Compacted history: 401.
	if _, err := s.Compact(context.Background(), &cairn.CompactionRequest{Revision: 5, Physical: true}); err != nil {
		t.Fatal(err)
	}
	r := v2Call(t, ts.URL, "GET", "/v2/keys/a/b?wait=true&waitIndex=2", "")
	if want := `{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [5/2]","index":5}` + "\n"; r.status != 400 || r.body != want {
		t.Fatalf("compacted waitIndex: %d %s", r.status, r.body)
	}
}
