package concurrency

import (
	"context"
	"strconv"
	"time"

	"github.com/cairnkv/cairn"
)

// DefaultSessionTTL is the TTL, in seconds, of the lease granted for a
// lock or a campaign that names no lease: clientv3/concurrency's default
// session TTL, which etcd's v3lock and v3election use then. The lease is
// not kept alive (etcd's servers orphan the session too): the lock ends
// when it expires, unless a client keeps it alive or unlocks.
const DefaultSessionTTL = 60

// cleanupTimeout bounds the deletion of a waiter's key when its request
// ends before it got the lock.
const cleanupTimeout = 5 * time.Second

// Service serves locks and elections over a member's KV, lease and watch
// services. Its methods are safe for concurrent use.
type Service struct {
	b Backend
}

// New returns the service over b.
func New(b Backend) *Service { return &Service{b: b} }

// LockResponse answers Lock: the key that holds the lock (give it to
// Unlock) and the header of the read that saw the lock acquired. etcd's
// v3lockpb.LockResponse.
type LockResponse struct {
	Header cairn.ResponseHeader
	Key    []byte
}

// Lock acquires the lock name under lease (etcd's v3lock Lock): it puts
// the key name/<lease in hex> with the lease, unless the lease already
// holds it, and waits until every key of name/ created before it is
// deleted. lease 0 means a new lease of DefaultSessionTTL seconds. It
// waits as long as ctx lets it; when ctx ends first, its key is deleted.
// Errors: cairn.ErrLeaseNotFound (lease is not granted), those of the KV
// and watch services, ctx.Err().
func (s *Service) Lock(ctx context.Context, name []byte, lease int64) (*LockResponse, error) {
	key, hdr, err := s.enqueue(ctx, name, lease, nil)
	if err != nil {
		return nil, err
	}
	return &LockResponse{Header: *hdr, Key: key}, nil
}

// enqueue puts the key prefix/<lease> with value (unless the lease already
// holds it) and waits until it is the oldest key of prefix/; it returns the
// key and the header of the last read. This is clientv3/concurrency's
// Mutex.Lock, and Election.Campaign without its value update.
func (s *Service) enqueue(ctx context.Context, name []byte, lease int64, value []byte) ([]byte, *cairn.ResponseHeader, error) {
	if lease == 0 {
		g, err := s.b.LeaseGrant(ctx, &cairn.LeaseGrantRequest{TTL: DefaultSessionTTL})
		if err != nil {
			return nil, nil, err
		}
		lease = g.ID
	}
	pfx := append(append([]byte(nil), name...), '/')
	key := strconv.AppendInt(append([]byte(nil), pfx...), lease, 16)
	resp, err := s.b.Txn(ctx, &cairn.TxnRequest{
		Compare: []cairn.Compare{{Target: cairn.CompareCreate, Result: cairn.CompareEqual, Key: key}},
		Success: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: key, Value: value, Lease: lease}}, {Range: oldest(pfx)}},
		Failure: []cairn.RequestOp{{Range: &cairn.RangeRequest{Key: key}}, {Range: oldest(pfx)}},
	})
	if err != nil {
		return nil, nil, err
	}
	myRev := resp.Header.Revision
	if !resp.Succeeded {
		if kvs := resp.Responses[0].Range.Kvs; len(kvs) > 0 {
			myRev = kvs[0].CreateRevision
		}
	}
	hdr := &resp.Header
	if owner := resp.Responses[1].Range.Kvs; len(owner) == 0 || owner[0].CreateRevision != myRev {
		if hdr, err = waitDeletes(ctx, s.b, pfx, myRev-1); err != nil {
			// Leave the queue, with a context of its own: ctx is done.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_, _ = s.b.DeleteRange(dctx, &cairn.DeleteRangeRequest{Key: key})
			return nil, nil, err
		}
	}
	return key, hdr, nil
}

// Unlock releases a lock by deleting its key (etcd's v3lock Unlock); a key
// that is gone already is no error. It returns the delete's header.
func (s *Service) Unlock(ctx context.Context, key []byte) (*cairn.ResponseHeader, error) {
	resp, err := s.b.DeleteRange(ctx, &cairn.DeleteRangeRequest{Key: key})
	if err != nil {
		return nil, err
	}
	return &resp.Header, nil
}
