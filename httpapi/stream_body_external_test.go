package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// A body of garbage on a stream endpoint gets etcd 3.4's answer, and the
// client's keep-alive connection then takes its next request (or, for a body
// too long to read, was closed with "Connection: close"). The same checks run
// against etcd 3.4 and against a member, whose log must hold no recovered
// panic: net/http's full-duplex mode panics when it reads the rest of a body
// after the handler (golang/go#68560), and dropped the connection.
func TestStreamBadBodyKeepsTheConnection(t *testing.T) {
	t.Run("etcd", func(t *testing.T) { checkStreamBadBody(t, httpapi.StartEtcd(t)) })
	t.Run("cairn", func(t *testing.T) {
		ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
		checkStreamBadBody(t, ts.URL)
		if logs := ts.Logs(); strings.Contains(logs, "panic") {
			t.Errorf("the member logged a panic:\n%s", logs)
		}
	})
}

func checkStreamBadBody(t *testing.T, url string) {
	const badJSON = `{"error":"invalid character 'x' looking for beginning of value","message":"invalid character 'x' looking for beginning of value","code":2}`
	x := strings.Repeat("x", 5000)
	oneResult := regexp.MustCompile(`^\{"result":\{"header":\{[^{}]*\},"ID":"1"\}\}\n$`)
	cases := []struct {
		name, path, body string
		status           int
		want             func(string) bool
		close            bool // the answer says Connection: close
	}{
		{"watch, 5,000 bytes of x", "/v3/watch", x, 500, func(b string) bool { return b == badJSON }, false},
		{"keepalive, 5,000 bytes of x", "/v3/lease/keepalive", x, 500, func(b string) bool { return b == badJSON }, false},
		{"keepalive, a request then 5,000 bytes of x", "/v3/lease/keepalive", `{"ID":"1"}` + x, 200, oneResult.MatchString, false},
		{"watch, 1 MB of x", "/v3/watch", strings.Repeat("x", 1<<20), 500, func(b string) bool { return b == badJSON }, true},
	}
	for _, c := range cases {
		tr := &http.Transport{}
		client := &http.Client{Transport: tr}
		resp, err := client.Post(url+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != c.status || !c.want(string(b)) {
			t.Errorf("%s: got %d %q (%v)", c.name, resp.StatusCode, b, err)
		}
		if resp.Close != c.close {
			t.Errorf("%s: Connection: close is %v, want %v", c.name, resp.Close, c.close)
		}
		// The next request: a POST, which net/http's client never retries
		// on a connection that turns out to be dead.
		var reused bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v3/kv/range", strings.NewReader(`{"key":"Zm9v"}`))
		resp, err = client.Do(req)
		if err != nil {
			t.Errorf("%s: the next request failed: %v", c.name, err)
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: the next request got %d", c.name, resp.StatusCode)
			}
			if reused == c.close {
				t.Errorf("%s: the next request reused the connection: %v, want %v", c.name, reused, !c.close)
			}
		}
		tr.CloseIdleConnections()
	}
}
