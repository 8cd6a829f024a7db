package tlsconf_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testcerts"
	"github.com/cairnkv/cairn/internal/tlsconf"
)

// serve runs an HTTPS server on 127.0.0.1 with f's listener configuration;
// its handler answers the common name of the client's verified
// certificate, or "anonymous".
func serve(t *testing.T, f *tlsconf.Files) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			io.WriteString(w, r.TLS.VerifiedChains[0][0].Subject.CommonName)
			return
		}
		io.WriteString(w, "anonymous")
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go hs.Serve(tls.NewListener(ln, f.ServerConfig()))
	t.Cleanup(func() { hs.Close() })
	return "https://" + ln.Addr().String()
}

// get makes one request on a new connection with cfg; it returns the body
// and the serial number of the server's certificate.
func get(url string, cfg *tls.Config) (string, string, error) {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.TLS.PeerCertificates[0].SerialNumber.String(), err
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustLoad(t *testing.T, o tlsconf.Options) *tlsconf.Files {
	t.Helper()
	o.Logger = quiet()
	f, err := tlsconf.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A listener with a CA file takes clients whose certificate the CA signed
// and sees who they are; it refuses a client without a certificate and one
// whose certificate another CA signed.
func TestClientCertAuth(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcerts.NewCA(t, "ca"), testcerts.NewCA(t, "other")
	srv := ca.Issue(t, dir, "server")
	url := serve(t, mustLoad(t, tlsconf.Options{CertFile: srv.CertFile, KeyFile: srv.KeyFile, TrustedCAFile: ca.File, ClientCertAuth: true}))

	body, _, err := get(url, testcerts.ClientConfig(t, ca, ca.Issue(t, dir, "alice")))
	if err != nil || body != "alice" {
		t.Fatalf("client signed by the CA: %q, %v", body, err)
	}
	if _, _, err := get(url, testcerts.ClientConfig(t, ca, testcerts.Pair{})); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("client without a certificate: %v, want a refusal", err)
	}
	if _, _, err := get(url, testcerts.ClientConfig(t, ca, other.Issue(t, dir, "mallory"))); err == nil || !strings.Contains(err.Error(), "unknown certificate authority") {
		t.Errorf("client signed by another CA: %v, want a refusal", err)
	}
	// And a client that does not trust the server's CA refuses it.
	if _, _, err := get(url, testcerts.ClientConfig(t, other, ca.Issue(t, dir, "bob"))); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("client trusting another CA: %v", err)
	}
}

// Without a CA file the listener asks for no certificate.
func TestServerOnly(t *testing.T) {
	ca := testcerts.NewCA(t, "ca")
	srv := ca.Issue(t, t.TempDir(), "server")
	url := serve(t, mustLoad(t, tlsconf.Options{CertFile: srv.CertFile, KeyFile: srv.KeyFile}))
	if body, _, err := get(url, testcerts.ClientConfig(t, ca, testcerts.Pair{})); err != nil || body != "anonymous" {
		t.Fatalf("%q, %v", body, err)
	}
}

// Rotation: certificate files replaced on disk are what the next new
// connection sees, with no restart; files that do not load (a certificate
// whose key is not there yet) keep the previous ones until they do.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	ca := testcerts.NewCA(t, "ca")
	srv := ca.Issue(t, dir, "server")
	f := mustLoad(t, tlsconf.Options{CertFile: srv.CertFile, KeyFile: srv.KeyFile, TrustedCAFile: ca.File})
	url := serve(t, f)
	client := testcerts.ClientConfig(t, ca, ca.Issue(t, dir, "alice"))
	expectSerial := func(want string) {
		t.Helper()
		if _, got, err := get(url, client); err != nil || got != want {
			t.Fatalf("server certificate serial %s (%v), want %s", got, err, want)
		}
	}
	expectSerial(srv.Cert.SerialNumber.String())

	next := ca.Issue(t, dir, "server") // same paths, new files
	expectSerial(next.Cert.SerialNumber.String())

	// A certificate without its key: the previous pair stays.
	keep, err := os.ReadFile(next.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	third := ca.Issue(t, dir, "server")
	if err := os.WriteFile(third.KeyFile, keep, 0o600); err != nil {
		t.Fatal(err)
	}
	expectSerial(next.Cert.SerialNumber.String())
	third = ca.Issue(t, dir, "server") // now a matching pair
	expectSerial(third.Cert.SerialNumber.String())

	// The CA rotates too: a new CA file makes clients of the new CA
	// welcome and those of the old one refused.
	newCA := testcerts.NewCA(t, "ca2")
	b, err := os.ReadFile(newCA.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca.File+".tmp", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ca.File+".tmp", ca.File); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(url, client); err == nil {
		t.Error("a client of the old CA is still accepted after the CA file changed")
	}
	if body, _, err := get(url, testcerts.ClientConfig(t, ca, newCA.Issue(t, dir, "carol"))); err != nil || body != "carol" {
		t.Errorf("client of the new CA: %q, %v", body, err)
	}
}

