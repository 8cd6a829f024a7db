package server

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/v2store"
)

// request is the payload of one normal raft entry: a client write with the id
// its proposer waits on. Exactly one operation field is set. Puts and v2
// writes are encoded in a compact binary form, everything else as JSON
// (entry.go); the encoding is private to this package (entries never leave
// the cluster).
type request struct {
	ID          uint64                    `json:"id"`
	Put         *cairn.PutRequest         `json:"put,omitempty"`
	DeleteRange *cairn.DeleteRangeRequest `json:"delete_range,omitempty"`
	Txn         *cairn.TxnRequest         `json:"txn,omitempty"`
	Compaction  *cairn.CompactionRequest  `json:"compaction,omitempty"`
	// Attrs publishes a member's name and client URLs (cluster state).
	Attrs       *membership.Attributes    `json:"member_attributes,omitempty"`
	LeaseGrant  *leaseGrant               `json:"lease_grant,omitempty"`
	LeaseRevoke *cairn.LeaseRevokeRequest `json:"lease_revoke,omitempty"`
	LeaseExpire *leaseExpire              `json:"lease_expire,omitempty"`
	// V2 is a v2 keys API write (v2.go).
	V2 *v2Write `json:"v2,omitempty"`
	// Alarm raises or clears an alarm (cluster state, alarm.go).
	Alarm *membership.AlarmRequest `json:"alarm,omitempty"`
}

// isCluster reports whether the request changes the cluster state rather
// than the store.
func (r *request) isCluster() bool { return r.Attrs != nil || r.Alarm != nil }

// applyResult is what the applier hands back to the proposer of a request.
type applyResult struct {
	put         *cairn.PutResponse
	deleteRange *cairn.DeleteRangeResponse
	txn         *cairn.TxnResponse
	compaction  *cairn.CompactionResponse
	// compacted is closed when a physical compaction finished.
	compacted <-chan struct{}
	// member is the member a configuration change added or changed.
	member *membership.Member
	// alarms is what an alarm change changed.
	alarms      []membership.Alarm
	leaseGrant  *cairn.LeaseGrantResponse
	leaseRevoke *cairn.LeaseRevokeResponse
	// revokedLeases lists the leases a revoke or an expiry revoked, for the
	// lessor.
	revokedLeases []int64
	// v2 answers a V2 request.
	v2  *v2store.Event
	err error
}

// takesSpace reports whether the store quota (--quota-backend-bytes) and
// the NOSPACE alarm apply to the request. What frees space is exempt:
// compaction, deletes (etcd checks the quota for puts, transactions and
// lease grants only), and the revoke of leases, by a client or by expiry
// (etcd lets revokes through when the quota is exceeded, or expired leases
// would pile up); so are the alarms themselves and the cluster's own
// bookkeeping.
func (r *request) takesSpace() bool {
	return r.Compaction == nil && r.LeaseRevoke == nil && r.LeaseExpire == nil &&
		r.DeleteRange == nil && !r.isCluster()
}
