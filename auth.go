package cairn

import (
	"context"
	"errors"
)

// The v3 auth contract: users, roles and permissions (etcd's
// authpb.User/Role/Permission), the management calls of etcd's Auth service
// (Auth interface) and what an adapter asks before it serves a request
// (Authorizer). One set of users and roles governs every API: the v2 keys
// API checks the same permissions on the v3 keys its paths map to.

// PermType is etcd's authpb.Permission.Type: what a permission allows on
// its keys.
type PermType int32

// The permission types, as etcd's authpb enum.
const (
	PermRead      PermType = 0
	PermWrite     PermType = 1
	PermReadWrite PermType = 2
)

// PermTypeNames are the enum names of the permission types, indexed by
// type, as etcd's gateway writes them. Do not modify.
var PermTypeNames = [...]string{PermRead: "READ", PermWrite: "WRITE", PermReadWrite: "READWRITE"}

// Allows reports whether a permission of type p grants want (PermRead or
// PermWrite).
func (p PermType) Allows(want PermType) bool { return p == PermReadWrite || p == want }

// Permission is one grant of a role, as etcd's authpb.Permission: the type
// and the keys, which are one key (RangeEnd empty), the range [Key,
// RangeEnd), or every key from Key on (RangeEnd "\x00"). A prefix p is the
// range [p, p+1).
type Permission struct {
	PermType PermType `json:"perm_type"`
	Key      []byte   `json:"key"`
	RangeEnd []byte   `json:"range_end,omitempty"`
}

// RootUser and RootRole are etcd's names: auth can only be enabled when the
// root user exists and holds the root role, which allows everything. The
// root role needs no creation to be granted.
const (
	RootUser = "root"
	RootRole = "root"
)

// AuthInfo is who makes a request: the user name ("" for nobody) and the
// auth revision the member had when it established it.
type AuthInfo struct {
	User     string
	Revision uint64
}

// AuthResponse answers every call of Auth, as etcd's Auth*Response
// messages: each fills what its etcd message has. Token answers
// Authenticate; Enabled and AuthRevision AuthStatus; Users UserList; Roles
// UserGet (the user's roles, sorted) and RoleList; Perm RoleGet.
type AuthResponse struct {
	Header       ResponseHeader
	Token        string
	Enabled      bool
	AuthRevision uint64
	Users        []string
	Roles        []string
	Perm         []Permission
}

// UserAddOptions is etcd's authpb.UserAddOptions.
type UserAddOptions struct {
	// NoPassword adds a user that cannot authenticate with a password (it
	// authenticates by its TLS client certificate's CN).
	NoPassword bool
}

// Auth is etcd's Auth service (etcdserverpb.Auth): the calls that change or
// show users and roles. Writes go through raft and return once applied on
// this member; reads answer from this member's state. Who may call what is
// the adapter's check (Authorizer), not the implementation's.
//
// Errors, as etcd 3.4's: ErrUserEmpty, ErrUserAlreadyExist,
// ErrUserNotFound, ErrRoleEmpty, ErrRoleAlreadyExist, ErrRoleNotFound,
// ErrRoleNotGranted, ErrPermissionNotGiven, ErrPermissionNotGranted,
// ErrRootUserNotExist, ErrRootRoleNotExist, ErrInvalidAuthMgmt,
// ErrAuthNotEnabled, ErrAuthFailed; and those of any proposal (ErrTimeout,
// ErrStopped, ctx.Err()).
type Auth interface {
	AuthEnable(ctx context.Context) (*AuthResponse, error)
	AuthDisable(ctx context.Context) (*AuthResponse, error)
	AuthStatus(ctx context.Context) (*AuthResponse, error)
	// Authenticate checks name's password (bcrypt, on this member) and
	// returns a token for name (ErrAuthFailed for a wrong user or
	// password, without telling which).
	Authenticate(ctx context.Context, name, password string) (*AuthResponse, error)
	// UserAdd adds a user; the password is hashed before it is proposed.
	UserAdd(ctx context.Context, name, password string, opts UserAddOptions) (*AuthResponse, error)
	UserGet(ctx context.Context, name string) (*AuthResponse, error)
	UserList(ctx context.Context) (*AuthResponse, error)
	// UserDelete deletes a user; its tokens stop working on every member.
	UserDelete(ctx context.Context, name string) (*AuthResponse, error)
	// UserChangePassword sets a user's password; its tokens stop working
	// on every member.
	UserChangePassword(ctx context.Context, name, password string) (*AuthResponse, error)
	UserGrantRole(ctx context.Context, user, role string) (*AuthResponse, error)
	UserRevokeRole(ctx context.Context, user, role string) (*AuthResponse, error)
	RoleAdd(ctx context.Context, name string) (*AuthResponse, error)
	RoleGet(ctx context.Context, name string) (*AuthResponse, error)
	RoleList(ctx context.Context) (*AuthResponse, error)
	// RoleDelete deletes a role and takes it from every user.
	RoleDelete(ctx context.Context, name string) (*AuthResponse, error)
	// RoleGrantPermission adds perm to a role, or changes the type of the
	// role's permission on the same keys. nil perm: ErrPermissionNotGiven.
	RoleGrantPermission(ctx context.Context, role string, perm *Permission) (*AuthResponse, error)
	// RoleRevokePermission removes the role's permission on exactly [key,
	// rangeEnd).
	RoleRevokePermission(ctx context.Context, role string, key, rangeEnd []byte) (*AuthResponse, error)
}

