package store

import (
	"bytes"

	"github.com/cairnkv/cairn"
)

// Txn runs a transaction in the batch, as etcd's Txn.
//
// Every Compare of the transaction, and of every nested transaction on the
// path taken, is evaluated first, against the state before the transaction
// (etcd's rule: a nested transaction's compares do not see the outer
// transaction's writes). If all of a transaction's compares hold, its
// Success ops run, else its Failure ops, in order. Ops see the earlier
// writes of the transaction. All writes share one new main revision, with
// sub revisions in op order; a transaction that changes nothing keeps the
// revision.
//
// Compare rules (etcd's): with RangeEnd every key in the range must satisfy
// the compare; a missing key (or an empty range) compares as
// version/create/mod/lease 0, and fails every VALUE compare.
//
// Errors, checked on the path taken before anything is written, puts first
// then ranges: ErrKeyNotFound (IgnoreValue/IgnoreLease on a missing key),
// ErrLeaseNotFound (a lease other than 0 that is not granted), ErrFutureRev (a range revision
// above the revision before the transaction), ErrCompacted (a range revision
// other than 0 below the compacted revision; a negative one included, as
// etcd). The response's Header.Revision is the new revision, or the current
// one if nothing changed; the headers of nested responses follow etcd: a
// nested range or delete carries the revision it saw, a nested put the new
// revision, a nested transaction an empty header. The store does not
// validate req (see TxnRequest.Validate).
func (b *Batch) Txn(req *cairn.TxnRequest) (*cairn.TxnResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	path, err := b.evalPath(req, b.rev)
	if err != nil {
		return nil, b.fail(err)
	}
	if err := b.checkPath(path, checkPuts); err != nil {
		return nil, err
	}
	if err := b.checkPath(path, checkRanges); err != nil {
		return nil, err
	}
	w := b.beginWrite()
	resp, err := w.txn(path)
	if err != nil {
		return nil, b.fail(err)
	}
	resp.Header.Revision = w.end()
	return resp, nil
}

// txnPath is a transaction with its branch decided: the ops that run and,
// for each nested transaction among them, its own path.
type txnPath struct {
	succeeded bool
	ops       []cairn.RequestOp
	nested    []*txnPath // parallel to ops; nil for non-transaction ops
}

// evalPath decides the branch of t and of every nested transaction on the
// path, reading at atRev.
func (b *Batch) evalPath(t *cairn.TxnRequest, atRev int64) (*txnPath, error) {
	p := &txnPath{succeeded: true}
	for i := range t.Compare {
		ok, err := b.compare(&t.Compare[i], atRev)
		if err != nil {
			return nil, err
		}
		if !ok {
			p.succeeded = false
			break
		}
	}
	p.ops = t.Success
	if !p.succeeded {
		p.ops = t.Failure
	}
	for i := range p.ops {
		op := &p.ops[i]
		if op.Range != nil || op.Put != nil || op.DeleteRange != nil || op.Txn == nil {
			continue
		}
		if p.nested == nil {
			p.nested = make([]*txnPath, len(p.ops))
		}
		np, err := b.evalPath(op.Txn, atRev)
		if err != nil {
			return nil, err
		}
		p.nested[i] = np
	}
	return p, nil
}

// compare evaluates one Compare at atRev.
func (b *Batch) compare(c *cairn.Compare, atRev int64) (bool, error) {
	hits, _ := b.s.idx.scan(nil, c.Key, c.RangeEnd, atRev, -1)
	if len(hits) == 0 {
		if c.Target == cairn.CompareValue {
			// etcd: a value compare on missing keys always fails.
			return false, nil
		}
		return compareResult(c.Result, compareTarget(c, &hit{}, 0, nil)), nil
	}
	var r record
	for i := range hits {
		h := &hits[i]
		var lease int64
		var value []byte
		if c.Target == cairn.CompareValue || c.Target == cairn.CompareLease {
			if err := b.readRecord(h.rev, &r); err != nil {
				return false, err
			}
			lease, value = r.lease, r.value
		}
		if !compareResult(c.Result, compareTarget(c, h, lease, value)) {
			return false, nil
		}
	}
	return true, nil
}

// compareTarget compares the key's field named by c.Target with c's operand:
// -1, 0 or 1. An unknown target compares equal, as etcd.
func compareTarget(c *cairn.Compare, h *hit, lease int64, value []byte) int {
	switch c.Target {
	case cairn.CompareVersion:
		return cmpInt64(h.ver, c.Version)
	case cairn.CompareCreate:
		return cmpInt64(h.created, c.CreateRevision)
	case cairn.CompareMod:
		return cmpInt64(h.rev.main, c.ModRevision)
	case cairn.CompareValue:
		return bytes.Compare(value, c.Value)
	case cairn.CompareLease:
		return cmpInt64(lease, c.Lease)
	}
	return 0
}

// compareResult applies c.Result to a comparison; an unknown result holds,
// as etcd.
func compareResult(res cairn.CompareResult, cmp int) bool {
	switch res {
	case cairn.CompareEqual:
		return cmp == 0
	case cairn.CompareNotEqual:
		return cmp != 0
	case cairn.CompareGreater:
		return cmp > 0
	case cairn.CompareLess:
		return cmp < 0
	}
	return true
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type checkKind int

const (
	checkPuts checkKind = iota
	checkRanges
)

// checkPath checks the ops of the path that can fail, against the state
// before the transaction.
func (b *Batch) checkPath(p *txnPath, kind checkKind) error {
	for i := range p.ops {
		op := &p.ops[i]
		switch {
		case op.Range != nil:
			if kind != checkRanges || op.Range.Revision == 0 {
				continue
			}
			if op.Range.Revision > b.rev {
				return cairn.ErrFutureRev
			}
			if op.Range.Revision < b.compactRev {
				return cairn.ErrCompacted
			}
		case op.Put != nil:
			if kind != checkPuts {
				continue
			}
			if op.Put.IgnoreValue || op.Put.IgnoreLease {
				if ki := b.s.idx.get(op.Put.Key); ki == nil || !ki.live() {
					return cairn.ErrKeyNotFound
				}
			}
			if op.Put.Lease != cairn.NoLease && !b.s.hasLease(op.Put.Lease) {
				return cairn.ErrLeaseNotFound
			}
		case op.DeleteRange != nil:
		case op.Txn != nil:
			if err := b.checkPath(p.nested[i], kind); err != nil {
				return err
			}
		}
	}
	return nil
}

// txn runs the ops of p as part of w.
func (w *write) txn(p *txnPath) (*cairn.TxnResponse, error) {
	resp := &cairn.TxnResponse{Succeeded: p.succeeded, Responses: make([]cairn.ResponseOp, len(p.ops))}
	for i := range p.ops {
		op := &p.ops[i]
		var err error
		switch {
		case op.Range != nil:
			resp.Responses[i].Range, err = w.b.rangeAt(op.Range, w.visibleRev())
		case op.Put != nil:
			resp.Responses[i].Put, err = w.put(op.Put)
		case op.DeleteRange != nil:
			resp.Responses[i].DeleteRange, err = w.deleteRange(op.DeleteRange)
		case op.Txn != nil:
			resp.Responses[i].Txn, err = w.txn(p.nested[i])
		}
		if err != nil {
			return nil, err
		}
	}
	return resp, nil
}
