package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testcerts"
)

// Every security flag is also CAIRN_<FLAG>, and the defaults are etcd's.
func TestSecurityFlagsFromEnvironment(t *testing.T) {
	m := NewMain()
	if err := m.ParseFlags(nil, env(nil)); err != nil {
		t.Fatal(err)
	}
	if s := m.Config.Security; s != defaultSecurity() || s.CORS != "*" || s.HostWhitelist != "*" || s.TLSMinVersion != "TLS1.2" {
		t.Fatalf("defaults: %+v", s)
	}
	m = NewMain()
	err := m.ParseFlags([]string{"--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379"}, env(map[string]string{
		"CAIRN_CERT_FILE": "c.pem", "CAIRN_KEY_FILE": "k.pem", "CAIRN_TRUSTED_CA_FILE": "ca.pem",
		"CAIRN_CLIENT_CERT_AUTH": "true", "CAIRN_AUTO_TLS": "true",
		"CAIRN_PEER_CERT_FILE": "pc.pem", "CAIRN_PEER_KEY_FILE": "pk.pem", "CAIRN_PEER_TRUSTED_CA_FILE": "pca.pem",
		"CAIRN_PEER_CLIENT_CERT_AUTH": "true", "CAIRN_PEER_AUTO_TLS": "true",
		"CAIRN_CIPHER_SUITES":   "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		"CAIRN_TLS_MIN_VERSION": "TLS1.2",
		"CAIRN_CORS":            "https://ok.example, http://b.example:8080/",
		"CAIRN_HOST_WHITELIST":  "localhost,example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := SecurityFlags{
		CertFile: "c.pem", KeyFile: "k.pem", TrustedCAFile: "ca.pem", ClientCertAuth: true, AutoTLS: true,
		PeerCertFile: "pc.pem", PeerKeyFile: "pk.pem", PeerTrustedCAFile: "pca.pem", PeerClientCertAuth: true, PeerAutoTLS: true,
		CipherSuites: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TLSMinVersion: "TLS1.2",
		CORS: "https://ok.example, http://b.example:8080/", HostWhitelist: "localhost,example.com",
	}
	if m.Config.Security != want {
		t.Fatalf("from the environment:\n got %+v\nwant %+v", m.Config.Security, want)
	}
	if o := m.Config.Security.origins(); strings.Join(o, " ") != "https://ok.example http://b.example:8080" {
		t.Errorf("origins: %q", o)
	}
}

func TestSecurityFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen-client-urls", "https://127.0.0.1:2379"}, "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme"},
		{[]string{"--listen-peer-urls", "https://127.0.0.1:2380"}, "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url"},
		{[]string{"--cert-file", "c.pem"}, "--cert-file and --key-file go together"},
		{[]string{"--peer-key-file", "k.pem"}, "--peer-cert-file and --peer-key-file go together"},
		{[]string{"--client-cert-auth"}, "--client-cert-auth needs --trusted-ca-file"},
		{[]string{"--peer-client-cert-auth", "--peer-auto-tls"}, "--peer-client-cert-auth needs --peer-trusted-ca-file"},
		{[]string{"--cipher-suites", "TLS_AES_128_GCM_SHA256"}, "--cipher-suites: unknown cipher suite"},
		{[]string{"--tls-min-version", "TLS1.1"}, "--tls-min-version"},
		{[]string{"--tls-min-version", "TLS1.3", "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, "cannot be set with --tls-min-version=TLS1.3"},
		{[]string{"--cors", "ok.example"}, "--cors"},
		{[]string{"--cors", "http://ok.example/path"}, "--cors"},
		{[]string{"--host-whitelist", "example.com:2379"}, "--host-whitelist"},
		{[]string{"--listen-client-urls", "unixs://x:1"}, "not implemented: unix sockets"},
	} {
		m := NewMain()
		if err := m.ParseFlags(c.args, env(nil)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// startTLSMember runs a member whose client and peer URLs are https, with
// the certificates of ca, the client set requiring client certificates.
func startTLSMember(t *testing.T, ca *testcerts.CA, dir string, edit func(*Config)) string {
	srv := ca.Issue(t, dir, "server")
	return startCairnWith(t, func(c *Config) {
		c.ListenClientURLs, c.AdvertiseClientURLs = "https://127.0.0.1:0", "https://127.0.0.1:0"
		c.ListenPeerURLs, c.InitialAdvertisePeerURLs = "https://127.0.0.1:0", "https://127.0.0.1:0"
		s := &c.Security
		s.CertFile, s.KeyFile, s.TrustedCAFile, s.ClientCertAuth = srv.CertFile, srv.KeyFile, ca.File, true
		s.PeerCertFile, s.PeerKeyFile, s.PeerTrustedCAFile, s.PeerClientCertAuth = srv.CertFile, srv.KeyFile, ca.File, true
		if edit != nil {
			edit(c)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// tlsCall makes one request on a new connection; it returns the status,
// the body and the serial number of the member's certificate.
func tlsCall(cfg *tls.Config, method, url, body string) (int, string, string, error) {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.TLS.PeerCertificates[0].SerialNumber.String(), err
}

// A member with --client-cert-auth answers HTTPS clients with a
// certificate of its CA, refuses clients without one or with one of
// another CA, and presents renewed certificate files to the next
// connection without a restart.
func TestTLSMember(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcerts.NewCA(t, "ca"), testcerts.NewCA(t, "other")
	url := startTLSMember(t, ca, dir, nil)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("client URL %s", url)
	}
	client := testcerts.ClientConfig(t, ca, ca.Issue(t, dir, "alice"))
	status, body, serial, err := tlsCall(client, "POST", url+"/v3/kv/put", `{"key":"L2Zvbw==","value":"YmFy"}`) // /foo=bar
	if err != nil || status != 200 {
		t.Fatalf("put over TLS: %d %s %v", status, body, err)
	}
	if status, body, _, err := tlsCall(client, "GET", url+"/v2/keys/foo", ""); err != nil || status != 200 || !strings.Contains(body, `"value":"bar"`) {
		t.Fatalf("v2 get over TLS: %d %s %v", status, body, err)
	}
	if _, _, _, err := tlsCall(testcerts.ClientConfig(t, ca, testcerts.Pair{}), "GET", url+"/version", ""); err == nil {
		t.Error("a client without a certificate was answered")
	}
	if _, _, _, err := tlsCall(testcerts.ClientConfig(t, ca, other.Issue(t, dir, "mallory")), "GET", url+"/version", ""); err == nil {
		t.Error("a client with a certificate of another CA was answered")
	}

	// Rotation: new files at the same paths, seen by a new connection.
	next := ca.Issue(t, dir, "server")
	_, _, serial2, err := tlsCall(client, "GET", url+"/version", "")
	if err != nil || serial2 != next.Cert.SerialNumber.String() || serial2 == serial {
		t.Fatalf("after rotation the member presents serial %s (%v), want %s (was %s)", serial2, err, next.Cert.SerialNumber, serial)
	}
}

// --auto-tls: the member makes a self-signed certificate in
// <data-dir>/fixtures/client and serves HTTPS with it.
func TestAutoTLS(t *testing.T) {
	var dataDir string
	url := startCairnWith(t, func(c *Config) {
		dataDir = c.DataDir
		c.ListenClientURLs, c.AdvertiseClientURLs = "https://127.0.0.1:0", "https://127.0.0.1:0"
		c.ListenPeerURLs, c.InitialAdvertisePeerURLs = "https://127.0.0.1:0", "https://127.0.0.1:0"
		c.Security.AutoTLS, c.Security.PeerAutoTLS = true, true
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	status, body, _, err := tlsCall(&tls.Config{InsecureSkipVerify: true}, "GET", url+"/version", "")
	if err != nil || status != 200 {
		t.Fatalf("%d %s %v", status, body, err)
	}
	for _, set := range []string{"client", "peer"} {
		if _, err := os.Stat(filepath.Join(dataDir, "fixtures", set, "cert.pem")); err != nil {
			t.Errorf("auto TLS certificate: %v", err)
		}
	}
	if _, _, _, err := tlsCall(&tls.Config{}, "GET", url+"/version", ""); err == nil {
		t.Error("a client that checks certificates accepted the self-signed one")
	}
}
