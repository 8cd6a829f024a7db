package store

import (
	"bytes"
	"errors"
	"slices"
	"sync"

	"github.com/cairnkv/cairn"
)

// Leases in the store: the granted leases (ID and granted TTL) and, for
// each, the keys attached to it. doc.go ("Leases") tells the story; the
// lease bucket's bytes are in layout.go. Grants and revokes reach the
// "leases" bucket through Batch.stageWrite, with the rest of their batch.
//
// The store knows no time: a lease lives until it is revoked, by a client
// or by the leader's lessor when it expires (package server), through
// Batch.LeaseRevoke, which deletes the lease's keys in one revision.

// leaseRec is one granted lease in memory: its granted TTL and the keys
// attached to it (the live keys whose newest put named it).
type leaseRec struct {
	ttl  int64
	v2   bool // granted for a v2 TTL
	keys map[*keyIndex]struct{}
}

// leaseSet is the store's in-memory lease state. The applier changes it as
// it applies, under mu; readers (Leases, Lease, LeaseKeys) take mu shared.
// Lock order: Store.mu, if held, is taken before leaseSet.mu.
type leaseSet struct {
	mu     sync.RWMutex
	leases map[int64]*leaseRec
}

// errNoLeaseID: a grant of lease ID 0, which means "no lease". The server
// picks an ID before it proposes a grant, so this is a caller's bug.
var errNoLeaseID = errors.New("store: lease ID 0 cannot be granted")

// LeaseGrant grants lease req.ID with TTL req.TTL (seconds) in the batch,
// as etcd's lessor Grant at apply. It takes no revision: the response's
// Header.Revision is the current one. The store keeps the TTL as given (the
// server raises it to its minimum before proposing) and never expires the
// lease itself.
//
// Errors, before anything changes: ErrLeaseExists if req.ID is granted;
// ErrLeaseTTLTooLarge above MaxLeaseTTL; an error (not a sentinel, not
// breaking the batch) for ID NoLease, which the server must replace by an
// ID of its choice.
func (b *Batch) LeaseGrant(req *cairn.LeaseGrantRequest) (*cairn.LeaseGrantResponse, error) {
	return b.grant(req, false)
}

// LeaseGrantV2TTL grants a lease as LeaseGrant does, marked as the lease of
// a v2 TTL (cairn.LeaseRecord.V2TTL): package v2store grants one for each
// node written with a TTL.
func (b *Batch) LeaseGrantV2TTL(req *cairn.LeaseGrantRequest) (*cairn.LeaseGrantResponse, error) {
	return b.grant(req, true)
}

func (b *Batch) grant(req *cairn.LeaseGrantRequest, v2TTL bool) (*cairn.LeaseGrantResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	switch {
	case req.ID == cairn.NoLease:
		return nil, errNoLeaseID
	case req.TTL > cairn.MaxLeaseTTL:
		return nil, cairn.ErrLeaseTTLTooLarge
	}
	ls := &b.s.leases
	ls.mu.Lock()
	if ls.leases[req.ID] != nil {
		ls.mu.Unlock()
		return nil, cairn.ErrLeaseExists
	}
	ls.leases[req.ID] = &leaseRec{ttl: req.TTL, v2: v2TTL}
	ls.mu.Unlock()
	b.stageWrite(bucketLeases, leaseKey(req.ID), encodeLease(req.TTL, v2TTL))
	resp := &cairn.LeaseGrantResponse{ID: req.ID, TTL: req.TTL}
	resp.Header.Revision = b.rev
	return resp, nil
}