// ClientConfig presents the certificate and checks the server against the
// CA file, as a member connecting to a peer does.
func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcerts.NewCA(t, "ca"), testcerts.NewCA(t, "other")
	srv := ca.Issue(t, dir, "server")
	url := serve(t, mustLoad(t, tlsconf.Options{CertFile: srv.CertFile, KeyFile: srv.KeyFile, TrustedCAFile: ca.File, ClientCertAuth: true}))

	peer := ca.Issue(t, dir, "peer")
	f := mustLoad(t, tlsconf.Options{CertFile: peer.CertFile, KeyFile: peer.KeyFile, TrustedCAFile: ca.File})
	if body, _, err := get(url, f.ClientConfig("127.0.0.1")); err != nil || body != "peer" {
		t.Fatalf("%q, %v", body, err)
	}
	foreign := other.Issue(t, dir, "foreign")
	f = mustLoad(t, tlsconf.Options{CertFile: foreign.CertFile, KeyFile: foreign.KeyFile, TrustedCAFile: other.File})
	if _, _, err := get(url, f.ClientConfig("127.0.0.1")); err == nil {
		t.Fatal("a peer of another CA was accepted")
	}
}

// Auto TLS: a self-signed certificate for the listen hosts, kept across
// restarts; its clients skip verification.
func TestSelfSigned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixtures", "client")
	cert, key, err := tlsconf.SelfSigned(dir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || len(c.DNSNames) != 1 {
		t.Errorf("hosts: %v %v", c.IPAddresses, c.DNSNames)
	}
	url := serve(t, mustLoad(t, tlsconf.Options{CertFile: cert, KeyFile: key}))
	f := mustLoad(t, tlsconf.Options{CertFile: cert, KeyFile: key, SkipVerify: true})
	if _, serial, err := get(url, f.ClientConfig("127.0.0.1")); err != nil || serial != c.SerialNumber.String() {
		t.Fatalf("%s, %v", serial, err)
	}
	if _, _, err := tlsconf.SelfSigned(dir, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	again, _ := tls.LoadX509KeyPair(cert, key)
	if string(again.Certificate[0]) != string(pair.Certificate[0]) {
		t.Error("SelfSigned replaced the certificate already there")
	}
}

func TestLoadRefuses(t *testing.T) {
	ca := testcerts.NewCA(t, "ca")
	srv := ca.Issue(t, t.TempDir(), "server")
	for _, c := range []struct {
		name string
		o    tlsconf.Options
		want string
	}{
		{"cert without key", tlsconf.Options{CertFile: srv.CertFile}, "needs its key"},
		{"client auth without CA", tlsconf.Options{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCertAuth: true}, "needs a trusted CA"},
		{"TLS 1.3 with suites", tlsconf.Options{MinVersion: tls.VersionTLS13, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, "only TLS 1.3"},
		{"missing file", tlsconf.Options{CertFile: srv.CertFile + ".nope", KeyFile: srv.KeyFile}, "no such file"},
		{"key of another cert", tlsconf.Options{CertFile: srv.CertFile, KeyFile: ca.File}, "loading"},
		{"CA file without PEM", tlsconf.Options{TrustedCAFile: srv.KeyFile}, "no PEM certificate"},
	} {
		if _, err := tlsconf.Load(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	ids, err := tlsconf.CipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA")
	if err != nil || len(ids) != 3 || ids[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || ids[2] != tls.TLS_RSA_WITH_AES_128_CBC_SHA {
		t.Errorf("CipherSuites: %v, %v", ids, err)
	}
	if ids, err := tlsconf.CipherSuites(""); ids != nil || err != nil {
		t.Errorf("empty list: %v, %v", ids, err)
	}
	for _, bad := range []string{"TLS_AES_128_GCM_SHA256", "AES128", "tls_ecdhe_rsa_with_aes_128_gcm_sha256"} {
		if _, err := tlsconf.CipherSuites(bad); err == nil {
			t.Errorf("CipherSuites(%q) accepted", bad)
		}
	}
	for name, want := range map[string]uint16{"": tls.VersionTLS12, "TLS1.2": tls.VersionTLS12, "TLS1.3": tls.VersionTLS13} {
		if v, err := tlsconf.Version(name); err != nil || v != want {
			t.Errorf("Version(%q) = %x, %v", name, v, err)
		}
	}
	for _, bad := range []string{"TLS1.1", "tls1.3", "1.3"} {
		if _, err := tlsconf.Version(bad); err == nil {
			t.Errorf("Version(%q) accepted", bad)
		}
	}
}
