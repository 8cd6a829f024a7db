package auth

import (
	"bytes"
	"slices"

	"github.com/cairnkv/cairn"
)

// The changes of Apply, with etcd 3.4's rules (server/auth/store.go). Each
// runs with mu held, checks first and changes nothing on error, and bumps
// the revision when it changes something.

func (s *State) enable() error {
	if s.enabled {
		return nil // etcd: enabling twice is no error and no change
	}
	root := s.users[cairn.RootUser]
	switch {
	case root == nil:
		return cairn.ErrRootUserNotExist
	case !slices.Contains(root.Roles, cairn.RootRole):
		return cairn.ErrRootRoleNotExist
	}
	s.enabled = true
	s.revision++
	return nil
}

func (s *State) userAdd(req *Request) error {
	switch {
	case req.Name == "":
		return cairn.ErrUserEmpty
	case s.users[req.Name] != nil:
		return cairn.ErrUserAlreadyExist
	}
	s.revision++
	s.users[req.Name] = &user{Name: req.Name, Hash: slices.Clone(req.Hash), NoPassword: req.NoPassword,
		PasswordRevision: s.revision}
	return nil
}

func (s *State) userDelete(name string) error {
	switch {
	case s.enabled && name == cairn.RootUser:
		return cairn.ErrInvalidAuthMgmt
	case s.users[name] == nil:
		return cairn.ErrUserNotFound
	}
	delete(s.users, name)
	s.revision++
	return nil
}

func (s *State) userGrant(name, roleName string) error {
	u := s.users[name]
	switch {
	case u == nil:
		return cairn.ErrUserNotFound
	case roleName != cairn.RootRole && s.roles[roleName] == nil:
		return cairn.ErrRoleNotFound
	}
	i, found := slices.BinarySearch(u.Roles, roleName)
	if found {
		return nil // etcd 3.4 answers success and changes nothing
	}
	nu := *u
	nu.Roles = slices.Insert(slices.Clone(u.Roles), i, roleName)
	s.users[name] = &nu
	s.revision++
	return nil
}

func (s *State) userRevoke(name, roleName string) error {
	u := s.users[name]
	if s.enabled && name == cairn.RootUser && roleName == cairn.RootRole {
		return cairn.ErrInvalidAuthMgmt
	}
	if u == nil {
		return cairn.ErrUserNotFound
	}
	i, found := slices.BinarySearch(u.Roles, roleName)
	if !found {
		return cairn.ErrRoleNotGranted
	}
	nu := *u
	nu.Roles = slices.Delete(slices.Clone(u.Roles), i, i+1)
	s.users[name] = &nu
	s.revision++
	return nil
}

func (s *State) roleAdd(name string) error {
	switch {
	case name == "":
		return cairn.ErrRoleEmpty
	case s.roles[name] != nil:
		return cairn.ErrRoleAlreadyExist
	}
	s.roles[name] = &role{Name: name}
	s.revision++
	return nil
}

func (s *State) roleDelete(name string) error {
	switch {
	case s.enabled && name == cairn.RootRole:
		return cairn.ErrInvalidAuthMgmt
	case s.roles[name] == nil:
		return cairn.ErrRoleNotFound
	}
	delete(s.roles, name)
	for n, u := range s.users {
		if i, found := slices.BinarySearch(u.Roles, name); found {
			nu := *u
			nu.Roles = slices.Delete(slices.Clone(u.Roles), i, i+1)
			s.users[n] = &nu
		}
	}
	s.revision++
	return nil
}

// comparePerm orders permissions by key, then range end.
func comparePerm(a, b cairn.Permission) int {
	if c := bytes.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return bytes.Compare(a.RangeEnd, b.RangeEnd)
}

func (s *State) roleGrant(name string, p *cairn.Permission) error {
	r := s.roles[name]
	switch {
	case r == nil:
		return cairn.ErrRoleNotFound
	case p == nil:
		return cairn.ErrPermissionNotGiven
	}
	perm := cairn.Permission{PermType: p.PermType, Key: slices.Clone(p.Key), RangeEnd: slices.Clone(p.RangeEnd)}
	if len(perm.RangeEnd) == 0 {
		perm.RangeEnd = nil
	}
	nr := &role{Name: r.Name, Perms: slices.Clone(r.Perms)}
	i, found := slices.BinarySearchFunc(nr.Perms, perm, comparePerm)
	if found {
		nr.Perms[i].PermType = perm.PermType // etcd: a grant on the same keys changes the type
	} else {
		nr.Perms = slices.Insert(nr.Perms, i, perm)
	}
	s.roles[name] = nr
	s.revision++
	return nil
}

func (s *State) roleRevoke(name string, p *cairn.Permission) error {
	r := s.roles[name]
	if r == nil {
		return cairn.ErrRoleNotFound
	}
	var want cairn.Permission
	if p != nil {
		want = cairn.Permission{Key: p.Key, RangeEnd: p.RangeEnd}
	}
	if len(want.RangeEnd) == 0 {
		want.RangeEnd = nil
	}
	i, found := slices.BinarySearchFunc(r.Perms, want, comparePerm)
	if !found {
		return cairn.ErrPermissionNotGranted
	}
	s.roles[name] = &role{Name: r.Name, Perms: slices.Delete(slices.Clone(r.Perms), i, i+1)}
	s.revision++
	return nil
}
