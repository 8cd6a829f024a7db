package v2store

import (
	"errors"
	"testing"

	"github.com/cairnkv/cairn"
)

func TestStatsCountsByKind(t *testing.T) {
	no, yes := false, true
	var s Stats
	refused := NewError(EcodeKeyNotFound, "/a", 1)
	s.CountWrite(&Request{Method: MethodPut, Path: "/a"}, nil)
	s.CountWrite(&Request{Method: MethodPut, Path: "/a", PrevExist: &no}, refused)
	s.CountWrite(&Request{Method: MethodPost, Path: "/q"}, nil)
	s.CountWrite(&Request{Method: MethodPut, Path: "/a", PrevExist: &yes}, nil)
	s.CountWrite(&Request{Method: MethodPut, Path: "/a", PrevValue: "x"}, refused)
	s.CountWrite(&Request{Method: MethodPut, Path: "/a", PrevIndex: 3}, nil)
	s.CountWrite(&Request{Method: MethodDelete, Path: "/a"}, nil)
	s.CountWrite(&Request{Method: MethodDelete, Path: "/a", PrevIndex: 3}, refused)
	s.CountWrite(&Request{Method: MethodPut, Path: "/a"}, errors.New("etcdserver: request timed out")) // not the store's answer: not counted
	s.CountGet(nil)
	s.CountGet(refused)
	s.CountExpire()
	want := cairn.V2StoreStats{GetsSuccess: 1, GetsFail: 1, SetsSuccess: 1, CreateSuccess: 1, CreateFail: 1,
		UpdateSuccess: 1, CompareAndSwapSuccess: 1, CompareAndSwapFail: 1, DeleteSuccess: 1, CompareAndDeleteFail: 1,
		ExpireCount: 1}
	if got := s.Snapshot(); got != want {
		t.Errorf("stats:\n got %+v\nwant %+v", got, want)
	}
}
