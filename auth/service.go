package auth

import (
	"context"
	"log/slog"

	"github.com/cairnkv/cairn"
)

// Member is what a Service needs of the member it serves.
type Member interface {
	// ProposeAuth proposes req through raft and returns once this member
	// applied it, with the token an OpAuthenticate made.
	ProposeAuth(ctx context.Context, req *Request) (token string, err error)
	// Header returns this member's response header at its current
	// revision.
	Header() cairn.ResponseHeader
}

// Service is the contract's Auth service and Authorizer over a member's
// State: writes go through the member's raft as Requests and return once
// applied there; reads and checks answer from the member's own State.
// Passwords are hashed here, before the proposal, so the raft log holds
// only bcrypt hashes (etcd hashes in its request path too).
type Service struct {
	st     *State
	m      Member
	cost   int
	failed func()
	log    *slog.Logger
}

var (
	_ cairn.Auth       = (*Service)(nil)
	_ cairn.Authorizer = (*Service)(nil)
)

// NewService serves st for member m, hashing new passwords at bcrypt cost
// cost (--bcrypt-cost); failed is called for every failed password check
// (the member counts them), log says which user failed (never the
// password).
func NewService(st *State, m Member, cost int, failed func(), log *slog.Logger) *Service {
	return &Service{st: st, m: m, cost: cost, failed: failed, log: log}
}

// response is an empty answer with the member's header.
func (v *Service) response() *cairn.AuthResponse {
	return &cairn.AuthResponse{Header: v.m.Header()}
}

// propose proposes one auth change and waits for it to be applied.
func (v *Service) propose(ctx context.Context, req *Request) (*cairn.AuthResponse, error) {
	tok, err := v.m.ProposeAuth(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := v.response()
	resp.Token = tok
	return resp, nil
}

// AuthEnable turns auth on (cairn.Auth).
func (v *Service) AuthEnable(ctx context.Context) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpEnable})
}

// AuthDisable turns auth off (cairn.Auth).
func (v *Service) AuthDisable(ctx context.Context) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpDisable})
}

// AuthStatus reports whether auth is on and the auth revision (cairn.Auth).
func (v *Service) AuthStatus(ctx context.Context) (*cairn.AuthResponse, error) {
	resp := v.response()
	resp.Enabled, resp.AuthRevision = v.st.AuthEnabled(), v.st.Revision()
	return resp, nil
}

// Authenticate checks the password here and proposes the making of a token,
// which every member then knows (cairn.Auth).
func (v *Service) Authenticate(ctx context.Context, name, password string) (*cairn.AuthResponse, error) {
	if !v.st.AuthEnabled() {
		return nil, cairn.ErrAuthNotEnabled
	}
	if err := v.st.CheckPassword(name, password); err != nil {
		v.failed()
		v.log.Warn("authentication failed", "user", name, "reason", "invalid user name or password")
		return nil, err
	}
	prefix, err := v.st.Tokens().NewPrefix()
	if err != nil {
		return nil, err
	}
	return v.propose(ctx, &Request{Op: OpAuthenticate, Name: name, Token: prefix})
}

// hash hashes a new password at --bcrypt-cost; too long a password is
// refused (bcrypt takes 72 bytes).
func (v *Service) hash(password string) ([]byte, error) {
	if len(password) > MaxPasswordBytes {
		return nil, cairn.ErrPasswordTooLong
	}
	return HashPassword(password, v.cost)
}

// UserAdd adds a user (cairn.Auth).
func (v *Service) UserAdd(ctx context.Context, name, password string, opts cairn.UserAddOptions) (*cairn.AuthResponse, error) {
	if name == "" {
		return nil, cairn.ErrUserEmpty
	}
	req := &Request{Op: OpUserAdd, Name: name, NoPassword: opts.NoPassword}
	if !opts.NoPassword {
		h, err := v.hash(password)
		if err != nil {
			return nil, err
		}
		req.Hash = h
	}
	return v.propose(ctx, req)
}

// UserGet lists a user's roles (cairn.Auth).
func (v *Service) UserGet(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	roles, err := v.st.UserGet(name)
	if err != nil {
		return nil, err
	}
	resp := v.response()
	resp.Roles = roles
	return resp, nil
}

// UserList lists the users (cairn.Auth).
func (v *Service) UserList(ctx context.Context) (*cairn.AuthResponse, error) {
	resp := v.response()
	resp.Users = v.st.UserList()
	return resp, nil
}

