// Package testcerts makes real X.509 certificates for tests: a CA, and
// certificates it signs for 127.0.0.1 that serve both as a server's and as
// a client's (peers use one certificate for both), written as PEM files the
// way an operator hands them to --cert-file, --key-file and
// --trusted-ca-file. Keys are ECDSA P-256, quick to make.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority whose files are in a test's temp dir.
type CA struct {
	// File is the PEM file of the CA's certificate (--trusted-ca-file).
	File string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// Pair is a certificate and its key in PEM files.
type Pair struct {
	CertFile, KeyFile string
	// Cert is the parsed certificate.
	Cert *x509.Certificate
}

var serial atomic.Int64

// NewCA makes a CA named name, its certificate written under tb's temp dir.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	key := newKey(tb)
	tmpl := template(name)
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, cert := sign(tb, tmpl, tmpl, key, key)
	dir := tb.TempDir()
	ca := &CA{File: filepath.Join(dir, name+"-ca.pem"), cert: cert, key: key}
	writePEM(tb, ca.File, "CERTIFICATE", der)
	return ca
}

// Issue makes a certificate with common name cn for 127.0.0.1, ::1 and
// localhost, good for server and client authentication, and writes it and
// its key as cn.pem and cn-key.pem in dir.
func (ca *CA) Issue(tb testing.TB, dir, cn string) Pair {
	tb.Helper()
	key := newKey(tb)
	tmpl := template(cn)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	tmpl.DNSNames = []string{"localhost"}
	der, cert := sign(tb, tmpl, ca.cert, key, ca.key)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	p := Pair{CertFile: filepath.Join(dir, cn+".pem"), KeyFile: filepath.Join(dir, cn+"-key.pem"), Cert: cert}
	writePEM(tb, p.CertFile, "CERTIFICATE", der)
	writePEM(tb, p.KeyFile, "EC PRIVATE KEY", keyDER)
	return p
}

// Pool is a pool holding the CA's certificate, for a client's RootCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// ClientConfig is a TLS client configuration that trusts ca and presents
// pair (when its files are set) to any server that asks for a certificate,
// as curl does (Go's client would otherwise keep quiet when the server
// names other CAs than pair's).
func ClientConfig(tb testing.TB, ca *CA, pair Pair) *tls.Config {
	tb.Helper()
	cfg := &tls.Config{RootCAs: ca.Pool()}
	if pair.CertFile != "" {
		c, err := tls.LoadX509KeyPair(pair.CertFile, pair.KeyFile)
		if err != nil {
			tb.Fatal(err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	return cfg
}

// template is a certificate named cn, valid from an hour ago for a day,
// with a serial number of its own.
func template(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
}

// sign makes the certificate of key from tmpl, signed by parent's key
// signer (tmpl itself and key for a self-signed CA).
func sign(tb testing.TB, tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) ([]byte, *x509.Certificate) {
	tb.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return der, cert
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// writePEM writes one PEM block to a new file, then renames it over path,
// so a member that re-reads path sees either the old file or the new one.
func writePEM(tb testing.TB, path, typ string, der []byte) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}
