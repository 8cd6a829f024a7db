package auth

import "github.com/cairnkv/cairn"

// Op names the change a Request makes, as its JSON says it.
type Op string

// The operations of auth requests, one per etcd Auth call that writes
// (etcd's InternalRaftRequest Auth* fields).
const (
	OpEnable         Op = "enable"
	OpDisable        Op = "disable"
	OpAuthenticate   Op = "authenticate"
	OpUserAdd        Op = "user_add"
	OpUserDelete     Op = "user_delete"
	OpUserChangePW   Op = "user_change_password"
	OpUserGrantRole  Op = "user_grant_role"
	OpUserRevokeRole Op = "user_revoke_role"
	OpRoleAdd        Op = "role_add"
	OpRoleDelete     Op = "role_delete"
	OpRoleGrantPerm  Op = "role_grant_permission"
	OpRoleRevokePerm Op = "role_revoke_permission"
)

// Request is the raft payload of one auth change (entry.Request.Auth),
// encoded as JSON and pinned by entry's golden tests. Fields:
//
//	enable, disable             nothing
//	authenticate                Name, Token (the random part of a simple
//	                            token; the applier appends ".<raft index>")
//	user_add                    Name, Hash (bcrypt, made by the proposer),
//	                            NoPassword
//	user_delete                 Name
//	user_change_password        Name, Hash
//	user_grant_role/revoke_role Name (the user), Role
//	role_add, role_delete       Role
//	role_grant_permission       Role, Perm
//	role_revoke_permission      Role, Perm (its Key and RangeEnd)
//
// Passwords never enter the raft log: only their bcrypt hashes do.
type Request struct {
	Op         Op                `json:"op"`
	Name       string            `json:"name,omitempty"`
	Role       string            `json:"role,omitempty"`
	Hash       []byte            `json:"hash,omitempty"`
	NoPassword bool              `json:"no_password,omitempty"`
	Perm       *cairn.Permission `json:"perm,omitempty"`
	Token      string            `json:"token,omitempty"`
}

// Result is what applying a Request returns besides its error: the token an
// authenticate made.
type Result struct {
	Token string
}
