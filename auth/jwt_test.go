package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// writeRSAKeys writes a new RSA key pair as PEM files and returns their
// paths.
func writeRSAKeys(t *testing.T) (pub, priv string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, priv = filepath.Join(dir, "pub.pem"), filepath.Join(dir, "priv.pem")
	for _, f := range []struct {
		path, typ string
		der       []byte
	}{{pub, "PUBLIC KEY", pubDER}, {priv, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return pub, priv
}

// etcd's jwt tokens: signed, expiring, refused when signed by another key
// (another cluster), tampered with, or older than the user's password.
func TestJWTTokens(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	pub, priv := writeRSAKeys(t)
	spec := "jwt,pub-key=" + pub + ",priv-key=" + priv + ",sign-method=RS256,ttl=1m"
	tp, err := ParseTokenSpec(spec, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{tb: t, st: mustStore(t, filepath.Join(t.TempDir(), "db")), s: New(tp)}
	defer a.st.Close()
	a.must(&Request{Op: OpUserAdd, Name: "root", Hash: hash(t, "rootpw")})
	a.must(&Request{Op: OpUserGrantRole, Name: "root", Role: "root"})
	a.must(&Request{Op: OpUserAdd, Name: "alice", Hash: hash(t, "apw")})
	a.must(&Request{Op: OpEnable})
	tok := a.must(&Request{Op: OpAuthenticate, Name: "alice"}).Token
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	if info, err := a.s.AuthInfoFromToken(tok); err != nil || info.User != "alice" {
		t.Fatalf("a fresh JWT: %+v %v", info, err)
	}

	pub2, priv2 := writeRSAKeys(t)
	other, err := ParseTokenSpec("jwt,pub-key="+pub2+",priv-key="+priv2+",sign-method=RS256", 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	foreign := other.Assign("", 1, "alice", a.s.Revision())
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	for name, bad := range map[string]string{"another cluster's key": foreign, "tampered": tampered, "malformed": "a.b.c"} {
		if _, err := a.s.AuthInfoFromToken(bad); !errors.Is(err, cairn.ErrInvalidAuthToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	now = now.Add(61 * time.Second)
	if _, err := a.s.AuthInfoFromToken(tok); !errors.Is(err, cairn.ErrInvalidAuthToken) {
		t.Errorf("an expired JWT: %v", err)
	}
	tok = a.must(&Request{Op: OpAuthenticate, Name: "alice"}).Token
	a.must(&Request{Op: OpUserChangePW, Name: "alice", Hash: hash(t, "new")})
	if _, err := a.s.AuthInfoFromToken(tok); !errors.Is(err, cairn.ErrInvalidAuthToken) {
		t.Errorf("a JWT older than the password: %v", err)
	}

	for _, bad := range []string{"jwt,sign-method=RS256", "jwt,pub-key=" + pub + ",priv-key=" + priv + ",sign-method=XX1",
		"jwt,nope=1", "simple,ttl=1", "other"} {
		if _, err := ParseTokenSpec(bad, 0, nil); err == nil {
			t.Errorf("--auth-token %q accepted", bad)
		}
	}
}
