package cairn

import (
	"errors"
	"testing"
)

func TestValidateRequests(t *testing.T) {
	k := []byte("k")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"range ok", (&RangeRequest{Key: k}).Validate(), nil},
		{"range without key", (&RangeRequest{RangeEnd: k}).Validate(), ErrEmptyKey},
		{"range all sort options", (&RangeRequest{Key: k, SortOrder: SortDescend, SortTarget: SortByValue}).Validate(), nil},
		{"range bad sort order", (&RangeRequest{Key: k, SortOrder: 3}).Validate(), ErrInvalidSortOption},
		{"range bad sort target", (&RangeRequest{Key: k, SortTarget: -1}).Validate(), ErrInvalidSortOption},
		{"put ok", (&PutRequest{Key: k, Value: k}).Validate(), nil},
		{"put without key", (&PutRequest{Value: k}).Validate(), ErrEmptyKey},
		{"ignore_value with value", (&PutRequest{Key: k, Value: k, IgnoreValue: true}).Validate(), ErrValueProvided},
		{"ignore_value alone", (&PutRequest{Key: k, IgnoreValue: true}).Validate(), nil},
		{"ignore_lease with lease", (&PutRequest{Key: k, Lease: 1, IgnoreLease: true}).Validate(), ErrLeaseProvided},
		{"value checked before lease", (&PutRequest{Key: k, Value: k, IgnoreValue: true, Lease: 1, IgnoreLease: true}).Validate(), ErrValueProvided},
		{"ignore_value with lease is fine", (&PutRequest{Key: k, IgnoreValue: true, Lease: 1}).Validate(), nil},
		{"delete ok", (&DeleteRangeRequest{Key: k}).Validate(), nil},
		{"delete without key", (&DeleteRangeRequest{RangeEnd: k}).Validate(), ErrEmptyKey},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil && tt.err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func ops(n int, mk func(i int) RequestOp) []RequestOp {
	out := make([]RequestOp, n)
	for i := range out {
		out[i] = mk(i)
	}
	return out
}

