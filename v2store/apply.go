package v2store

import (
	"fmt"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// Apply runs the v2 write req in the batch b, at apply time, as ONE store
// transaction (one revision, atomic): it reads what it depends on through
// the batch, then either returns a v2 *Error having written nothing, or
// writes every change in one b.Txn. The returned event's Index is the new
// revision. Errors that are not *Error are the store's own (internal:
// they break the batch).
//
// The v2 semantics are etcd 3.4's (v2store Set, Create, Update,
// CompareAndSwap, Delete, CompareAndDelete) over the representation of
// docs/v2-mapping.md; where they differ it says so there.
func (t *Tree) Apply(b *store.Batch, req *Request) (*Event, error) {
	if req.Path == "/" && req.Method != MethodPost {
		return nil, NewError(EcodeRootROnly, "/", b.Rev())
	}
	switch req.Method {
	case MethodPut:
		return t.applyPut(b, req)
	case MethodPost:
		return t.applyPost(b, req)
	case MethodDelete:
		return t.applyDelete(b, req)
	}
	return nil, fmt.Errorf("v2store: unknown method %d", req.Method)
}

// parents returns the puts of the directory markers missing above the
// clean path p (outermost first), or *Error 104 naming the first ancestor
// that is a file.
func (t *Tree) parents(b *store.Batch, p string) ([]cairn.RequestOp, error) {
	var ops []cairn.RequestOp
	for _, a := range ancestors(p) {
		if ops == nil {
			n, err := t.lookup(b, 0, a)
			if err != nil {
				return nil, err
			}
			if n.exists {
				if !n.dir {
					return nil, NewError(EcodeNotDir, a, b.Rev())
				}
				continue
			}
		}
		// Missing: so is everything below it.
		ops = append(ops, markerOp(t.Key(a), cairn.ActionImplied))
	}
	return ops, nil
}

// markerOp puts the directory marker key.
func markerOp(key []byte, action cairn.Action) cairn.RequestOp {
	return cairn.RequestOp{Put: &cairn.PutRequest{Key: key, Dir: true, Action: action}}
}

// commit runs ops, whose last one is the put target, as one transaction
// (a lone put as a plain put: the same revision and record, without the
// transaction's checks) and returns the new revision and the target key as
// written (prev: the key before, nil if it did not exist), without reading
// it back.
func commit(b *store.Batch, ops []cairn.RequestOp, target *cairn.PutRequest, prev *cairn.KeyValue) (int64, *cairn.KeyValue, error) {
	var rev int64
	if len(ops) == 1 {
		resp, err := b.Put(target)
		if err != nil {
			return 0, nil, err
		}
		rev = resp.Header.Revision
	} else {
		resp, err := b.Txn(&cairn.TxnRequest{Success: ops})
		if err != nil {
			return 0, nil, err
		}
		rev = resp.Header.Revision
	}
	kv := &cairn.KeyValue{Key: target.Key, Value: target.Value, Lease: target.Lease, Dir: target.Dir,
		Action: target.Action, CreateRevision: rev, ModRevision: rev, Version: 1}
	if prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
	}
	return rev, kv, nil
}

// compareFailed checks prevValue/prevIndex against the file kv and returns
// etcd's cause when they fail: "[prevValue != value]", "[prevIndex !=
// modifiedIndex]", or both, in that order.
func compareFailed(req *Request, kv *cairn.KeyValue) (string, bool) {
	valueOK := req.PrevValue == "" || req.PrevValue == string(kv.Value)
	indexOK := req.PrevIndex == 0 || req.PrevIndex == uint64(kv.ModRevision)
	switch {
	case valueOK && indexOK:
		return "", false
	case !valueOK && !indexOK:
		return fmt.Sprintf("[%s != %s] [%d != %d]", req.PrevValue, kv.Value, req.PrevIndex, kv.ModRevision), true
	case !valueOK:
		return fmt.Sprintf("[%s != %s]", req.PrevValue, kv.Value), true
	}
	return fmt.Sprintf("[%d != %d]", req.PrevIndex, kv.ModRevision), true
}

// v2LeaseBase is where the IDs of the leases of v2 TTLs start: 1<<62 plus
// the revision of the write, the next free one if taken. The ID depends
// only on the state, so every member grants the same. The ID marks
// nothing: the lease record's V2TTL does (store.Batch.LeaseGrantV2TTL).
const v2LeaseBase = int64(1) << 62

// grantTTL grants the lease of a v2 TTL in b (the write will be revision
// b.Rev()+1) and records it in ev. A TTL above cairn.MaxLeaseTTL is
// refused with 202 as etcd's.
func grantTTL(b *store.Batch, ttl int64, ev *Event) (int64, error) {
	if ttl > cairn.MaxLeaseTTL {
		return 0, NewError(EcodeTTLNaN, `invalid value for "ttl"`, b.Rev())
	}
	id := v2LeaseBase | (b.Rev() + 1)
	for b.HasLease(id) {
		id++
	}
	if _, err := b.LeaseGrantV2TTL(&cairn.LeaseGrantRequest{ID: id, TTL: ttl}); err != nil {
		return 0, err
	}
	ev.GrantedLease, ev.GrantedTTL = id, ttl
	return id, nil
}
