package server

import (
	"context"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/entry"
)

// The Auth service and the Authorizer of the contract, over the member's
// auth state (package auth). Writes go through raft as entry.Request.Auth
// and return once applied here; reads answer from this member's state, as
// the checks do. Passwords are hashed here, before the proposal, so the
// raft log holds only bcrypt hashes (etcd hashes in its request path too).

var (
	_ cairn.Auth       = (*Server)(nil)
	_ cairn.Authorizer = (*Server)(nil)
)

// authResponse is an empty answer with this member's header.
func (s *Server) authResponse() *cairn.AuthResponse {
	resp := &cairn.AuthResponse{Header: cairn.ResponseHeader{Revision: s.storeNow().Rev()}}
	s.header(&resp.Header)
	return resp
}

// proposeAuth proposes one auth change and waits for it to be applied.
func (s *Server) proposeAuth(ctx context.Context, req *auth.Request) (*cairn.AuthResponse, error) {
	r, err := s.propose(ctx, &entry.Request{Auth: req})
	if err != nil {
		return nil, err
	}
	resp := s.authResponse()
	resp.Token = r.auth.Token
	return resp, nil
}

// AuthEnable turns auth on (cairn.Auth).
func (s *Server) AuthEnable(ctx context.Context) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpEnable})
}

// AuthDisable turns auth off (cairn.Auth).
func (s *Server) AuthDisable(ctx context.Context) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpDisable})
}

// AuthStatus reports whether auth is on and the auth revision (cairn.Auth).
func (s *Server) AuthStatus(ctx context.Context) (*cairn.AuthResponse, error) {
	resp := s.authResponse()
	resp.Enabled, resp.AuthRevision = s.auth.AuthEnabled(), s.auth.Revision()
	return resp, nil
}

// Authenticate checks the password here and proposes the making of a token,
// which every member then knows (cairn.Auth).
func (s *Server) Authenticate(ctx context.Context, name, password string) (*cairn.AuthResponse, error) {
	if !s.auth.AuthEnabled() {
		return nil, cairn.ErrAuthNotEnabled
	}
	if err := s.auth.CheckPassword(name, password); err != nil {
		s.metrics.AuthFailures.Inc()
		s.log.Warn("authentication failed", "user", name, "reason", "invalid user name or password")
		return nil, err
	}
	prefix, err := s.auth.Tokens().NewPrefix()
	if err != nil {
		return nil, err
	}
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpAuthenticate, Name: name, Token: prefix})
}

// hash hashes a new password at --bcrypt-cost; too long a password is
// refused (bcrypt takes 72 bytes).
func (s *Server) hash(password string) ([]byte, error) {
	if len(password) > auth.MaxPasswordBytes {
		return nil, cairn.ErrPasswordTooLong
	}
	return auth.HashPassword(password, s.cfg.Auth.BcryptCost)
}

// UserAdd adds a user (cairn.Auth).
func (s *Server) UserAdd(ctx context.Context, name, password string, opts cairn.UserAddOptions) (*cairn.AuthResponse, error) {
	if name == "" {
		return nil, cairn.ErrUserEmpty
	}
	req := &auth.Request{Op: auth.OpUserAdd, Name: name, NoPassword: opts.NoPassword}
	if !opts.NoPassword {
		h, err := s.hash(password)
		if err != nil {
			return nil, err
		}
		req.Hash = h
	}
	return s.proposeAuth(ctx, req)
}

// UserGet lists a user's roles (cairn.Auth).
func (s *Server) UserGet(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	roles, err := s.auth.UserGet(name)
	if err != nil {
		return nil, err
	}
	resp := s.authResponse()
	resp.Roles = roles
	return resp, nil
}

// UserList lists the users (cairn.Auth).
func (s *Server) UserList(ctx context.Context) (*cairn.AuthResponse, error) {
	resp := s.authResponse()
	resp.Users = s.auth.UserList()
	return resp, nil
}

// UserDelete deletes a user (cairn.Auth).
func (s *Server) UserDelete(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpUserDelete, Name: name})
}

