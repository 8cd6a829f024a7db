package auth

import (
	"crypto"

	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtTokens is etcd's "jwt" provider: a token is a JWT signed with the
// member's key, carrying the user name ("username"), the auth revision it
// was made at ("revision") and its expiry ("exp", TTL after it was made;
// a use does not renew it). Every member must have the same keys for a
// token made by one to work on another.
type jwtTokens struct {
	method jwt.SigningMethod
	sign   any // the private key, or the HMAC secret
	verify any // the public key, or the HMAC secret
	ttl    time.Duration
	now    func() time.Time
}

// DefaultJWTTTL is etcd's default ttl of JWT tokens.
const DefaultJWTTTL = 5 * time.Minute

// ParseTokenSpec reads --auth-token: "simple" (ttl is --auth-token-ttl),
// or etcd's "jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>,ttl=<d>"
// (RS*, PS* and ES* with a PEM key pair; HS* with the secret in priv-key;
// ttl defaults to 5m). now is the clock (nil: time.Now).
func ParseTokenSpec(spec string, ttl time.Duration, now func() time.Time) (TokenProvider, error) {
	kind, rest, _ := strings.Cut(spec, ",")
	switch kind {
	case "simple":
		if rest != "" {
			return nil, fmt.Errorf("--auth-token simple takes no options, got %q", rest)
		}
		return NewSimpleTokens(ttl, now), nil
	case "jwt":
		return newJWTTokens(rest, now)
	}
	return nil, fmt.Errorf("--auth-token: unknown token type %q (simple or jwt)", kind)
}

func newJWTTokens(opts string, now func() time.Time) (*jwtTokens, error) {
	t := &jwtTokens{ttl: DefaultJWTTTL, now: now}
	if t.now == nil {
		t.now = time.Now
	}
	o := map[string]string{}
	for kv := range strings.SplitSeq(opts, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--auth-token jwt: option %q is not key=value", kv)
		}
		switch k {
		case "pub-key", "priv-key", "sign-method", "ttl":
			o[k] = v
		default:
			return nil, fmt.Errorf("--auth-token jwt: unknown option %q", k)
		}
	}
	if v := o["ttl"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--auth-token jwt: ttl %q is not a positive duration", v)
		}
		t.ttl = d
	}
	t.method = jwt.GetSigningMethod(o["sign-method"])
	if t.method == nil {
		return nil, fmt.Errorf("--auth-token jwt: sign-method %q is not one of RS256/384/512, PS256/384/512, ES256/384/512, HS256/384/512", o["sign-method"])
	}
	priv, err := os.ReadFile(o["priv-key"])
	if err != nil {
		return nil, fmt.Errorf("--auth-token jwt: priv-key: %w", err)
	}
	alg := t.method.Alg()
	if strings.HasPrefix(alg, "HS") {
		t.sign, t.verify = priv, priv
		return t, nil
	}
	pub, err := os.ReadFile(o["pub-key"])
	if err != nil {
		return nil, fmt.Errorf("--auth-token jwt: pub-key: %w", err)
	}
	var signer crypto.Signer
	if strings.HasPrefix(alg, "ES") {
		if signer, err = jwt.ParseECPrivateKeyFromPEM(priv); err == nil {
			t.verify, err = jwt.ParseECPublicKeyFromPEM(pub)
		}
	} else {
		if signer, err = jwt.ParseRSAPrivateKeyFromPEM(priv); err == nil {
			t.verify, err = jwt.ParseRSAPublicKeyFromPEM(pub)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("--auth-token jwt: keys for %s: %w", alg, err)
	}
	t.sign = signer
	return t, nil
}

func (t *jwtTokens) NewPrefix() (string, error) { return "", nil }

// Assign signs the token; a signing failure (a broken key) answers an empty
// token, which no request can use.
func (t *jwtTokens) Assign(_ string, _ uint64, user string, revision uint64) string {
	tok := jwt.NewWithClaims(t.method, jwt.MapClaims{
		"username": user,
		"revision": revision,
		"exp":      t.now().Add(t.ttl).Unix(),
	})
	s, err := tok.SignedString(t.sign)
	if err != nil {
		return ""
	}
	return s
}

func (t *jwtTokens) Info(token string) (string, uint64, bool) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return t.verify, nil },
		jwt.WithValidMethods([]string{t.method.Alg()}), jwt.WithTimeFunc(t.now), jwt.WithExpirationRequired())
	if err != nil {
		return "", 0, false
	}
	user, ok1 := claims["username"].(string)
	rev, ok2 := claims["revision"].(float64)
	if !ok1 || !ok2 || user == "" || rev < 0 {
		return "", 0, false
	}
	return user, uint64(rev), true
}

// InvalidateUser does nothing: a JWT cannot be recalled, but one made
// before its user's password_revision is refused (State.AuthInfoFromToken).
func (t *jwtTokens) InvalidateUser(string) {}
