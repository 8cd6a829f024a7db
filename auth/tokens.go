package auth

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

// TokenProvider makes and resolves the tokens Authenticate answers. Tokens
// are a member's own: a simple token exists in the memory of every member
// that applied its authenticate entry; a JWT is checked with the member's
// key. Implementations are safe for concurrent use.
type TokenProvider interface {
	// NewPrefix returns what the proposer of an authenticate puts in the
	// entry: the random part of a simple token ("" for JWT).
	NewPrefix() (string, error)
	// Assign makes the token of user at auth revision revision, when the
	// authenticate entry at raft index index is applied.
	Assign(prefix string, index uint64, user string, revision uint64) string
	// Info resolves a token: its user and the auth revision it was made
	// at; ok is false for an unknown, expired or malformed token.
	Info(token string) (user string, revision uint64, ok bool)
	// InvalidateUser ends the user's tokens (password changed, deleted).
	InvalidateUser(user string)
}

// DefaultTokenTTL is etcd's --auth-token-ttl default: 300 seconds.
const DefaultTokenTTL = 300 * time.Second

// simpleTokens is etcd's "simple" provider: "<16 random letters>.<raft
// index of the authenticate>", valid on every member for TTL after its
// last use.
type simpleTokens struct {
	ttl time.Duration
	now func() time.Time

	mu        sync.Mutex
	tokens    map[string]*simpleToken
	lastSweep time.Time
}

type simpleToken struct {
	user     string
	revision uint64
	expires  time.Time
}

// NewSimpleTokens returns etcd's simple token provider with the given TTL
// (0: DefaultTokenTTL). now is the clock (nil: time.Now).
func NewSimpleTokens(ttl time.Duration, now func() time.Time) TokenProvider {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	if now == nil {
		now = time.Now
	}
	return &simpleTokens{ttl: ttl, now: now, tokens: map[string]*simpleToken{}}
}

const tokenLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// simplePrefixLen is the length of the random part, etcd's.
const simplePrefixLen = 16

func (t *simpleTokens) NewPrefix() (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(tokenLetters)))
	for range simplePrefixLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(tokenLetters[n.Int64()])
	}
	return b.String(), nil
}

func (t *simpleTokens) Assign(prefix string, index uint64, user string, revision uint64) string {
	tok := fmt.Sprintf("%s.%d", prefix, index)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) > t.ttl {
		for k, v := range t.tokens {
			if !now.Before(v.expires) {
				delete(t.tokens, k)
			}
		}
		t.lastSweep = now
	}
	t.tokens[tok] = &simpleToken{user: user, revision: revision, expires: now.Add(t.ttl)}
	return tok
}

func (t *simpleTokens) Info(token string) (string, uint64, bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.tokens[token]
	if v == nil {
		return "", 0, false
	}
	if !now.Before(v.expires) {
		delete(t.tokens, token)
		return "", 0, false
	}
	v.expires = now.Add(t.ttl) // etcd: each use renews the TTL
	return v.user, v.revision, true
}

func (t *simpleTokens) InvalidateUser(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.tokens {
		if v.user == user {
			delete(t.tokens, k)
		}
	}
}
