package server

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/v2store"
)

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
	// revokedV2TTLs counts the v2 TTLs among them, for the v2 stats.
	revokedV2TTLs int
	// v2 answers a V2 request.
	v2 *v2store.Event
	// auth answers an Auth request (the token of an authenticate).
	auth auth.Result
	err  error
}
