package cairn

import "context"

// KeyValue is one version of one key, as etcd's mvccpb.KeyValue.
//
// CreateRevision is the main revision of the put that created the key in its
// current generation; ModRevision the main revision of its last modification;
// Version counts the puts since creation (1 after the first put; a delete
// resets the key, so the next put starts a new generation at Version 1).
// Lease is the id of the attached lease, 0 for none.
//
// Dir and Action are cairn's v2 metadata, not part of etcd's v3 KeyValue
// (the v3 JSON API does not show them): Dir marks a v2 directory node (its
// value is empty); Action is the v2 action of the write that made this
// version (ActionNone for v3 writes). See docs/v2-mapping.md.
//
// Slices returned by the store are owned by the caller: they never alias
// bbolt's memory map.
type KeyValue struct {
	Key            []byte
	CreateRevision int64
	ModRevision    int64
	Version        int64
	Value          []byte
	Lease          int64
	Dir            bool
	Action         Action
}

// ResponseHeader is the header etcd puts on every response. The store fills
// Revision (the store revision the response reflects); the server fills the
// cluster and member ids and the raft term.
type ResponseHeader struct {
	ClusterID uint64
	MemberID  uint64
	Revision  int64
	RaftTerm  uint64
}

// SortOrder is etcd's RangeRequest.SortOrder.
type SortOrder int32

// Sort orders, numbered as in etcd's rpc.proto.
const (
	SortNone SortOrder = iota
	SortAscend
	SortDescend
)

// SortTarget is etcd's RangeRequest.SortTarget.
type SortTarget int32

// Sort targets, numbered as in etcd's rpc.proto.
const (
	SortByKey SortTarget = iota
	SortByVersion
	SortByCreate
	SortByMod
	SortByValue
)

// RangeRequest reads keys, as etcd's RangeRequest.
//
// Key alone names one key. With RangeEnd the range is [Key, RangeEnd).
// RangeEnd "\x00" means every key >= Key; Key "\x00" with RangeEnd "\x00" means
// all keys. Limit 0 means no limit. Revision 0 means the current revision.
// The Min/Max filters are applied after the range, 0 meaning no filter.
// Serializable is acted on by the server (it skips ReadIndex); the store
// ignores it.
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type RangeRequest struct {
	Key               []byte     `json:"Key"`
	RangeEnd          []byte     `json:"RangeEnd"`
	Limit             int64      `json:"Limit"`
	Revision          int64      `json:"Revision"`
	SortOrder         SortOrder  `json:"SortOrder"`
	SortTarget        SortTarget `json:"SortTarget"`
	Serializable      bool       `json:"Serializable"`
	KeysOnly          bool       `json:"KeysOnly"`
	CountOnly         bool       `json:"CountOnly"`
	MinModRevision    int64      `json:"MinModRevision"`
	MaxModRevision    int64      `json:"MaxModRevision"`
	MinCreateRevision int64      `json:"MinCreateRevision"`
	MaxCreateRevision int64      `json:"MaxCreateRevision"`
}

// RangeResponse answers a RangeRequest. Count is the number of keys in the
// range (before Limit); More says Limit cut the result.
type RangeResponse struct {
	Header ResponseHeader
	Kvs    []*KeyValue
	More   bool
	Count  int64
}

// PutRequest writes one key, as etcd's PutRequest.
//
// IgnoreValue keeps the current value (the key must exist: ErrKeyNotFound
// otherwise); IgnoreLease keeps the current lease (likewise). Without
// IgnoreLease the key's lease becomes Lease (0 detaches it).
//
// Dir and Action are set by package v2store only (v3 requests leave them
// zero): Dir writes a v2 directory node, Action records the v2 action in
// the revision (see KeyValue).
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type PutRequest struct {
	Key         []byte `json:"Key"`
	Value       []byte `json:"Value"`
	Lease       int64  `json:"Lease"`
	PrevKV      bool   `json:"PrevKV"`
	IgnoreValue bool   `json:"IgnoreValue"`
	IgnoreLease bool   `json:"IgnoreLease"`
	Dir         bool   `json:"Dir,omitempty"`
	Action      Action `json:"Action,omitempty"`
}

// PutResponse answers a PutRequest; PrevKV is set when asked for and the key
// existed.
type PutResponse struct {
	Header ResponseHeader
	PrevKV *KeyValue
}

// DeleteRangeRequest deletes a key or a range, with RangeEnd as in
// RangeRequest. Action, set by package v2store only, records the v2 action
// in the tombstones (see KeyValue).
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type DeleteRangeRequest struct {
	Key      []byte `json:"Key"`
	RangeEnd []byte `json:"RangeEnd"`
	PrevKV   bool   `json:"PrevKV"`
	Action   Action `json:"Action,omitempty"`
}

