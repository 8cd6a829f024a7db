package e2e

import (
	"encoding/json"
	"testing"
)

// With --client-cert-auth, the common name of the verified client
// certificate is the user of a request that carries no token (etcd's rule),
// on the v3 and the v2 API; a token, when there is one, wins.
func TestAuthClientCertificateCN(t *testing.T) {
	s := newTLSSetup(t) // its client certificate's CN is "client"
	m := &member{t: t, dataDir: t.TempDir(), args: append(s.memberFlags(t, "m0"), "--bcrypt-cost", "4"), client: s.http}
	t.Cleanup(m.kill9)
	m.start()
	for _, c := range [][2]string{
		{"/v3/auth/user/add", `{"name":"root","password":"rootpw"}`},
		{"/v3/auth/user/grant", `{"user":"root","role":"root"}`},
		{"/v3/auth/user/add", `{"name":"client","options":{"no_password":true}}`},
		{"/v3/auth/role/add", `{"name":"app"}`},
		{"/v3/auth/role/grant", `{"name":"app","perm":{"key":"` + b64("/app/") + `","range_end":"` + b64("/app0") + `"}}`},
		{"/v3/auth/user/grant", `{"user":"client","role":"app"}`},
		{"/v3/kv/put", `{"key":"` + b64("/app/x") + `","value":"` + b64("1") + `"}`},
		{"/v3/kv/put", `{"key":"` + b64("/secret") + `","value":"` + b64("s") + `"}`},
		{"/v3/auth/enable", `{}`},
	} {
		if status, body := postAs(t, m, "", c[0], c[1]); status != 200 {
			t.Fatalf("%s: %d %s", c[0], status, body)
		}
	}
	for _, c := range []struct {
		token, key string
		want       int
	}{
		{"", "/app/x", 200},      // the certificate's user may read /app/
		{"", "/secret", 403},     // and nothing else
		{"bogus", "/app/x", 401}, // a token that does not resolve is refused, certificate or not
	} {
		if status, body := postAs(t, m, c.token, "/v3/kv/range", `{"key":"`+b64(c.key)+`"}`); status != c.want {
			t.Errorf("range %s with token %q: %d %s, want %d", c.key, c.token, status, body, c.want)
		}
	}
	if status, body := postAs(t, m, "", "/v3/kv/put", `{"key":"`+b64("/app/x")+`","value":"eA=="}`); status != 403 {
		t.Errorf("a put by a READ-only certificate user: %d %s", status, body)
	}
	status, body := postAs(t, m, "", "/v3/auth/authenticate", `{"name":"root","password":"rootpw"}`)
	var tok struct{ Token string }
	if status != 200 || json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("authenticate: %d %s", status, body)
	}
	if status, body := postAs(t, m, tok.Token, "/v3/kv/range", `{"key":"`+b64("/secret")+`"}`); status != 200 {
		t.Errorf("root's token with the client's certificate: %d %s, want root's rights", status, body)
	}
	for path, want := range map[string]int{"/v2/keys/app/x": 200, "/v2/keys/secret": 401} {
		resp, err := m.httpClient().Get(m.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s with the certificate only: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