// LeaseRevoke revokes lease req.ID in the batch and deletes every key
// attached to it, as etcd's lessor Revoke: all the deletions share one new
// main revision, in ascending key order (sub revisions 0, 1, 2...), like one
// DeleteRange; a lease without keys takes no revision. The response's
// Header.Revision is that revision, or the current one.
//
// Errors: ErrLeaseNotFound if the lease is not granted (nothing changes);
// otherwise only internal ones.
func (b *Batch) LeaseRevoke(req *cairn.LeaseRevokeRequest) (*cairn.LeaseRevokeResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	ls := &b.s.leases
	ls.mu.RLock()
	l := ls.leases[req.ID]
	var victims []*keyIndex
	if l != nil {
		victims = make([]*keyIndex, 0, len(l.keys))
		for ki := range l.keys {
			victims = append(victims, ki)
		}
	}
	ls.mu.RUnlock()
	if l == nil {
		return nil, cairn.ErrLeaseNotFound
	}
	slices.SortFunc(victims, func(a, b *keyIndex) int { return bytes.Compare(a.key, b.key) })

	w := b.beginWrite()
	if _, err := w.deleteKeys(victims, false, cairn.ActionExpire); err != nil {
		return nil, b.fail(err)
	}
	ls.mu.Lock()
	delete(ls.leases, req.ID)
	ls.mu.Unlock()
	b.stageWrite(bucketLeases, leaseKey(req.ID), nil)
	resp := &cairn.LeaseRevokeResponse{}
	resp.Header.Revision = w.end()
	return resp, nil
}

// HasLease reports whether lease id is granted, as the batch sees it
// (its own grants and revokes included). NoLease is never granted.
func (b *Batch) HasLease(id int64) bool { return b.s.hasLease(id) }

// Lease returns lease id as the batch has it so far, and whether it is
// granted.
func (b *Batch) Lease(id int64) (cairn.LeaseRecord, bool) { return b.s.Lease(id) }

func (s *Store) hasLease(id int64) bool {
	s.leases.mu.RLock()
	defer s.leases.mu.RUnlock()
	return s.leases.leases[id] != nil
}

// setKeyLease records that the newest put of the live key ki names lease
// (NoLease to detach it, as a delete does), moving it between the leases'
// key sets. lease, if not NoLease, must be granted.
func (b *Batch) setKeyLease(ki *keyIndex, lease int64) {
	if ki.lease == lease {
		return
	}
	ls := &b.s.leases
	ls.mu.Lock()
	if old := ls.leases[ki.lease]; old != nil {
		delete(old.keys, ki)
	}
	if l := ls.leases[lease]; l != nil {
		if l.keys == nil {
			l.keys = make(map[*keyIndex]struct{})
		}
		l.keys[ki] = struct{}{}
	}
	ls.mu.Unlock()
	ki.lease = lease
}

// Leases returns every granted lease in ascending ID order, as the applied
// batches left them.
func (s *Store) Leases() []cairn.LeaseRecord {
	s.leases.mu.RLock()
	out := make([]cairn.LeaseRecord, 0, len(s.leases.leases))
	for id, l := range s.leases.leases {
		out = append(out, cairn.LeaseRecord{ID: id, TTL: l.ttl, V2TTL: l.v2})
	}
	s.leases.mu.RUnlock()
	slices.SortFunc(out, func(a, b cairn.LeaseRecord) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Lease returns lease id and whether it is granted.
func (s *Store) Lease(id int64) (cairn.LeaseRecord, bool) {
	s.leases.mu.RLock()
	defer s.leases.mu.RUnlock()
	l := s.leases.leases[id]
	if l == nil {
		return cairn.LeaseRecord{}, false
	}
	return cairn.LeaseRecord{ID: id, TTL: l.ttl, V2TTL: l.v2}, true
}

// LeaseKeys returns the keys attached to lease id in ascending order
// (caller-owned copies), and whether the lease is granted.
func (s *Store) LeaseKeys(id int64) ([][]byte, bool) {
	s.leases.mu.RLock()
	l := s.leases.leases[id]
	if l == nil {
		s.leases.mu.RUnlock()
		return nil, false
	}
	n := 0
	for ki := range l.keys {
		n += len(ki.key)
	}
	buf := make([]byte, 0, n)
	keys := make([][]byte, 0, len(l.keys))
	for ki := range l.keys {
		start := len(buf)
		buf = append(buf, ki.key...)
		keys = append(keys, buf[start:len(buf):len(buf)])
	}
	s.leases.mu.RUnlock()
	slices.SortFunc(keys, bytes.Compare)
	return keys, true
}

// LeaseKeys returns the keys attached to lease id as the batch sees them
// (its own puts, deletes and revokes included), as Store.LeaseKeys.
func (b *Batch) LeaseKeys(id int64) ([][]byte, bool) { return b.s.LeaseKeys(id) }