// UserDelete deletes a user (cairn.Auth).
func (v *Service) UserDelete(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpUserDelete, Name: name})
}

// UserChangePassword sets a user's password (cairn.Auth).
func (v *Service) UserChangePassword(ctx context.Context, name, password string) (*cairn.AuthResponse, error) {
	h, err := v.hash(password)
	if err != nil {
		return nil, err
	}
	return v.propose(ctx, &Request{Op: OpUserChangePW, Name: name, Hash: h})
}

// UserGrantRole gives a user a role (cairn.Auth).
func (v *Service) UserGrantRole(ctx context.Context, user, role string) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpUserGrantRole, Name: user, Role: role})
}

// UserRevokeRole takes a role from a user (cairn.Auth).
func (v *Service) UserRevokeRole(ctx context.Context, user, role string) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpUserRevokeRole, Name: user, Role: role})
}

// RoleAdd adds a role (cairn.Auth).
func (v *Service) RoleAdd(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	if name == "" {
		return nil, cairn.ErrRoleEmpty
	}
	return v.propose(ctx, &Request{Op: OpRoleAdd, Role: name})
}

// RoleGet lists a role's permissions (cairn.Auth).
func (v *Service) RoleGet(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	perms, err := v.st.RoleGet(name)
	if err != nil {
		return nil, err
	}
	resp := v.response()
	resp.Perm = perms
	return resp, nil
}

// RoleList lists the roles (cairn.Auth).
func (v *Service) RoleList(ctx context.Context) (*cairn.AuthResponse, error) {
	resp := v.response()
	resp.Roles = v.st.RoleList()
	return resp, nil
}

// RoleDelete deletes a role (cairn.Auth).
func (v *Service) RoleDelete(ctx context.Context, name string) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpRoleDelete, Role: name})
}

// RoleGrantPermission grants a role a permission (cairn.Auth).
func (v *Service) RoleGrantPermission(ctx context.Context, role string, perm *cairn.Permission) (*cairn.AuthResponse, error) {
	if perm == nil {
		return nil, cairn.ErrPermissionNotGiven
	}
	return v.propose(ctx, &Request{Op: OpRoleGrantPerm, Role: role, Perm: perm})
}

// RoleRevokePermission revokes a role's permission on [key, rangeEnd)
// (cairn.Auth).
func (v *Service) RoleRevokePermission(ctx context.Context, role string, key, rangeEnd []byte) (*cairn.AuthResponse, error) {
	return v.propose(ctx, &Request{Op: OpRoleRevokePerm, Role: role,
		Perm: &cairn.Permission{Key: key, RangeEnd: rangeEnd}})
}

// AuthEnabled implements cairn.Authorizer.
func (v *Service) AuthEnabled() bool { return v.st.AuthEnabled() }

// AuthInfoFromToken implements cairn.Authorizer.
func (v *Service) AuthInfoFromToken(token string) (cairn.AuthInfo, error) {
	return v.st.AuthInfoFromToken(token)
}

// AuthInfoFromUser implements cairn.Authorizer.
func (v *Service) AuthInfoFromUser(name string) cairn.AuthInfo { return v.st.AuthInfoFromUser(name) }

// AuthInfoFromPassword implements cairn.Authorizer; a failure counts in
// the failed-authentication metric and is logged without the password.
func (v *Service) AuthInfoFromPassword(name, password string) (cairn.AuthInfo, error) {
	info, err := v.st.AuthInfoFromPassword(name, password)
	if err != nil {
		v.failed()
		v.log.Warn("authentication failed", "user", name, "reason", "invalid user name or password")
	}
	return info, err
}

// CheckPermitted implements cairn.Authorizer.
func (v *Service) CheckPermitted(info cairn.AuthInfo, want cairn.PermType, key, rangeEnd []byte) error {
	return v.st.CheckPermitted(info, want, key, rangeEnd)
}

// CheckAdmin implements cairn.Authorizer.
func (v *Service) CheckAdmin(info cairn.AuthInfo) error { return v.st.CheckAdmin(info) }

// HasRole implements cairn.Authorizer.
func (v *Service) HasRole(info cairn.AuthInfo, role string) bool { return v.st.HasRole(info, role) }

// AuthChanged implements cairn.Authorizer.
func (v *Service) AuthChanged() <-chan struct{} { return v.st.AuthChanged() }
