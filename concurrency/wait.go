package concurrency

import (
	"context"

	"github.com/cairnkv/cairn"
)

// Backend is what the services need from a member: the contract's KV,
// lease and watch services.
type Backend interface {
	cairn.KV
	cairn.Lease
	cairn.Watcher
}

// PrefixEnd returns the range end of every key starting with p, as
// clientv3.GetPrefixRangeEnd.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0} // every key from p on
}

// oldest returns the key of prefix pfx with the lowest create_revision
// (nil if there is none), as a range request.
func oldest(pfx []byte) *cairn.RangeRequest {
	return &cairn.RangeRequest{Key: pfx, RangeEnd: PrefixEnd(pfx), Limit: 1,
		SortTarget: cairn.SortByCreate, SortOrder: cairn.SortAscend}
}

// waitDeletes waits until no key of prefix pfx has a create_revision of
// maxCreateRev or less, and returns the header of the read that found
// none. It waits for the newest such key to be deleted, then looks again,
// as clientv3/concurrency's waitDeletes: each waiter watches one key.
func waitDeletes(ctx context.Context, b Backend, pfx []byte, maxCreateRev int64) (*cairn.ResponseHeader, error) {
	for {
		resp, err := b.Range(ctx, &cairn.RangeRequest{Key: pfx, RangeEnd: PrefixEnd(pfx), Limit: 1,
			SortTarget: cairn.SortByCreate, SortOrder: cairn.SortDescend, MaxCreateRevision: maxCreateRev})
		if err != nil {
			return nil, err
		}
		if len(resp.Kvs) == 0 {
			return &resp.Header, nil
		}
		if err := waitDelete(ctx, b, resp.Kvs[0].Key, resp.Header.Revision); err != nil {
			return nil, err
		}
	}
}

// waitDelete waits for the deletion of key at a revision after rev (the
// revision at which it was seen).
func waitDelete(ctx context.Context, b Backend, key []byte, rev int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := b.Watch(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	st.Create(&cairn.WatchCreateRequest{Key: key, StartRevision: rev + 1,
		Filters: []cairn.WatchFilter{cairn.FilterNoPut}})
	var resps []*cairn.WatchResponse
	for {
		resps, err = st.Next(ctx, resps[:0])
		for _, r := range resps {
			if r.Canceled {
				// Compacted past rev: the key may be gone; look again.
				return nil
			}
			for _, ev := range r.Events {
				if ev.Type == cairn.EventDelete {
					return nil
				}
			}
		}
		if err != nil {
			return err
		}
	}
}
