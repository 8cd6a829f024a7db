package membership

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Peer is one member of the initial cluster: its name and the peer URLs it
// advertises.
type Peer struct {
	Name string
	URLs []string
}

// ParseInitialCluster parses etcd's --initial-cluster syntax,
// "name1=http://host1:2380,name2=http://host2:2380"; a name may appear more
// than once to give a member several peer URLs.
func ParseInitialCluster(s string) ([]Peer, error) {
	var peers []Peer
	index := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, url, ok := strings.Cut(part, "=")
		if !ok || name == "" || url == "" {
			return nil, fmt.Errorf("--initial-cluster: %q is not name=url", part)
		}
		if i, seen := index[name]; seen {
			peers[i].URLs = append(peers[i].URLs, url)
			continue
		}
		index[name] = len(peers)
		peers = append(peers, Peer{Name: name, URLs: []string{url}})
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("--initial-cluster is empty")
	}
	return peers, nil
}

// MemberID derives a member's id from its peer URLs and the cluster token, as
// etcd does (a hash of the sorted URLs and the token), so every member
// computes the same ids for the same --initial-cluster.
func MemberID(urls []string, token string) uint64 {
	sorted := append([]string(nil), urls...)
	sort.Strings(sorted)
	h := sha256.New()
	for _, u := range sorted {
		h.Write([]byte(u))
	}
	h.Write([]byte(token))
	id := binary.BigEndian.Uint64(h.Sum(nil)[:8])
	if id == 0 {
		id = 1 // raft reserves 0 for "none"
	}
	return id
}

// ClusterID derives the cluster id from the ids of the initial members.
func ClusterID(memberIDs []uint64) uint64 {
	sorted := append([]uint64(nil), memberIDs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	h := sha256.New()
	var b [8]byte
	for _, id := range sorted {
		binary.BigEndian.PutUint64(b[:], id)
		h.Write(b[:])
	}
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// Initial returns the members of a new cluster as --initial-cluster
// (peers) and --initial-cluster-token (token) define them, in the order
// given, with the id of the member named self and the cluster's id. Errors:
// two members with the same peer URLs, no member named self, or
// selfPeerURLs (--initial-advertise-peer-urls, if given) that differ from
// self's entry in peers.
func Initial(peers []Peer, token, self string, selfPeerURLs []string) (members []*Member, selfID, clusterID uint64, err error) {
	seen := map[uint64]string{}
	ids := make([]uint64, 0, len(peers))
	for _, p := range peers {
		id := MemberID(p.URLs, token)
		if other, dup := seen[id]; dup {
			return nil, 0, 0, fmt.Errorf("--initial-cluster: members %q and %q have the same peer URLs", other, p.Name)
		}
		seen[id] = p.Name
		ids = append(ids, id)
		members = append(members, &Member{ID: id, Name: p.Name, PeerURLs: slices.Clone(p.URLs)})
		if p.Name == self {
			selfID = id
			if len(selfPeerURLs) > 0 && !SameURLs(p.URLs, selfPeerURLs) {
				return nil, 0, 0, fmt.Errorf("--initial-cluster gives %q the peer URLs %v, but --initial-advertise-peer-urls is %v",
					self, p.URLs, selfPeerURLs)
			}
		}
	}
	if selfID == 0 {
		return nil, 0, 0, fmt.Errorf("--initial-cluster has no member named %q (--name)", self)
	}
	return members, selfID, ClusterID(ids), nil
}

// SameURLs reports whether a and b hold the same URLs, in any order.
func SameURLs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// Identity is who a member is: its id, its cluster's id and its name. It is
// the first record of the member's raft log (its metadata, JSON as tagged
// here; identity_golden_test.go pins the bytes).
type Identity struct {
	MemberID  uint64 `json:"member_id"`
	ClusterID uint64 `json:"cluster_id"`
	Name      string `json:"name"`
}
