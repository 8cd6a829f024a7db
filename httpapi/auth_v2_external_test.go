package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/server"
)

// The v2 keys API obeys the v3 users and roles: the v3 permission on the
// keys a v2 path maps to decides, there is no v2 bypass, and a refusal is
// etcd's v2 error 110 with status 401. --v2-prefix moves the keys the
// permissions must name.
func TestAuthDenyMatrixV2(t *testing.T) {
	for _, prefix := range []string{"", "/v2"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			ts := httpapi.ServeBackend(t, startMemberWith(t, func(c *server.Config) {
				fastBcrypt(c)
				c.V2Prefix = prefix
			}), httpapi.Config{})
			v2 := func(user, method, path, form string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(method, ts.URL+"/v2/keys"+path, strings.NewReader(form))
				if form != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if name, pw, ok := strings.Cut(user, ":"); ok {
					req.SetBasicAuth(name, pw)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			// As root before auth: the tree. alice's role r1 has READWRITE
			// under /app (the keys prefix+"/app/"), READ on the file /ro,
			// nothing on /secret.
			for _, c := range [][3]string{
				{"PUT", "/app/a", "value=1"}, {"PUT", "/app/dir/b", "value=2"}, {"PUT", "/secret", "value=s"},
				{"PUT", "/ro", "value=r"}, {"PUT", "/app0", "value=x"},
			} {
				if status, body := v2(":", c[0], c[1], c[2]); status/100 != 2 {
					t.Fatalf("%s %s: %d %s", c[0], c[1], status, body)
				}
			}
			app, ro := b64(prefix+"/app/"), b64(prefix+"/ro")
			appEnd := b64(prefix + "/app0")
			for _, c := range [][2]string{
				{"/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
				{"/v3/auth/user/grant", `{"user":"root","role":"root"}`},
				{"/v3/auth/user/add", `{"name":"alice","password":"apw"}`},
				{"/v3/auth/role/add", `{"name":"r1"}`},
				{"/v3/auth/role/grant", `{"name":"r1","perm":{"permType":"READWRITE","key":"` + app + `","range_end":"` + appEnd + `"}}`},
				{"/v3/auth/role/grant", `{"name":"r1","perm":{"permType":"READ","key":"` + ro + `"}}`},
				{"/v3/auth/user/grant", `{"user":"alice","role":"r1"}`},
				{"/v3/auth/enable", `{}`},
			} {
				mustAs(t, ts, "", c[0], c[1])
			}
			const noAuth = `{"errorCode":110,"message":"The request requires user authentication","cause":"Insufficient credentials","index":0}`
			alice := "alice:apw"
			for _, c := range []struct{ user, method, path, form string }{
				{"", "GET", "/app/a", ""},              // no credentials
				{"alice:wrong", "GET", "/app/a", ""},   // a wrong password
				{"nobody:apw", "GET", "/app/a", ""},    // no such user
				{alice, "GET", "/secret", ""},          // not granted
				{alice, "GET", "/", ""},                // the root lists /secret
				{alice, "GET", "/?recursive=true", ""}, // and its subtree
				{alice, "GET", "/app0", ""},            // /app0 is not under /app
				{alice, "PUT", "/secret", "value=x"},
				{alice, "PUT", "/ro", "value=x"}, // READ only
				{alice, "POST", "/ro", "value=x"},
				{alice, "DELETE", "/secret", ""},
				{alice, "PUT", "/secret?prevValue=s", "value=x"},
				{alice, "GET", "/secret?wait=true", ""},
				{alice, "GET", "/?wait=true&recursive=true", ""},
				{alice, "DELETE", "/?recursive=true", ""},
			} {
				status, body := v2(c.user, c.method, c.path, c.form)
				if status != 401 || strings.TrimSpace(body) != noAuth {
					t.Errorf("%s %s %s as %q: %d %s, want 401 %s", c.method, c.path, c.form, c.user, status, body, noAuth)
				}
			}
			// The v2 members API: writes are root's.
			for _, c := range [][2]string{{"POST", "/v2/members"}, {"DELETE", "/v2/members/1"}, {"PUT", "/v2/members/1"}} {
				req, _ := http.NewRequest(c[0], ts.URL+c[1], strings.NewReader(`{"peerURLs":["http://127.0.0.1:1"]}`))
				req.Header.Set("Content-Type", "application/json")
				req.SetBasicAuth("alice", "apw")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 401 || !strings.Contains(string(b), "Insufficient credentials") {
					t.Errorf("%s %s as alice: %d %s", c[0], c[1], resp.StatusCode, b)
				}
			}
			// Nothing changed: root reads the tree as before.
			if status, body := v2("root:rootpw", "GET", "/?recursive=true&sorted=true", ""); status != 200 ||
				!strings.Contains(body, `"key":"/secret","value":"s"`) || !strings.Contains(body, `"key":"/ro","value":"r"`) {
				t.Errorf("root's view after the refusals: %d %s", status, body)
			}
			for _, c := range []struct{ method, path, form, want string }{
				{"GET", "/app/a", "", `"value":"1"`},
				{"GET", "/app?recursive=true", "", `"value":"2"`},
				{"GET", "/app", "", `"key":"/app/dir"`},
				{"GET", "/ro", "", `"value":"r"`},
				{"PUT", "/app/c", "value=3", `"action":"set"`},
				{"POST", "/app/q", "value=4", `"action":"create"`},
				{"DELETE", "/app/dir?recursive=true", "", `"action":"delete"`},
			} {
				status, body := v2(alice, c.method, c.path, c.form)
				if status/100 != 2 || !strings.Contains(body, c.want) {
					t.Errorf("%s %s %s as alice: %d %s, want %s", c.method, c.path, c.form, status, body, c.want)
				}
			}
			// A v3 token works on v2 too.
			tok := authenticate(t, ts, "alice", "apw")
			req, _ := http.NewRequest("GET", ts.URL+"/v2/keys/app/a", nil)
			req.Header.Set("Authorization", tok)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
				t.Errorf("v2 GET with a v3 token: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
		})
	}
}
