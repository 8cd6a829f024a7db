package cairn

import "errors"

// The error vocabulary of cairn's client APIs. Each is defined once, here, and
// mapped to etcd's gRPC code / HTTP status (v3) and errorCode (v2) by one table
// in httpapi. Messages are etcd's, to the letter, because clients match on them.
var (
	// ErrCompacted: the requested revision is below the compacted revision.
	// etcd mvcc.ErrCompacted, gRPC OutOfRange.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev: the requested revision is above the current revision.
	// etcd mvcc.ErrFutureRev, gRPC OutOfRange.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")

	// ErrEmptyKey: a request without a key. etcd rpctypes.ErrEmptyKey,
	// gRPC InvalidArgument.
	ErrEmptyKey = errors.New("etcdserver: key is not provided")
	// ErrKeyNotFound: ignore_value or ignore_lease on a key that does not exist.
	// etcd rpctypes.ErrKeyNotFound, gRPC InvalidArgument.
	ErrKeyNotFound = errors.New("etcdserver: key not found")
	// ErrValueProvided: ignore_value together with a value.
	// etcd rpctypes.ErrValueProvided, gRPC InvalidArgument.
	ErrValueProvided = errors.New("etcdserver: value is provided")
	// ErrLeaseProvided: ignore_lease together with a lease.
	// etcd rpctypes.ErrLeaseProvided, gRPC InvalidArgument.
	ErrLeaseProvided = errors.New("etcdserver: lease is provided")
	// ErrTooManyOps: a transaction branch over --max-txn-ops operations.
	// etcd rpctypes.ErrTooManyOps, gRPC InvalidArgument.
	ErrTooManyOps = errors.New("etcdserver: too many operations in txn request")
	// ErrDuplicateKey: a transaction that writes one key twice.
	// etcd rpctypes.ErrDuplicateKey, gRPC InvalidArgument.
	ErrDuplicateKey = errors.New("etcdserver: duplicate key given in txn request")
	// ErrInvalidSortOption: a range with a sort order or target outside
	// etcd's enums. etcd (3.5+) rpctypes.ErrInvalidSortOption, gRPC
	// InvalidArgument.
	ErrInvalidSortOption = errors.New("etcdserver: invalid sort option")
	// ErrLeaseNotFound: a put or revoke naming a lease that is not granted
	// (lease.go holds the other lease errors).
	// etcd rpctypes.ErrLeaseNotFound, gRPC NotFound.
	ErrLeaseNotFound = errors.New("etcdserver: requested lease not found")

	// ErrRequestTooLarge: a request over --max-request-bytes.
	// etcd rpctypes.ErrRequestTooLarge, gRPC InvalidArgument.
	ErrRequestTooLarge = errors.New("etcdserver: request is too large")
	// ErrNoSpace: the backend is over --quota-backend-bytes.
	// etcd rpctypes.ErrNoSpace, gRPC ResourceExhausted.
	ErrNoSpace = errors.New("etcdserver: mvcc: database space exceeded")
	// ErrStopped: the member is shutting down. etcd rpctypes.ErrStopped,
	// gRPC Unavailable.
	ErrStopped = errors.New("etcdserver: server stopped")
	// ErrTimeout: the request was not committed in time.
	// etcd rpctypes.ErrTimeout, gRPC Unavailable.
	ErrTimeout = errors.New("etcdserver: request timed out")
	// ErrNoLeader: the cluster has no leader. etcd rpctypes.ErrNoLeader,
	// gRPC Unavailable.
	ErrNoLeader = errors.New("etcdserver: no leader")
)

// Membership errors (etcd's membership and rpctypes errors; etcd 3.4
// answers them from the v3 cluster API with the gRPC codes in httpapi's
// table, and from /v2/members with its own statuses).
var (
	// ErrMemberNotFound: no member has the given id. etcd
	// rpctypes.ErrMemberNotFound, gRPC NotFound.
	ErrMemberNotFound = errors.New("etcdserver: member not found")
	// ErrMemberRemoved: the id belonged to a member that was removed (ids
	// are never reused). etcd membership.ErrIDRemoved; the v3 API answers
	// it as ErrMemberNotFound, /v2/members with 410 Gone.
	ErrMemberRemoved = errors.New("membership: ID removed")
	// ErrMemberExist: a member with the new member's id exists. etcd
	// rpctypes.ErrMemberExist, gRPC FailedPrecondition.
	ErrMemberExist = errors.New("etcdserver: member ID already exist")
	// ErrPeerURLExist: another member has one of the given peer URLs. etcd
	// rpctypes.ErrPeerURLExist, gRPC FailedPrecondition.
	ErrPeerURLExist = errors.New("etcdserver: Peer URLs already exists")
	// ErrMemberBadURLs: the peer URLs are missing or malformed. etcd
	// rpctypes.ErrMemberBadURLs, gRPC InvalidArgument.
	ErrMemberBadURLs = errors.New("etcdserver: given member URLs are invalid")
	// ErrMemberNotLearner: promote of a member that is a voter already.
	// etcd rpctypes.ErrMemberNotLearner, gRPC FailedPrecondition.
	ErrMemberNotLearner = errors.New("etcdserver: can only promote a learner member")
	// ErrLearnerNotReady: promote of a learner that is behind the leader.
	// etcd rpctypes.ErrLearnerNotReady, gRPC FailedPrecondition.
	ErrLearnerNotReady = errors.New("etcdserver: can only promote a learner member which is in sync with leader")
	// ErrTooManyLearners: a second learner (etcd 3.4 allows one). etcd
	// rpctypes.ErrTooManyLearners, gRPC FailedPrecondition.
	ErrTooManyLearners = errors.New("etcdserver: too many learner members in cluster")
	// ErrUnhealthy: a configuration change refused because a voting member
	// is unreachable (etcd's --strict-reconfig-check). etcd
	// rpctypes.ErrUnhealthy, gRPC Unavailable.
	ErrUnhealthy = errors.New("etcdserver: unhealthy cluster")
	// ErrNotEnoughStartedMembers: the change would leave fewer started
	// voting members than a quorum. etcd rpctypes.ErrNotEnoughStartedMembers,
	// gRPC FailedPrecondition.
	ErrNotEnoughStartedMembers = errors.New("etcdserver: re-configuration failed due to not enough started members")
	// ErrNotSupportedForLearner: a request a learner does not serve (all
	// but status and serializable ranges). etcd
	// rpctypes.ErrNotSupportedForLearner, gRPC Unavailable.
	ErrNotSupportedForLearner = errors.New("etcdserver: rpc not supported for learner")
)