func TestValidateTxn(t *testing.T) {
	put := func(k string) RequestOp { return RequestOp{Put: &PutRequest{Key: []byte(k)}} }
	del := func(k, end string) RequestOp {
		return RequestOp{DeleteRange: &DeleteRangeRequest{Key: []byte(k), RangeEnd: []byte(end)}}
	}
	get := func(k string) RequestOp { return RequestOp{Range: &RangeRequest{Key: []byte(k)}} }
	txn := func(then, els []RequestOp) RequestOp {
		return RequestOp{Txn: &TxnRequest{Success: then, Failure: els}}
	}
	distinct := func(i int) RequestOp { return put(string(rune('a'+i%26)) + string(rune('a'+i/26))) }
	cmpOn := func(k string) Compare { return Compare{Key: []byte(k)} }

	tests := []struct {
		name   string
		req    TxnRequest
		maxOps int
		want   error
	}{
		{name: "empty", want: nil},
		{name: "ops up to the limit", req: TxnRequest{Success: ops(128, distinct), Failure: ops(128, distinct)}, want: nil},
		{name: "too many success ops", req: TxnRequest{Success: ops(129, distinct)}, want: ErrTooManyOps},
		{name: "too many failure ops", req: TxnRequest{Failure: ops(129, distinct)}, want: ErrTooManyOps},
		{name: "too many compares", req: TxnRequest{Compare: make([]Compare, 129)}, want: ErrTooManyOps},
		{name: "custom limit", maxOps: 2, req: TxnRequest{Success: ops(3, distinct)}, want: ErrTooManyOps},
		// A nested txn gets what its parent left: 4 - 3 = 1 op.
		{name: "nested budget", maxOps: 4, req: TxnRequest{Success: []RequestOp{put("a"), put("b"), txn([]RequestOp{put("c"), put("d")}, nil)}}, want: ErrTooManyOps},
		{name: "nested within budget", maxOps: 4, req: TxnRequest{Success: []RequestOp{put("a"), put("b"), txn([]RequestOp{put("c")}, nil)}}, want: nil},
		{name: "compare without key", req: TxnRequest{Compare: []Compare{cmpOn("a"), {}}}, want: ErrEmptyKey},
		{name: "nested compare without key", req: TxnRequest{Success: []RequestOp{{Txn: &TxnRequest{Compare: []Compare{{}}}}}}, want: ErrEmptyKey},
		{name: "op without key", req: TxnRequest{Failure: []RequestOp{put("")}}, want: ErrEmptyKey},
		{name: "range op without key", req: TxnRequest{Success: []RequestOp{get("")}}, want: ErrEmptyKey},
		{name: "bad put op", req: TxnRequest{Success: []RequestOp{{Put: &PutRequest{Key: []byte("a"), Value: []byte("v"), IgnoreValue: true}}}}, want: ErrValueProvided},
		{name: "empty op", req: TxnRequest{Success: []RequestOp{{}}}, want: ErrKeyNotFound},
		{name: "shape is checked before duplicates", req: TxnRequest{Success: []RequestOp{put("a"), put("a"), {}}}, want: ErrKeyNotFound},

		{name: "put twice", req: TxnRequest{Success: []RequestOp{put("a"), put("a")}}, want: ErrDuplicateKey},
		{name: "put twice in failure", req: TxnRequest{Failure: []RequestOp{put("a"), put("a")}}, want: ErrDuplicateKey},
		{name: "same key in success and failure", req: TxnRequest{Success: []RequestOp{put("a")}, Failure: []RequestOp{put("a")}}, want: nil},
		{name: "put and range", req: TxnRequest{Success: []RequestOp{put("a"), get("a")}}, want: nil},
		{name: "put then delete of the key", req: TxnRequest{Success: []RequestOp{put("a"), del("a", "")}}, want: ErrDuplicateKey},
		{name: "delete then put", req: TxnRequest{Success: []RequestOp{del("a", ""), put("a")}}, want: ErrDuplicateKey},
		{name: "put inside a deleted range", req: TxnRequest{Success: []RequestOp{del("a", "c"), put("b")}}, want: ErrDuplicateKey},
		{name: "put at a range's end", req: TxnRequest{Success: []RequestOp{del("a", "c"), put("c")}}, want: nil},
		{name: "deletes may overlap", req: TxnRequest{Success: []RequestOp{del("a", "c"), del("b", "d"), del("b", "")}}, want: nil},
		{name: "nested puts collide", req: TxnRequest{Success: []RequestOp{txn([]RequestOp{put("a")}, nil), txn([]RequestOp{put("a")}, nil)}}, want: ErrDuplicateKey},
		{name: "nested then/else may share a key", req: TxnRequest{Success: []RequestOp{txn([]RequestOp{put("a")}, []RequestOp{put("a")})}}, want: nil},
		{name: "nested else collides with an earlier sibling", req: TxnRequest{Success: []RequestOp{txn([]RequestOp{put("a")}, nil), txn(nil, []RequestOp{put("a")})}}, want: ErrDuplicateKey},
		{name: "nested put under an outer delete", req: TxnRequest{Success: []RequestOp{del("a", "z"), txn([]RequestOp{put("b")}, nil)}}, want: ErrDuplicateKey},
		{name: "outer put over a nested put", req: TxnRequest{Success: []RequestOp{put("b"), txn(nil, []RequestOp{put("b")})}}, want: ErrDuplicateKey},
		{name: "outer put under a nested delete", req: TxnRequest{Success: []RequestOp{put("b"), txn([]RequestOp{del("a", "c")}, nil)}}, want: ErrDuplicateKey},
		{name: "deeply nested", req: TxnRequest{Success: []RequestOp{put("q"), txn([]RequestOp{txn([]RequestOp{put("q")}, nil)}, nil)}}, want: ErrDuplicateKey},
		// etcd's quirks, checked against etcd 3.4.23:
		{name: "etcd: delete to \\x00 conflicts with nothing", req: TxnRequest{Success: []RequestOp{del("a", "\x00"), put("b")}}, want: nil},
		{name: "etcd: nested put then nested delete is allowed", req: TxnRequest{Success: []RequestOp{txn([]RequestOp{put("q")}, nil), txn([]RequestOp{del("q", "")}, nil)}}, want: nil},
		{name: "etcd: nested delete then nested put is not", req: TxnRequest{Success: []RequestOp{txn([]RequestOp{del("q", "")}, nil), txn([]RequestOp{put("q")}, nil)}}, want: ErrDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate(tt.maxOps)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}
