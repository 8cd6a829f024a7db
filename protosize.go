package cairn

import "math/bits"

// Protobuf sizes. etcd limits requests (--max-request-bytes) and watch
// responses (fragmenting) by the size of their protobuf encoding; cairn
// never encodes protobuf on these paths, so it computes those sizes from
// the types here, as etcd's generated Size methods would. Zero values are
// not encoded, as proto3 does.

// ProtoVarintLen is the length of v as a protobuf varint: 1 to 10 bytes.
func ProtoVarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// ProtoBytesField is the size of a bytes (or string) field whose tag is
// tagLen bytes long (1 for field numbers below 16, 2 below 2048): 0 for
// an empty value.
func ProtoBytesField(tagLen int, v []byte) int {
	if len(v) == 0 {
		return 0
	}
	return tagLen + ProtoVarintLen(uint64(len(v))) + len(v)
}

// ProtoIntField is the size of an int64 (or enum) field with a one-byte
// tag: 0 for 0; negative values take 10 bytes, as protobuf encodes them.
func ProtoIntField(v int64) int {
	if v == 0 {
		return 0
	}
	return 1 + ProtoVarintLen(uint64(v))
}

// ProtoBoolField is the size of a bool field with a one-byte tag.
func ProtoBoolField(v bool) int {
	if v {
		return 2
	}
	return 0
}

// ProtoMessageField is the size of an embedded message of n bytes as a
// field whose tag is tagLen bytes long (tag, length, body); an empty
// message still counts, as a set message field does.
func ProtoMessageField(tagLen, n int) int { return tagLen + ProtoVarintLen(uint64(n)) + n }

// ProtoSize is the size of kv as an mvccpb.KeyValue.
func (kv *KeyValue) ProtoSize() int {
	return ProtoBytesField(1, kv.Key) + ProtoIntField(kv.CreateRevision) + ProtoIntField(kv.ModRevision) +
		ProtoIntField(kv.Version) + ProtoBytesField(1, kv.Value) + ProtoIntField(kv.Lease)
}

// ProtoSize is the size of e as an mvccpb.Event.
func (e *Event) ProtoSize() int {
	n := ProtoIntField(int64(e.Type))
	if e.Kv != nil {
		n += ProtoMessageField(1, e.Kv.ProtoSize())
	}
	if e.PrevKv != nil {
		n += ProtoMessageField(1, e.PrevKv.ProtoSize())
	}
	return n
}

// ProtoSize is the size of r as an etcdserverpb.RangeRequest.
func (r *RangeRequest) ProtoSize() int {
	return ProtoBytesField(1, r.Key) + ProtoBytesField(1, r.RangeEnd) + ProtoIntField(r.Limit) + ProtoIntField(r.Revision) +
		ProtoIntField(int64(r.SortOrder)) + ProtoIntField(int64(r.SortTarget)) + ProtoBoolField(r.Serializable) +
		ProtoBoolField(r.KeysOnly) + ProtoBoolField(r.CountOnly) + ProtoIntField(r.MinModRevision) +
		ProtoIntField(r.MaxModRevision) + ProtoIntField(r.MinCreateRevision) + ProtoIntField(r.MaxCreateRevision)
}

// ProtoSize is the size of r as an etcdserverpb.PutRequest.
func (r *PutRequest) ProtoSize() int {
	return ProtoBytesField(1, r.Key) + ProtoBytesField(1, r.Value) + ProtoIntField(r.Lease) + ProtoBoolField(r.PrevKV) +
		ProtoBoolField(r.IgnoreValue) + ProtoBoolField(r.IgnoreLease)
}

// ProtoSize is the size of r as an etcdserverpb.DeleteRangeRequest.
func (r *DeleteRangeRequest) ProtoSize() int {
	return ProtoBytesField(1, r.Key) + ProtoBytesField(1, r.RangeEnd) + ProtoBoolField(r.PrevKV)
}

// ProtoSize is the size of c as an etcdserverpb.Compare.
func (c *Compare) ProtoSize() int {
	// range_end is field 64: a two-byte tag.
	return ProtoIntField(int64(c.Result)) + ProtoIntField(int64(c.Target)) + ProtoBytesField(1, c.Key) +
		ProtoIntField(c.Version) + ProtoIntField(c.CreateRevision) + ProtoIntField(c.ModRevision) +
		ProtoBytesField(1, c.Value) + ProtoIntField(c.Lease) + ProtoBytesField(2, c.RangeEnd)
}

// ProtoSize is the size of op as an etcdserverpb.RequestOp.
func (op *RequestOp) ProtoSize() int {
	switch {
	case op.Range != nil:
		return ProtoMessageField(1, op.Range.ProtoSize())
	case op.Put != nil:
		return ProtoMessageField(1, op.Put.ProtoSize())
	case op.DeleteRange != nil:
		return ProtoMessageField(1, op.DeleteRange.ProtoSize())
	case op.Txn != nil:
		return ProtoMessageField(1, op.Txn.ProtoSize())
	}
	return 0
}

// ProtoSize is the size of r as an etcdserverpb.TxnRequest.
func (r *TxnRequest) ProtoSize() int {
	n := 0
	for i := range r.Compare {
		n += ProtoMessageField(1, r.Compare[i].ProtoSize())
	}
	for i := range r.Success {
		n += ProtoMessageField(1, r.Success[i].ProtoSize())
	}
	for i := range r.Failure {
		n += ProtoMessageField(1, r.Failure[i].ProtoSize())
	}
	return n
}
