package httpapi_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"regexp"
	"strconv"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/server"
)

// v3 auth over a real member: etcd 3.4's answers side by side, and the deny
// matrix over every v3 route of openapi.yaml.

// authStep is one request of a session, sent as a user ("" for none).
type authStep struct{ as, path, body string }

// authSession sets up root (with the root role), alice (role r1: READWRITE
// on the prefix "a/", READ on the key "x") and bob (no role), and turns
// auth on; authenticate steps then log alice, bob and root in.
var authSession = []authStep{
	{"", "/v3/auth/enable", `{}`},
	{"", "/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
	{"", "/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
	{"", "/v3/auth/user/add", `{"name":"","password":"x"}`},
	{"", "/v3/auth/user/add", `{"name":"alice","password":"apw"}`},
	{"", "/v3/auth/user/add", `{"name":"bob","password":"bpw"}`},
	{"", "/v3/auth/user/get", `{"name":"nobody"}`},
	{"", "/v3/auth/role/add", `{"name":"r1"}`},
	{"", "/v3/auth/role/add", `{"name":"r1"}`},
	{"", "/v3/auth/role/grant", `{"name":"r1","perm":{"permType":"READWRITE","key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}}`},
	{"", "/v3/auth/role/grant", `{"name":"r1","perm":{"permType":"READ","key":"` + b64("x") + `"}}`},
	{"", "/v3/auth/role/get", `{"role":"r1"}`},
	{"", "/v3/auth/role/get", `{"role":""}`},
	{"", "/v3/auth/user/grant", `{"user":"alice","role":"r1"}`},
	{"", "/v3/auth/user/grant", `{"user":"alice","role":"nope"}`},
	{"", "/v3/auth/user/get", `{"name":"alice"}`},
	{"", "/v3/auth/user/list", `{}`},
	{"", "/v3/auth/role/list", `{}`},
	{"", "/v3/auth/enable", `{}`},
	{"", "/v3/auth/user/grant", `{"user":"root","role":"root"}`},
	{"", "/v3/auth/enable", `{}`},
	{"", "/v3/kv/range", `{"key":"` + b64("a/1") + `"}`},
	{"", "/v3/auth/authenticate", `{"name":"alice","password":"wrong"}`},
	{"", "/v3/auth/authenticate", `{"name":"nobody","password":"apw"}`},
	{"", "/v3/auth/authenticate", `{"name":"alice","password":"apw"}`},
	{"", "/v3/auth/authenticate", `{"name":"bob","password":"bpw"}`},
	{"", "/v3/auth/authenticate", `{"name":"root","password":"rootpw"}`},
	{"alice", "/v3/kv/put", `{"key":"` + b64("a/1") + `","value":"MQ=="}`},
	{"alice", "/v3/kv/put", `{"key":"` + b64("x") + `","value":"MQ=="}`},
	{"alice", "/v3/kv/put", `{"key":"` + b64("b") + `","value":"MQ=="}`},
	{"alice", "/v3/kv/range", `{"key":"` + b64("x") + `"}`},
	{"alice", "/v3/kv/range", `{"key":"` + b64("a/") + `","range_end":"` + b64("a0") + `"}`},
	{"alice", "/v3/kv/range", `{"key":"` + b64("a") + `","range_end":"` + b64("b") + `"}`},
	{"alice", "/v3/kv/deleterange", `{"key":"` + b64("x") + `"}`},
	{"alice", "/v3/kv/txn", `{"compare":[{"key":"` + b64("b") + `","target":"VERSION","version":"0"}],"success":[{"requestPut":{"key":"` + b64("a/2") + `"}}]}`},
	{"alice", "/v3/kv/txn", `{"success":[{"requestPut":{"key":"` + b64("a/2") + `"}}],"failure":[{"requestDeleteRange":{"key":"` + b64("b") + `"}}]}`},
	{"alice", "/v3/kv/txn", `{"compare":[{"key":"` + b64("x") + `","target":"VERSION","version":"0"}],"success":[{"requestPut":{"key":"` + b64("a/2") + `"}}]}`},
	{"bob", "/v3/kv/range", `{"key":"` + b64("a/1") + `"}`},
	{"alice", "/v3/auth/user/list", `{}`},
	{"alice", "/v3/auth/user/get", `{"name":"alice"}`},
	{"alice", "/v3/auth/user/get", `{"name":"bob"}`},
	{"alice", "/v3/auth/role/get", `{"role":"r1"}`},
	{"alice", "/v3/auth/role/get", `{"role":"root"}`},
	{"alice", "/v3/auth/user/changepw", `{"name":"alice","password":"x"}`},
	{"root", "/v3/auth/user/get", `{"name":"root"}`},
	{"root", "/v3/auth/role/get", `{"role":"root"}`},
	{"root", "/v3/auth/user/revoke", `{"name":"root","role":"root"}`},
	{"root", "/v3/auth/user/revoke", `{"name":"alice","role":"root"}`},
	{"root", "/v3/auth/user/delete", `{"name":"root"}`},
	{"root", "/v3/auth/role/delete", `{"role":"root"}`},
	{"root", "/v3/auth/role/revoke", `{"role":"r1","key":"` + b64("z") + `"}`},
	{"root", "/v3/auth/user/delete", `{"name":"nobody"}`},
	{"root", "/v3/auth/user/changepw", `{"name":"nobody","password":"x"}`},
	{"root", "/v3/kv/range", `{"key":"` + b64("a/1") + `"}`},
	{"root", "/v3/auth/user/changepw", `{"name":"alice","password":"apw2"}`},
	{"alice", "/v3/kv/range", `{"key":"` + b64("a/1") + `"}`},
	{"bob", "/v3/kv/range", `{"key":"` + b64("x") + `"}`},
	{"root", "/v3/auth/user/delete", `{"name":"bob"}`},
	{"bob", "/v3/kv/range", `{"key":"` + b64("x") + `"}`},
	{"root", "/v3/auth/role/revoke", `{"role":"r1","key":"` + b64("x") + `"}`},
	{"root", "/v3/auth/role/get", `{"role":"r1"}`},
	{"root", "/v3/auth/role/delete", `{"role":"r1"}`},
	{"root", "/v3/auth/user/get", `{"name":"alice"}`},
	{"root", "/v3/auth/disable", `{}`},
	{"", "/v3/kv/range", `{"key":"` + b64("a/1") + `"}`},
	{"", "/v3/auth/authenticate", `{"name":"root","password":"rootpw"}`},
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

var tokenField = regexp.MustCompile(`"token":"[^"]+"`)

// runAuthSession plays authSession through post, remembering the token of
// each authenticate that succeeds; it returns each step's status and body,
// the ids and tokens masked.
func runAuthSession(t *testing.T, post func(token, path, body string) (int, string)) []string {
	tokens := map[string]string{}
	var out []string
	for _, s := range authSession {
		status, body := post(tokens[s.as], s.path, s.body)
		if s.path == "/v3/auth/authenticate" && status == 200 {
			var r struct{ Token string }
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			var in struct{ Name string }
			_ = json.Unmarshal([]byte(s.body), &in)
			tokens[in.Name] = r.Token
		}
		body = tokenField.ReplaceAllString(body, `"token":"_"`)
		out = append(out, s.as+" "+s.path+" "+s.body+"\n  -> "+strconv.Itoa(status)+" "+httpapi.NormalizeIDs(body))
	}
	return out
}

// The v3 auth API answers as etcd 3.4 does, request by request (tokens and
// cluster ids aside): users, roles, root rules, errors, tokens that end
// when their user's password changes or the user goes.
func TestAuthCompareWithEtcd(t *testing.T) {
	etcd := httpapi.StartEtcd(t)
	ts := httpapi.ServeBackend(t, startMemberWith(t, fastBcrypt), httpapi.Config{})
	got := runAuthSession(t, ts.PostAs)
	want := runAuthSession(t, func(token, path, body string) (int, string) {
		return rawPost(t, etcd, token, path, body, false)
	})
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\ncairn %s\netcd  %s", i, got[i], want[i])
		}
	}
}

// fastBcrypt makes the member hash at bcrypt's lowest cost (tests only).
func fastBcrypt(c *server.Config) { c.Auth.BcryptCost = 4 }

// mustAs sends a v3 request as token's user and fails the test unless it
// is answered 200.
func mustAs(t *testing.T, ts *httpapi.TestServer, token, path, body string) string {
	t.Helper()
	status, resp := ts.PostAs(token, path, body)
	if status != 200 {
		t.Fatalf("%s %s: %d %s", path, body, status, resp)
	}
	return resp
}

// authenticate returns a token of the user.
func authenticate(t *testing.T, ts *httpapi.TestServer, name, password string) string {
	t.Helper()
	var r struct{ Token string }
	body := mustAs(t, ts, "", "/v3/auth/authenticate", `{"name":"`+name+`","password":"`+password+`"}`)
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r.Token
}

// readFirstLine reads the first line of a streaming answer.
func readFirstLine(t *testing.T, r io.Reader) string {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the stream: %v (%q)", err, line)
	}
	return line
}
