package store

import "github.com/cairnkv/cairn"

// Put writes one key in the batch, as etcd's Put.
//
// The key gets a new revision (the batch revision + 1, sub 0). If the key
// exists its create_revision stays and its version grows by one; otherwise
// create_revision is the new revision and version 1. IgnoreValue keeps the
// current value, IgnoreLease the current lease.
//
// The key is attached to the lease it names (req.Lease, or its current
// lease with IgnoreLease) and leaves the lease it had, if another; a lease
// of 0 attaches it to none.
//
// Errors, checked before anything is written: ErrLeaseNotFound if req.Lease
// is not 0 and not granted; ErrKeyNotFound if IgnoreValue or IgnoreLease
// names a key that does not exist. The response's
// Header.Revision is the new revision; PrevKV is the key before the put when
// asked for and it existed. The store does not validate req (see
// PutRequest.Validate).
func (b *Batch) Put(req *cairn.PutRequest) (*cairn.PutResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	// etcd checks the lease first outside a transaction.
	if req.Lease != cairn.NoLease && !b.s.hasLease(req.Lease) {
		return nil, cairn.ErrLeaseNotFound
	}
	if req.IgnoreValue || req.IgnoreLease {
		if ki := b.s.idx.get(req.Key); ki == nil || !ki.live() {
			return nil, cairn.ErrKeyNotFound
		}
	}
	w := b.beginWrite()
	resp, err := w.put(req)
	if err != nil {
		return nil, b.fail(err)
	}
	resp.Header.Revision = w.end()
	return resp, nil
}

// put writes req as the next change of w. The caller has checked the lease
// and, for IgnoreValue/IgnoreLease, that the key exists; any error is an
// internal one.
func (w *write) put(req *cairn.PutRequest) (*cairn.PutResponse, error) {
	b, s := w.b, w.b.s
	ki := s.idx.get(req.Key)
	live := ki != nil && ki.live()

	var (
		prev           record
		created, ver   int64
		value, lease   = req.Value, req.Lease
		rev            = revision{main: w.main, sub: w.sub}
		havePrev       bool
		resp           = &cairn.PutResponse{}
		prevEv, newEv  *cairn.KeyValue
		needPrevRecord = req.IgnoreValue || req.IgnoreLease || req.PrevKV || b.emit
	)
	if live {
		cur, c, v := ki.current()
		created, ver = c, v+1
		if needPrevRecord {
			if err := b.readRecord(cur, &prev); err != nil {
				return nil, err
			}
			havePrev = true
		}
	} else {
		created, ver = rev.main, 1
	}
	if req.IgnoreValue && havePrev {
		value = prev.value
	}
	if req.IgnoreLease && havePrev {
		lease = prev.lease
	}
	if havePrev {
		if req.PrevKV {
			resp.PrevKV = kvOf(&prev)
		}
		if b.emit {
			prevEv = kvOf(&prev)
		}
	}

	rec := record{
		key:            req.Key,
		value:          value,
		createRevision: created,
		modRevision:    rev.main,
		version:        ver,
		lease:          lease,
		dir:            req.Dir,
		action:         req.Action,
	}
	if b.emit {
		newEv = kvOf(&rec)
	}
	b.addRecord(rev, &rec) // copies: value may alias bbolt's pages

	b.lockIndex()
	if ki == nil {
		ki = s.idx.getOrCreate(req.Key)
	}
	ki.put(rev)
	s.mu.Unlock()
	b.setKeyLease(ki, lease)
	w.sub++

	if b.emit {
		b.events = append(b.events, cairn.Event{Type: cairn.EventPut, Kv: newEv, PrevKv: prevEv})
	}
	resp.Header.Revision = rev.main
	return resp, nil
}
