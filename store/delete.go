package store

import "github.com/cairnkv/cairn"

// DeleteRange deletes the keys named by req.Key and req.RangeEnd (with
// RangeRequest's conventions) in the batch, as etcd's DeleteRange.
//
// Each deleted key gets a tombstone at the new revision, sub revisions in
// ascending key order. Deleting nothing writes nothing and keeps the
// revision. The response's Header.Revision is the new revision, or the
// current one if nothing was deleted; Deleted counts the keys; PrevKvs holds
// them as they were, when asked for. Deleted keys leave their leases. It returns only internal errors. The
// store does not validate req (see DeleteRangeRequest.Validate).
func (b *Batch) DeleteRange(req *cairn.DeleteRangeRequest) (*cairn.DeleteRangeResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	w := b.beginWrite()
	resp, err := w.deleteRange(req)
	if err != nil {
		return nil, b.fail(err)
	}
	resp.Header.Revision = w.end()
	return resp, nil
}

// deleteRange deletes the live keys of the range as the next changes of w.
// It sees the request's own earlier changes.
func (w *write) deleteRange(req *cairn.DeleteRangeRequest) (*cairn.DeleteRangeResponse, error) {
	var victims []*keyIndex
	w.b.s.idx.visit(req.Key, req.RangeEnd, func(ki *keyIndex) bool {
		if ki.live() {
			victims = append(victims, ki)
		}
		return true
	})
	return w.deleteKeys(victims, req.PrevKV, req.Action)
}

// deleteKeys deletes the live keys victims, in that order, as the next
// changes of w, detaching them from their leases; prevKV asks for them as
// they were; action goes in the tombstones.
func (w *write) deleteKeys(victims []*keyIndex, prevKV bool, action cairn.Action) (*cairn.DeleteRangeResponse, error) {
	b, s := w.b, w.b.s
	resp := &cairn.DeleteRangeResponse{Deleted: int64(len(victims))}
	if len(victims) == 0 {
		resp.Header.Revision = w.visibleRev()
		return resp, nil
	}
	if prevKV {
		resp.PrevKVs = make([]*cairn.KeyValue, 0, len(victims))
	}
	var prev record
	for i, ki := range victims {
		rev := revision{main: w.main, sub: w.sub + int64(i)}
		var prevEv *cairn.KeyValue
		if prevKV || b.emit {
			cur, _, _ := ki.current()
			if err := b.readRecord(cur, &prev); err != nil {
				return nil, err
			}
			if prevKV {
				resp.PrevKVs = append(resp.PrevKVs, kvOf(&prev))
			}
			if b.emit {
				prevEv = kvOf(&prev)
			}
		}
		tomb := record{tombstone: true, key: ki.key, modRevision: rev.main, action: action}
		b.addRecord(rev, &tomb)
		if b.emit {
			b.events = append(b.events, cairn.Event{
				Type:   cairn.EventDelete,
				Kv:     &cairn.KeyValue{Key: append([]byte(nil), ki.key...), ModRevision: rev.main, Action: action},
				PrevKv: prevEv,
			})
		}
	}
	b.lockIndex()
	for i, ki := range victims {
		ki.tombstone(revision{main: w.main, sub: w.sub + int64(i)})
	}
	s.mu.Unlock()
	for _, ki := range victims {
		b.setKeyLease(ki, cairn.NoLease)
	}
	w.sub += int64(len(victims))
	resp.Header.Revision = w.main
	return resp, nil
}