// DeleteRangeResponse answers a DeleteRangeRequest: Deleted counts the keys
// deleted; PrevKVs holds them when asked for.
type DeleteRangeResponse struct {
	Header  ResponseHeader
	Deleted int64
	PrevKVs []*KeyValue
}

// CompareResult is etcd's Compare.CompareResult.
type CompareResult int32

// Compare results, numbered as in etcd's rpc.proto.
const (
	CompareEqual CompareResult = iota
	CompareGreater
	CompareLess
	CompareNotEqual
)

// CompareTarget is etcd's Compare.CompareTarget.
type CompareTarget int32

// Compare targets, numbered as in etcd's rpc.proto.
const (
	CompareVersion CompareTarget = iota
	CompareCreate
	CompareMod
	CompareValue
	CompareLease
)

// Compare is one guard of a transaction, as etcd's Compare. With RangeEnd
// every key in the range must satisfy it. A missing key compares as
// Version/CreateRevision/ModRevision/Lease 0 and, for Value, fails every
// comparison (etcd's rule).
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type Compare struct {
	Result         CompareResult `json:"Result"`
	Target         CompareTarget `json:"Target"`
	Key            []byte        `json:"Key"`
	RangeEnd       []byte        `json:"RangeEnd"`
	Version        int64         `json:"Version"`
	CreateRevision int64         `json:"CreateRevision"`
	ModRevision    int64         `json:"ModRevision"`
	Value          []byte        `json:"Value"`
	Lease          int64         `json:"Lease"`
}

// RequestOp is one operation in a transaction branch; exactly one field is set.
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type RequestOp struct {
	Range       *RangeRequest       `json:"Range"`
	Put         *PutRequest         `json:"Put"`
	DeleteRange *DeleteRangeRequest `json:"DeleteRange"`
	Txn         *TxnRequest         `json:"Txn"`
}

// ResponseOp is the result of one RequestOp; the field matching the request
// is set.
type ResponseOp struct {
	Range       *RangeResponse
	Put         *PutResponse
	DeleteRange *DeleteRangeResponse
	Txn         *TxnResponse
}

// TxnRequest is etcd's TxnRequest: if every Compare holds, Success runs, else
// Failure. All writes of a transaction share one main revision.
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type TxnRequest struct {
	Compare []Compare   `json:"Compare"`
	Success []RequestOp `json:"Success"`
	Failure []RequestOp `json:"Failure"`
}

// HasWrite reports whether etcd would propose the transaction through raft
// (and so hold it to --max-request-bytes): any operation that is not a
// range, as etcd's isTxnReadonly decides. Nested transactions count as
// writes, as in etcd.
func (r *TxnRequest) HasWrite() bool {
	for _, ops := range [2][]RequestOp{r.Success, r.Failure} {
		for i := range ops {
			if ops[i].Range == nil {
				return true
			}
		}
	}
	return false
}

// TxnResponse answers a TxnRequest.
type TxnResponse struct {
	Header    ResponseHeader
	Succeeded bool
	Responses []ResponseOp
}

// CompactionRequest compacts history below Revision. Physical asks the
// answer to wait until the removed revisions are gone from disk.
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type CompactionRequest struct {
	Revision int64 `json:"Revision"`
	Physical bool  `json:"Physical"`
}

// CompactionResponse answers a CompactionRequest.
type CompactionResponse struct {
	Header ResponseHeader
}

// KV is what the v3 KV endpoints need from a cluster member.
//
// Every method is safe for concurrent use. Writes (Put, DeleteRange, Txn with
// a write, Compact) return after the request is committed by raft and applied
// to the store, with the result of the apply. Range is linearizable unless
// req.Serializable. Errors are this package's sentinels (errors.go; wrapped
// or not); ctx cancellation gives ctx.Err(). The returned responses are owned by
// the caller. Each response's Header is complete (cluster, member, revision,
// raft term).
type KV interface {
	Range(ctx context.Context, req *RangeRequest) (*RangeResponse, error)
	Put(ctx context.Context, req *PutRequest) (*PutResponse, error)
	DeleteRange(ctx context.Context, req *DeleteRangeRequest) (*DeleteRangeResponse, error)
	Txn(ctx context.Context, req *TxnRequest) (*TxnResponse, error)
	Compact(ctx context.Context, req *CompactionRequest) (*CompactionResponse, error)
}
