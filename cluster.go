package cairn

import (
	"context"
	"fmt"
	"net"
	"net/url"
)

// Member is one cluster member as the membership APIs show it (etcd's
// etcdserverpb.Member). A member added but not started yet has no Name and
// no ClientURLs: a member publishes both when it starts.
type Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
	IsLearner  bool
}

// MemberResponse answers the v3 cluster endpoints: the header (cluster,
// member and raft term; etcd sends no revision here), the member an add
// created (nil otherwise) and the members after the change, by id.
type MemberResponse struct {
	Header  ResponseHeader
	Member  *Member
	Members []*Member
}

// Cluster is what the membership endpoints (POST /v3/cluster/member/* and
// /v2/members) need from a member. Every method is safe for concurrent use;
// the changes return once the configuration change is applied on the member
// that was asked, with the members after it. One change runs at a time.
//
// Errors (errors.go): ErrMemberNotFound and ErrMemberRemoved (an id
// no member has, or had), ErrMemberExist, ErrPeerURLExist, ErrMemberBadURLs,
// ErrMemberNotLearner, ErrLearnerNotReady, ErrTooManyLearners, ErrUnhealthy,
// ErrNotEnoughStartedMembers, and those of any proposal (ErrTimeout,
// ErrNoLeader, ErrStopped, ctx.Err()).
type Cluster interface {
	// MemberList lists the members; with linearizable it first makes sure
	// this member has applied every change committed before the call.
	MemberList(ctx context.Context, linearizable bool) (*MemberResponse, error)
	// MemberAdd adds a member with the given peer URLs, as a learner (a
	// non-voting member, promoted later) or as a voter.
	MemberAdd(ctx context.Context, peerURLs []string, isLearner bool) (*MemberResponse, error)
	// MemberRemove removes member id; the removed member stops.
	MemberRemove(ctx context.Context, id uint64) (*MemberResponse, error)
	// MemberUpdate replaces the peer URLs of member id.
	MemberUpdate(ctx context.Context, id uint64, peerURLs []string) (*MemberResponse, error)
	// MemberPromote makes learner id a voter, once it has caught up with
	// the leader.
	MemberPromote(ctx context.Context, id uint64) (*MemberResponse, error)
}

// ValidatePeerURLs checks peer URLs as etcd's types.NewURLs does: at least
// one, each http(s)://host:port with no path. cairn's peer transport has no
// unix sockets, so those are refused by name. The error says what is wrong
// (the v2 API shows it; the v3 API answers ErrMemberBadURLs, which it
// wraps).
func ValidatePeerURLs(urls []string) error {
	if len(urls) == 0 {
		return fmt.Errorf("%w: no valid URLs given", ErrMemberBadURLs)
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMemberBadURLs, err)
		}
		switch u.Scheme {
		case "http", "https":
		case "unix", "unixs":
			return fmt.Errorf("not implemented: %s peer URLs (%s)", u.Scheme, s)
		default:
			return fmt.Errorf("%w: URL scheme must be http, https, unix, or unixs: %s", ErrMemberBadURLs, s)
		}
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return fmt.Errorf("%w: URL address does not have the form \"host:port\": %s", ErrMemberBadURLs, s)
		}
		if u.Path != "" {
			return fmt.Errorf("%w: URL must not contain a path: %s", ErrMemberBadURLs, s)
		}
	}
	return nil
}

// Learner is implemented by a member that can be a raft learner (a
// non-voting member catching up). IsLearner reports whether it is one now.
//
// A learner serves what etcd 3.4 lets a learner serve over its v3 API
// (etcdserver's isRPCSupportedForLearner): /v3/maintenance/status and
// serializable ranges (the member's own KV.Range refuses the others).
// Every other v3 endpoint answers ErrNotSupportedForLearner: HTTP
// 503, gRPC code 14, "etcdserver: rpc not supported for learner"; the
// streams (watch, lease keepalive) with the gateway's stream error object,
// before any upgrade to a websocket. The v2 API is served as etcd 3.4
// serves it on a learner (writes go to the leader through raft).
type Learner interface {
	IsLearner() bool
}
