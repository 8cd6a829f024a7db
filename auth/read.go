package auth

import (
	"maps"
	"slices"

	"github.com/cairnkv/cairn"
)

// UserGet returns the roles of a user, sorted: ErrUserNotFound if there is
// no such user. The slice is the caller's.
func (s *State) UserGet(name string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[name]
	if u == nil {
		return nil, cairn.ErrUserNotFound
	}
	return slices.Clone(u.Roles), nil
}

// UserList returns the names of the users, sorted.
func (s *State) UserList() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.users))
}

// RoleGet returns the permissions of a role, sorted by key then range end:
// ErrRoleNotFound if there is no such role (the root role, which can be
// granted without being added, is found only once added, as in etcd).
func (s *State) RoleGet(name string) ([]cairn.Permission, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.roles[name]
	if r == nil {
		return nil, cairn.ErrRoleNotFound // the root role too, unless added (etcd)
	}
	return slices.Clone(r.Perms), nil
}

// RoleList returns the names of the roles, sorted.
func (s *State) RoleList() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.roles))
}

// passwordHash returns a user's bcrypt hash; ok is false for no such user
// or a user without a password.
func (s *State) passwordHash(name string) (hash []byte, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[name]
	if u == nil || u.NoPassword || len(u.Hash) == 0 {
		return nil, false
	}
	return u.Hash, true
}
