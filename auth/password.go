package auth

import (
	"golang.org/x/crypto/bcrypt"

	"github.com/cairnkv/cairn"
)

// DefaultBcryptCost is etcd's --bcrypt-cost default.
const DefaultBcryptCost = bcrypt.DefaultCost

// MaxPasswordBytes is the longest password bcrypt takes (72 bytes); a
// longer one fails authentication and cannot be set (ErrAuthFailed; etcd
// 3.4 truncates silently with an older bcrypt).
const MaxPasswordBytes = 72

// HashPassword hashes a password with bcrypt at cost, as the proposer of a
// user add or a password change does before it proposes (the raft log
// holds only the hash). cost outside bcrypt's range [4, 31] is an error.
func HashPassword(password string, cost int) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(password), cost)
}

// CheckPassword reports whether password is the user's: ErrAuthFailed for
// no such user, a user without a password, or a wrong password, never
// saying which. It costs one bcrypt comparison (tens of milliseconds at
// the default cost) when the user has a password.
func (s *State) CheckPassword(name, password string) error {
	hash, ok := s.passwordHash(name)
	if !ok || len(password) > MaxPasswordBytes {
		return cairn.ErrAuthFailed
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return cairn.ErrAuthFailed
	}
	return nil
}

// AuthInfoFromToken implements cairn.Authorizer.AuthInfoFromToken.
func (s *State) AuthInfoFromToken(token string) (cairn.AuthInfo, error) {
	if s.tokens == nil || token == "" || len(token) > maxTokenBytes {
		return cairn.AuthInfo{}, cairn.ErrInvalidAuthToken
	}
	name, rev, ok := s.tokens.Info(token)
	if !ok {
		return cairn.AuthInfo{}, cairn.ErrInvalidAuthToken
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// A token made before its user's password changed or the user was
	// deleted (and perhaps added again) is stale: simple tokens are
	// dropped then, a JWT carries its revision.
	if u := s.users[name]; u == nil || rev < u.PasswordRevision {
		return cairn.AuthInfo{}, cairn.ErrInvalidAuthToken
	}
	return cairn.AuthInfo{User: name, Revision: s.revision}, nil
}

// maxTokenBytes bounds the tokens looked at: anything longer is refused
// without parsing.
const maxTokenBytes = 8 << 10

// AuthInfoFromUser implements cairn.Authorizer.AuthInfoFromUser.
func (s *State) AuthInfoFromUser(name string) cairn.AuthInfo {
	return cairn.AuthInfo{User: name, Revision: s.Revision()}
}

// AuthInfoFromPassword implements cairn.Authorizer.AuthInfoFromPassword.
func (s *State) AuthInfoFromPassword(name, password string) (cairn.AuthInfo, error) {
	if err := s.CheckPassword(name, password); err != nil {
		return cairn.AuthInfo{}, err
	}
	return cairn.AuthInfo{User: name, Revision: s.Revision()}, nil
}

// Tokens returns the state's token provider.
func (s *State) Tokens() TokenProvider { return s.tokens }

var _ cairn.Authorizer = (*State)(nil)