// UserChangePassword sets a user's password (cairn.Auth).
func (s *Server) UserChangePassword(ctx context.Context, name, password string) (*cairn.AuthResponse, error) {
	h, err := s.hash(password)
	if err != nil {
		return nil, err
	}
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpUserChangePW, Name: name, Hash: h})
}

// UserGrantRole gives a user a role (cairn.Auth).
func (s *Server) UserGrantRole(ctx context.Context, user, role string) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpUserGrantRole, Name: user, Role: role})
}

// UserRevokeRole takes a role from a user (cairn.Auth).
func (s *Server) UserRevokeRole(ctx context.Context, user, role string) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpUserRevokeRole, Name: user, Role: role})
}

// RoleAdd adds a role (cairn.Auth).
func (s *Server) RoleAdd(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	if name == "" {
		return nil, cairn.ErrRoleEmpty
	}
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpRoleAdd, Role: name})
}

// RoleGet lists a role's permissions (cairn.Auth).
func (s *Server) RoleGet(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	perms, err := s.auth.RoleGet(name)
	if err != nil {
		return nil, err
	}
	resp := s.authResponse()
	resp.Perm = perms
	return resp, nil
}

// RoleList lists the roles (cairn.Auth).
func (s *Server) RoleList(ctx context.Context) (*cairn.AuthResponse, error) {
	resp := s.authResponse()
	resp.Roles = s.auth.RoleList()
	return resp, nil
}

// RoleDelete deletes a role (cairn.Auth).
func (s *Server) RoleDelete(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpRoleDelete, Role: name})
}

// RoleGrantPermission grants a role a permission (cairn.Auth).
func (s *Server) RoleGrantPermission(ctx context.Context, role string, perm *cairn.Permission) (*cairn.AuthResponse, error) {
	if perm == nil {
		return nil, cairn.ErrPermissionNotGiven
	}
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpRoleGrantPerm, Role: role, Perm: perm})
}

// RoleRevokePermission revokes a role's permission on [key, rangeEnd)
// (cairn.Auth).
func (s *Server) RoleRevokePermission(ctx context.Context, role string, key, rangeEnd []byte) (*cairn.AuthResponse, error) {
	return s.proposeAuth(ctx, &auth.Request{Op: auth.OpRoleRevokePerm, Role: role,
		Perm: &cairn.Permission{Key: key, RangeEnd: rangeEnd}})
}

// AuthEnabled implements cairn.Authorizer.
func (s *Server) AuthEnabled() bool { return s.auth.AuthEnabled() }

// AuthInfoFromToken implements cairn.Authorizer.
func (s *Server) AuthInfoFromToken(token string) (cairn.AuthInfo, error) {
	return s.auth.AuthInfoFromToken(token)
}

// AuthInfoFromUser implements cairn.Authorizer.
func (s *Server) AuthInfoFromUser(name string) cairn.AuthInfo { return s.auth.AuthInfoFromUser(name) }

// AuthInfoFromPassword implements cairn.Authorizer; a failure counts in
// the failed-authentication metric and is logged without the password.
func (s *Server) AuthInfoFromPassword(name, password string) (cairn.AuthInfo, error) {
	info, err := s.auth.AuthInfoFromPassword(name, password)
	if err != nil {
		s.metrics.AuthFailures.Inc()
		s.log.Warn("authentication failed", "user", name, "reason", "invalid user name or password")
	}
	return info, err
}

// CheckPermitted implements cairn.Authorizer.
func (s *Server) CheckPermitted(info cairn.AuthInfo, want cairn.PermType, key, rangeEnd []byte) error {
	return s.auth.CheckPermitted(info, want, key, rangeEnd)
}

// CheckAdmin implements cairn.Authorizer.
func (s *Server) CheckAdmin(info cairn.AuthInfo) error { return s.auth.CheckAdmin(info) }

// HasRole implements cairn.Authorizer.
func (s *Server) HasRole(info cairn.AuthInfo, role string) bool { return s.auth.HasRole(info, role) }

// AuthChanged implements cairn.Authorizer.
func (s *Server) AuthChanged() <-chan struct{} { return s.auth.AuthChanged() }
