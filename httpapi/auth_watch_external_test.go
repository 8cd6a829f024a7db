package httpapi_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// A watch ends when its user is deleted or its password changes: the user's
// token ends on every member, and so do the streams opened with it.
func TestAuthWatchEndsWithItsUser(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMemberWith(t, fastBcrypt), httpapi.Config{})
	must := func(token, path, body string) string { t.Helper(); return mustAs(t, ts, token, path, body) }
	for _, c := range [][2]string{
		{"/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
		{"/v3/auth/user/grant", `{"user":"root","role":"root"}`},
		{"/v3/auth/role/add", `{"name":"r1"}`},
		{"/v3/auth/role/grant", `{"name":"r1","perm":{"permType":"READ","key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}}`},
		{"/v3/auth/enable", `{}`},
	} {
		must("", c[0], c[1])
	}
	root := authenticate(t, ts, "root", "rootpw")
	for _, c := range []struct {
		name   string
		change [2]string
	}{
		{"deleted", [2]string{"/v3/auth/user/delete", `{"name":"alice"}`}},
		{"password changed", [2]string{"/v3/auth/user/changepw", `{"name":"alice","password":"new"}`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			must(root, "/v3/auth/user/add", `{"name":"alice","password":"apw"}`)
			must(root, "/v3/auth/user/grant", `{"user":"alice","role":"r1"}`)
			alice := authenticate(t, ts, "alice", "apw")
			req, _ := http.NewRequest("POST", ts.URL+"/v3/watch", strings.NewReader(`{"create_request":{"key":"`+b64("a/")+`","range_end":"`+b64("a0")+`"}}`))
			req.Header.Set("Authorization", alice)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			rd := bufio.NewReader(resp.Body)
			if line, err := rd.ReadString('\n'); err != nil || !strings.Contains(line, `"created":true`) || strings.Contains(line, "canceled") {
				t.Fatalf("watch as alice: %v %s", err, line)
			}
			must(root, c.change[0], c.change[1])
			rest, err := io.ReadAll(rd) // returns once the stream ends
			if err != nil && !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("reading the rest of the stream: %v", err)
			}
			if strings.Contains(string(rest), `"events"`) {
				t.Errorf("events after the user changed: %s", rest)
			}
			if c.name == "password changed" {
				must(root, "/v3/auth/user/delete", `{"name":"alice"}`)
			}
		})
	}
}
