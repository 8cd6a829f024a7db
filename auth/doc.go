// Package auth is cairn's v3 auth state: users, roles, permissions, the
// enabled flag and the auth revision, changed through raft and checked on
// every request of both client APIs (etcd's server/auth, without its
// separate v2 user database: the v2 keys API obeys these same users).
//
// # Changes
//
// A change is a Request, the payload of a raft entry (entry.Request.Auth,
// JSON, golden-pinned in package entry). The member that takes the client's
// call hashes a new password with bcrypt (--bcrypt-cost) before it
// proposes, so the log holds only hashes; every member applies the entry
// with State.Apply, in log order, in the same store batch as the entries
// around it, so the change and the applied index reach bbolt in one
// transaction. etcd 3.4's rules hold (ops.go): auth can be enabled only
// when the user root exists and holds the role root; while it is on, root
// cannot be deleted nor lose the root role, and the root role cannot be
// deleted; the root role exists without being added and allows everything;
// a grant on keys a role already has changes the permission's type. Each
// change bumps the auth revision.
//
// # On disk
//
// Three buckets of the store file (store.AuthMeta, AuthUsers, AuthRoles,
// named "auth", "authUsers", "authRoles" as etcd's), so that a snapshot of
// the store carries them and a restart finds them (State.Load):
//
//	auth       enabled  -> 1 byte, 0 or 1
//	           revision -> 8 bytes, big-endian
//	authUsers  <name>   -> {"name":"alice","hash":"<base64 bcrypt>","roles":["r1"],
//	                        "no_password":true,"password_revision":7}
//	authRoles  <name>   -> {"name":"r1","perms":[{"perm_type":2,"key":"YQ==","range_end":"Yg=="}]}
//
// roles and perms are sorted (perms by key, then range end); empty fields
// are left out. password_revision is the auth revision at which the user was
// added or its password last set: a token older than it is stale.
//
// # Tokens
//
// A TokenProvider makes the token an authenticate answers and resolves
// tokens later. The simple provider is etcd's: "<16 random letters>.<raft
// index>", the random part chosen by the proposer and carried in the
// entry, so every member that applies it knows the token; each use renews
// its TTL (--auth-token-ttl, 300 s); the tokens live in memory only, so a
// restarted member forgets them and clients authenticate again. A password
// change or the deletion of a user ends its tokens on every member (the
// apply drops them; a token made before the user's password_revision is
// refused too). The JWT provider (jwt.go) signs the user and the auth
// revision with the member's key.
//
// # Checks
//
// State is the contract's Authorizer: CheckPermitted applies etcd's range
// rule (perm.go): the user's permissions of the wanted type must cover the
// whole key range asked for; CheckAdmin wants the root role.
package auth