// Authorizer is what an adapter asks before it serves a request. Its calls
// read this member's in-memory state; they do not go through raft and are
// safe for concurrent use.
type Authorizer interface {
	// AuthEnabled reports whether auth is on: when it is off, every
	// request is allowed and nothing else need be asked.
	AuthEnabled() bool
	// AuthInfoFromToken resolves a token of Authenticate (simple or JWT):
	// ErrInvalidAuthToken if it is unknown, expired, malformed, signed by
	// another key, or its user's password changed or the user was deleted
	// since it was issued.
	AuthInfoFromToken(token string) (AuthInfo, error)
	// AuthInfoFromUser is the identity of a user named by a verified TLS
	// client certificate (its CN), as etcd takes it: the name as given.
	AuthInfoFromUser(name string) AuthInfo
	// AuthInfoFromPassword checks a user's password, as HTTP basic auth on
	// the v2 API does on every request: ErrAuthFailed if it is wrong.
	AuthInfoFromPassword(name, password string) (AuthInfo, error)
	// CheckPermitted allows want (PermRead or PermWrite) on the key, or on
	// [key, rangeEnd), only if the user's roles cover all of it:
	// ErrUserEmpty for no user, ErrPermissionDenied otherwise.
	CheckPermitted(info AuthInfo, want PermType, key, rangeEnd []byte) error
	// CheckAdmin allows only a user holding the root role:
	// ErrUserEmpty for no user, ErrPermissionDenied otherwise.
	CheckAdmin(info AuthInfo) error
	// HasRole reports whether the user holds role (etcd lets a user read
	// the roles it holds).
	HasRole(info AuthInfo, role string) bool
	// AuthChanged returns a channel closed at the next change of the auth
	// state (users, roles, the enabled flag): long requests (watches)
	// check their user again then.
	AuthChanged() <-chan struct{}
}

// The errors of auth, etcd's (rpctypes) messages.
var (
	// ErrUserEmpty: a request without a user while auth is on, or a user
	// add without a name. gRPC InvalidArgument.
	ErrUserEmpty = errors.New("etcdserver: user name is empty")
	// ErrUserAlreadyExist: gRPC FailedPrecondition.
	ErrUserAlreadyExist = errors.New("etcdserver: user name already exists")
	// ErrUserNotFound: gRPC FailedPrecondition.
	ErrUserNotFound = errors.New("etcdserver: user name not found")
	// ErrRoleEmpty: a role add without a name. gRPC InvalidArgument.
	ErrRoleEmpty = errors.New("etcdserver: role name is empty")
	// ErrRoleAlreadyExist: gRPC FailedPrecondition.
	ErrRoleAlreadyExist = errors.New("etcdserver: role name already exists")
	// ErrRoleNotFound: gRPC FailedPrecondition.
	ErrRoleNotFound = errors.New("etcdserver: role name not found")
	// ErrRoleNotGranted: a revoke of a role the user does not hold. gRPC
	// FailedPrecondition.
	ErrRoleNotGranted = errors.New("etcdserver: role is not granted to the user")
	// ErrPermissionNotGiven: a role grant without a permission (etcd 3.5;
	// etcd 3.4 crashes). gRPC InvalidArgument.
	ErrPermissionNotGiven = errors.New("etcdserver: permission not given")
	// ErrPermissionNotGranted: a revoke of a permission the role does not
	// have. gRPC FailedPrecondition.
	ErrPermissionNotGranted = errors.New("etcdserver: permission is not granted to the role")
	// ErrPermissionDenied: the user's roles do not allow the request. gRPC
	// PermissionDenied.
	ErrPermissionDenied = errors.New("etcdserver: permission denied")
	// ErrRootUserNotExist: auth enable without a root user. gRPC
	// FailedPrecondition.
	ErrRootUserNotExist = errors.New("etcdserver: root user does not exist")
	// ErrRootRoleNotExist: auth enable while root lacks the root role. gRPC
	// FailedPrecondition.
	ErrRootRoleNotExist = errors.New("etcdserver: root user does not have root role")
	// ErrInvalidAuthMgmt: deleting root or the root role, or revoking root
	// from root, while auth is on. gRPC InvalidArgument.
	ErrInvalidAuthMgmt = errors.New("etcdserver: invalid auth management")
	// ErrAuthNotEnabled: authenticate while auth is off. gRPC
	// FailedPrecondition.
	ErrAuthNotEnabled = errors.New("etcdserver: authentication is not enabled")
	// ErrAuthFailed: a wrong user or password. gRPC InvalidArgument.
	ErrAuthFailed = errors.New("etcdserver: authentication failed, invalid user ID or password")
	// ErrPasswordTooLong: a new password over bcrypt's 72 bytes (cairn's;
	// etcd 3.4 silently ignores the bytes past 72). gRPC InvalidArgument.
	ErrPasswordTooLong = errors.New("etcdserver: password is longer than 72 bytes")
	// ErrInvalidAuthToken: see Authorizer.AuthInfoFromToken. gRPC
	// Unauthenticated.
	ErrInvalidAuthToken = errors.New("etcdserver: invalid auth token")
)
