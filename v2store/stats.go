package v2store

import (
	"errors"
	"sync/atomic"

	"github.com/cairnkv/cairn"
)

// Stats counts a member's v2 requests by kind and outcome, and the v2 TTLs
// that ran out, as etcd's v2 store stats do (GET /v2/stats/store). It is
// safe for concurrent use; the zero value is ready.
type Stats struct {
	ok, fail [kinds]atomic.Uint64
	expired  atomic.Uint64
}

// The kinds of v2 request the stats count, as etcd's.
const (
	kindGet = iota
	kindSet
	kindDelete
	kindUpdate
	kindCreate
	kindCAS
	kindCAD
	kinds
)

// kindOf returns the kind etcd's stats count a v2 write under.
func kindOf(req *Request) int {
	switch req.Method {
	case MethodPost:
		return kindCreate
	case MethodDelete:
		if req.PrevValue != "" || req.PrevIndex != 0 {
			return kindCAD
		}
		return kindDelete
	}
	switch {
	case req.PrevExist != nil && !*req.PrevExist:
		return kindCreate
	case req.PrevValue != "" || req.PrevIndex != 0:
		return kindCAS
	case req.PrevExist != nil:
		return kindUpdate
	}
	return kindSet
}

// CountWrite counts a v2 write that ended with err: a v2 answer (nil or an
// *Error) counts as a success or a failure of its kind (set, create,
// update, compareAndSwap, delete, compareAndDelete); a failure of the
// member (a timeout, a stop) is not counted, as etcd counts only what its
// store answered.
func (s *Stats) CountWrite(req *Request, err error) { s.count(kindOf(req), err) }

// CountGet counts a v2 read that ended with err, as CountWrite.
func (s *Stats) CountGet(err error) { s.count(kindGet, err) }

// CountExpire counts a v2 TTL that ran out.
func (s *Stats) CountExpire() { s.expired.Add(1) }

func (s *Stats) count(kind int, err error) {
	var e *Error
	switch {
	case err == nil:
		s.ok[kind].Add(1)
	case errors.As(err, &e):
		s.fail[kind].Add(1)
	}
}

// Snapshot returns the counters as /v2/stats/store shows them (Watchers,
// the open v2 waits, is the HTTP layer's and left 0).
func (s *Stats) Snapshot() cairn.V2StoreStats {
	return cairn.V2StoreStats{
		GetsSuccess: s.ok[kindGet].Load(), GetsFail: s.fail[kindGet].Load(),
		SetsSuccess: s.ok[kindSet].Load(), SetsFail: s.fail[kindSet].Load(),
		DeleteSuccess: s.ok[kindDelete].Load(), DeleteFail: s.fail[kindDelete].Load(),
		UpdateSuccess: s.ok[kindUpdate].Load(), UpdateFail: s.fail[kindUpdate].Load(),
		CreateSuccess: s.ok[kindCreate].Load(), CreateFail: s.fail[kindCreate].Load(),
		CompareAndSwapSuccess: s.ok[kindCAS].Load(), CompareAndSwapFail: s.fail[kindCAS].Load(),
		CompareAndDeleteSuccess: s.ok[kindCAD].Load(), CompareAndDeleteFail: s.fail[kindCAD].Load(),
		ExpireCount: s.expired.Load(),
	}
}
