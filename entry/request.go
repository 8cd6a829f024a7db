package entry

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/v2store"
)

// Request is the payload of one normal raft entry: a write with the id its
// proposer waits on. Exactly one operation field is set. Puts and v2 writes
// are encoded in a compact binary form, everything else as JSON
// (codec.go: Marshal, Unmarshal).
type Request struct {
	ID          uint64                    `json:"id"`
	Put         *cairn.PutRequest         `json:"put,omitempty"`
	DeleteRange *cairn.DeleteRangeRequest `json:"delete_range,omitempty"`
	Txn         *cairn.TxnRequest         `json:"txn,omitempty"`
	Compaction  *cairn.CompactionRequest  `json:"compaction,omitempty"`
	// Attrs publishes a member's name and client URLs (cluster state).
	Attrs       *membership.Attributes    `json:"member_attributes,omitempty"`
	LeaseGrant  *LeaseGrant               `json:"lease_grant,omitempty"`
	LeaseRevoke *cairn.LeaseRevokeRequest `json:"lease_revoke,omitempty"`
	LeaseExpire *LeaseExpire              `json:"lease_expire,omitempty"`
	// V2 is a v2 keys API write.
	V2 *V2Write `json:"v2,omitempty"`
	// Alarm raises or clears an alarm (cluster state).
	Alarm *membership.AlarmRequest `json:"alarm,omitempty"`
	// Auth changes users, roles or the enabled flag, or makes a token
	// (package auth; passwords travel as bcrypt hashes).
	Auth *auth.Request `json:"auth,omitempty"`
}

// IsCluster reports whether the request changes the cluster state rather
// than the store.
func (r *Request) IsCluster() bool { return r.Attrs != nil || r.Alarm != nil }

// TakesSpace reports whether the store quota (--quota-backend-bytes) and
// the NOSPACE alarm apply to the request. What frees space is exempt:
// compaction, deletes (etcd checks the quota for puts, transactions and
// lease grants only), and the revoke of leases, by a client or by expiry
// (etcd lets revokes through when the quota is exceeded, or expired leases
// would pile up); so are the alarms themselves and the cluster's own
// bookkeeping.
func (r *Request) TakesSpace() bool {
	return r.Compaction == nil && r.LeaseRevoke == nil && r.LeaseExpire == nil &&
		r.DeleteRange == nil && r.Auth == nil && !r.IsCluster()
}

// Kind names the request's operation by its JSON field ("put", "txn",
// "lease_grant", ...), for logs; "empty" when none is set.
func (r *Request) Kind() string {
	switch {
	case r.Put != nil:
		return "put"
	case r.DeleteRange != nil:
		return "delete_range"
	case r.Txn != nil:
		return "txn"
	case r.Compaction != nil:
		return "compaction"
	case r.Attrs != nil:
		return "member_attributes"
	case r.LeaseGrant != nil:
		return "lease_grant"
	case r.LeaseRevoke != nil:
		return "lease_revoke"
	case r.LeaseExpire != nil:
		return "lease_expire"
	case r.V2 != nil:
		return "v2"
	case r.Alarm != nil:
		return "alarm"
	case r.Auth != nil:
		return "auth"
	}
	return "empty"
}

// LeaseGrant is the raft payload of a grant: the ID and TTL to grant, the
// TTL already raised to the proposer's minimum. Auto says the proposer
// picked the ID; if another lease has it by the time the entry is applied,
// the apply takes the next free ID instead of failing (every member does
// the same, so the choice is deterministic).
type LeaseGrant struct {
	ID   int64 `json:"id"`
	TTL  int64 `json:"ttl"`
	Auto bool  `json:"auto,omitempty"`
}

// LeaseExpire is the raft payload of the leader's revocation of expired
// leases: each lease still granted when the entry is applied is revoked, in
// order, each in its own revision; the others are skipped.
type LeaseExpire struct {
	IDs []int64 `json:"ids"`
}

// V2Write is the raft payload of a v2 keys write: the request as parsed at
// the edge and the v2 prefix of the member that proposed it, so that every
// member applies the same writes whatever its own flags. The v2 write runs
// at apply time (v2store.Tree.Apply) because what it writes depends on the
// state: the parent directories it must create, the name of an in-order
// key (the new revision).
type V2Write struct {
	Prefix string `json:"prefix,omitempty"`
	*v2store.Request
}
