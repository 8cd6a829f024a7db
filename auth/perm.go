package auth

import (
	"bytes"
	"slices"

	"github.com/cairnkv/cairn"
)

// Permission checks, etcd's rule (server/auth/range_perm_cache.go): a
// request on one key needs a permission of the wanted type covering the
// key; a request on a range needs the union of those permissions to cover
// the whole range. The root role covers everything.

// interval is [start, stop) over keys; a nil stop is "no end".
type interval struct{ start, stop []byte }

// toInterval turns etcd's (key, range_end) into an interval: one key when
// rangeEnd is empty, every key from key on when it is "\x00". ok is false
// for an empty or backwards range, which no permission covers.
func toInterval(key, rangeEnd []byte) (iv interval, ok bool) {
	switch {
	case len(rangeEnd) == 0:
		return interval{key, append(slices.Clip(key), 0)}, true
	case len(rangeEnd) == 1 && rangeEnd[0] == 0:
		return interval{key, nil}, true
	case bytes.Compare(key, rangeEnd) >= 0:
		return interval{}, false
	}
	return interval{key, rangeEnd}, true
}

// stopBefore reports whether stop a ends before stop b (nil is no end).
func stopBefore(a, b []byte) bool {
	switch {
	case a == nil:
		return false
	case b == nil:
		return true
	}
	return bytes.Compare(a, b) < 0
}

// covered reports whether the union of perms of type want covers [key,
// rangeEnd).
func covered(perms []cairn.Permission, want cairn.PermType, key, rangeEnd []byte) bool {
	req, ok := toInterval(key, rangeEnd)
	if !ok {
		return false
	}
	var ivs []interval
	for _, p := range perms {
		if !p.PermType.Allows(want) {
			continue
		}
		if iv, ok := toInterval(p.Key, p.RangeEnd); ok {
			ivs = append(ivs, iv)
		}
	}
	slices.SortFunc(ivs, func(a, b interval) int { return bytes.Compare(a.start, b.start) })
	cur := req.start
	for _, iv := range ivs {
		if bytes.Compare(iv.start, cur) > 0 {
			break // a gap before iv
		}
		if stopBefore(cur, iv.stop) {
			cur = iv.stop
			if cur == nil || !stopBefore(cur, req.stop) {
				return true
			}
		}
	}
	return false
}

// CheckPermitted implements cairn.Authorizer.CheckPermitted.
func (s *State) CheckPermitted(info cairn.AuthInfo, want cairn.PermType, key, rangeEnd []byte) error {
	return s.allow(info, func(u *user) bool {
		var perms []cairn.Permission
		for _, name := range u.Roles {
			if r := s.roles[name]; r != nil {
				perms = append(perms, r.Perms...)
			}
		}
		return covered(perms, want, key, rangeEnd)
	})
}

// CheckAdmin implements cairn.Authorizer.CheckAdmin.
func (s *State) CheckAdmin(info cairn.AuthInfo) error {
	return s.allow(info, func(*user) bool { return false })
}

// allow lets everything through while auth is off; else the user must
// exist and hold the root role or pass ok (called with mu held shared).
func (s *State) allow(info cairn.AuthInfo, ok func(u *user) bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, err := s.requester(info)
	if u == nil || err != nil {
		return err
	}
	if slices.Contains(u.Roles, cairn.RootRole) || ok(u) {
		return nil
	}
	return cairn.ErrPermissionDenied
}

// requester finds the user making a request, with mu held: nil and no error
// while auth is off (everything is allowed); ErrUserEmpty for no user;
// ErrPermissionDenied for a user that does not exist.
func (s *State) requester(info cairn.AuthInfo) (*user, error) {
	switch {
	case !s.enabled:
		return nil, nil
	case info.User == "":
		return nil, cairn.ErrUserEmpty
	}
	u := s.users[info.User]
	if u == nil {
		return nil, cairn.ErrPermissionDenied
	}
	return u, nil
}

// HasRole implements cairn.Authorizer.HasRole.
func (s *State) HasRole(info cairn.AuthInfo, role string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[info.User]
	return u != nil && slices.Contains(u.Roles, role)
}
