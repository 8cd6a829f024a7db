package membership

import (
	"slices"

	"github.com/cairnkv/cairn"
)

// MaxLearners is how many learners a cluster may have at once (etcd 3.4's
// fixed 1).
const MaxLearners = 1

// Existing returns a copy of member id. Errors: cairn.ErrMemberRemoved,
// cairn.ErrMemberNotFound.
func (c *Cluster) Existing(id uint64) (*Member, error) {
	if m := c.Get(id); m != nil {
		return m, nil
	}
	if c.IsRemoved(id) {
		return nil, cairn.ErrMemberRemoved
	}
	return nil, cairn.ErrMemberNotFound
}

// CheckAdd checks that a member with id and peerURLs may be added, as etcd
// checks a member add. Errors: cairn.ErrMemberExist (id is a member or was
// removed), cairn.ErrPeerURLExist (a member has one of peerURLs),
// cairn.ErrTooManyLearners (a learner, with MaxLearners learners already).
func (c *Cluster) CheckAdd(id uint64, peerURLs []string, learner bool) error {
	if c.Get(id) != nil || c.IsRemoved(id) {
		return cairn.ErrMemberExist
	}
	if err := c.checkURLsFree(0, peerURLs); err != nil {
		return err
	}
	learners := 0
	for _, m := range c.List() {
		if m.IsLearner {
			learners++
		}
	}
	if learner && learners >= MaxLearners {
		return cairn.ErrTooManyLearners
	}
	return nil
}

// CheckUpdate checks that member id may take peerURLs. Errors:
// cairn.ErrPeerURLExist (another member has one of them).
func (c *Cluster) CheckUpdate(id uint64, peerURLs []string) error {
	return c.checkURLsFree(id, peerURLs)
}

// checkURLsFree fails with cairn.ErrPeerURLExist when a member other than
// id has one of peerURLs.
func (c *Cluster) checkURLsFree(id uint64, peerURLs []string) error {
	for _, m := range c.List() {
		if m.ID == id {
			continue
		}
		for _, u := range m.PeerURLs {
			if slices.Contains(peerURLs, u) {
				return cairn.ErrPeerURLExist
			}
		}
	}
	return nil
}
