package v2store

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// ExpireDirs runs, in the batch, the part of the expiry of lease id that a
// plain lease revoke does not do: a v2 directory whose TTL runs out goes
// with everything under it. For each directory marker attached to the
// lease it deletes the keys under the directory (cairn.ActionImplied) and
// the marker (cairn.ActionExpire) in one transaction; the caller then
// revokes the lease, which deletes the lease's other keys (files: expire).
// A lease without directories changes nothing here.
func ExpireDirs(b *store.Batch, id int64) error {
	keys, ok := b.LeaseKeys(id)
	if !ok {
		return nil
	}
	var ops []cairn.RequestOp
	for _, k := range keys {
		rr, err := b.Range(&cairn.RangeRequest{Key: k})
		if err != nil {
			return err
		}
		if len(rr.Kvs) != 1 || !rr.Kvs[0].Dir {
			continue
		}
		pfx := append(append([]byte(nil), k...), '/')
		ops = append(ops,
			cairn.RequestOp{DeleteRange: &cairn.DeleteRangeRequest{Key: pfx, RangeEnd: prefixEnd(pfx), Action: cairn.ActionImplied}},
			cairn.RequestOp{DeleteRange: &cairn.DeleteRangeRequest{Key: k, Action: cairn.ActionExpire}})
	}
	if len(ops) == 0 {
		return nil
	}
	_, err := b.Txn(&cairn.TxnRequest{Success: ops})
	return err
}
