package membership

import (
	"errors"
	"fmt"

	json "github.com/goccy/go-json"
)

// FetchMembers asks the members at urls, one at a time, for the cluster's
// member list (GET /members on their peer URLs, package peer) and hands
// each answer's body to decode until decode returns nil; it returns the
// cluster id of the answer taken, or the last error.
type FetchMembers func(urls []string, decode func(body []byte) error) (clusterID uint64, err error)

// Join is how a member added to a running cluster (--initial-cluster-state
// existing) learns its identity: it asks the other members named in
// initial for the cluster through fetch, and finds itself in it by its
// peer URLs (peerURLs, or else its entry in initial under name). Errors
// name the flag to mend: no member called name, no other member to ask,
// the cluster does not list these peer URLs (add the member first), or
// lists them under another name.
func Join(initial []Peer, name string, peerURLs []string, fetch FetchMembers) (Identity, []*Member, error) {
	selfURLs := peerURLs
	var others []string
	for _, p := range initial {
		if p.Name == name {
			if len(selfURLs) == 0 {
				selfURLs = p.URLs
			}
			continue
		}
		others = append(others, p.URLs...)
	}
	if len(selfURLs) == 0 {
		return Identity{}, nil, fmt.Errorf("--initial-cluster has no member named %q (--name)", name)
	}
	if len(others) == 0 {
		return Identity{}, nil, errors.New("--initial-cluster-state=existing: --initial-cluster names no other member to ask for the cluster")
	}
	// Ask each member in turn until one lists this member: the one that
	// applied the member add may not be the first one asked, and the others
	// may not have applied it yet.
	var members []*Member
	var self *Member
	cid, err := fetch(others, func(b []byte) error {
		members, self = nil, nil
		if err := json.Unmarshal(b, &members); err != nil {
			return err
		}
		for _, m := range members {
			if SameURLs(m.PeerURLs, selfURLs) {
				self = m
				return nil
			}
		}
		return errNotListed
	})
	switch {
	case errors.Is(err, errNotListed):
		return Identity{}, nil, fmt.Errorf("--initial-cluster-state=existing: the cluster has no member with peer URLs %v; add it first (member add)", selfURLs)
	case err != nil:
		return Identity{}, nil, fmt.Errorf("--initial-cluster-state=existing: %w", err)
	case self.Name != "" && self.Name != name:
		return Identity{}, nil, fmt.Errorf("the cluster knows the peer URLs %v as member %q, not %q", selfURLs, self.Name, name)
	}
	return Identity{MemberID: self.ID, ClusterID: cid, Name: name}, members, nil
}

// errNotListed: a member asked for the cluster does not list this member.
var errNotListed = errors.New("this member is not listed")
