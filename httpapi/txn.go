package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/kv/txn: etcd's KV.Txn. Request: etcdserverpb.TxnRequest;
// response: etcdserverpb.TxnResponse.

var compareResultType = enumType{
	protoName: "etcdserverpb.Compare_CompareResult",
	names:     []string{"EQUAL", "GREATER", "LESS", "NOT_EQUAL"},
}

var compareTargetType = enumType{
	protoName: "etcdserverpb.Compare_CompareTarget",
	names:     []string{"VERSION", "CREATE", "MOD", "VALUE", "LEASE"},
}

// Compare fields in the order jsonpb decodes them: the plain fields in .proto
// order (result, target, key, range_end), then the target_union oneof.
const (
	cmpResult = iota
	cmpTarget
	cmpKey
	cmpRangeEnd
	cmpVersion
	cmpCreateRevision
	cmpModRevision
	cmpValue
	cmpLease
	cmpFields
)

func compareField(name []byte) (int, bool) {
	switch string(name) {
	case "result":
		return cmpResult, false
	case "target":
		return cmpTarget, false
	case "key":
		return cmpKey, false
	case "range_end":
		return cmpRangeEnd, false
	case "rangeEnd":
		return cmpRangeEnd, true
	case "version":
		return cmpVersion, false
	case "create_revision":
		return cmpCreateRevision, false
	case "createRevision":
		return cmpCreateRevision, true
	case "mod_revision":
		return cmpModRevision, false
	case "modRevision":
		return cmpModRevision, true
	case "value":
		return cmpValue, false
	case "lease":
		return cmpLease, false
	}
	return -1, false
}

// compare decodes the Compare object at b[start] into c. etcd keeps one
// member of target_union (a random one when a client sends several); cairn
// keeps them all and the store reads the one that Target names.
func (d *decoder) compare(start int, c *cairn.Compare) error {
	var slots [cmpFields]slot
	d.collect(start, slots[:], compareField)
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		var err error
		var v int32
		switch f {
		case cmpResult:
			v, err = d.enumField(sp, &compareResultType)
			c.Result = cairn.CompareResult(v)
		case cmpTarget:
			v, err = d.enumField(sp, &compareTargetType)
			c.Target = cairn.CompareTarget(v)
		case cmpKey:
			c.Key, err = d.bytesField(sp)
		case cmpRangeEnd:
			c.RangeEnd, err = d.bytesField(sp)
		case cmpVersion:
			c.Version, err = d.int64Field(sp)
		case cmpCreateRevision:
			c.CreateRevision, err = d.int64Field(sp)
		case cmpModRevision:
			c.ModRevision, err = d.int64Field(sp)
		case cmpValue:
			c.Value, err = d.bytesField(sp)
		case cmpLease:
			c.Lease, err = d.int64Field(sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RequestOp fields (the request oneof) in .proto order.
const (
	opRange = iota
	opPut
	opDeleteRange
	opTxn
	opFields
)

func requestOpField(name []byte) (int, bool) {
	switch string(name) {
	case "request_range":
		return opRange, false
	case "requestRange":
		return opRange, true
	case "request_put":
		return opPut, false
	case "requestPut":
		return opPut, true
	case "request_delete_range":
		return opDeleteRange, false
	case "requestDeleteRange":
		return opDeleteRange, true
	case "request_txn":
		return opTxn, false
	case "requestTxn":
		return opTxn, true
	}
	return -1, false
}

// requestOp decodes the RequestOp object at b[start] into op. An op with no
// request (or only nulls) stays empty; etcd rejects it with "key not found"
// and so does the store's validation. When a client sends several members of
// the oneof, etcd keeps a random one; cairn decodes them all and keeps the
// first in .proto order (range, put, delete_range, txn).
func (d *decoder) requestOp(start int, op *cairn.RequestOp) error {
	var slots [opFields]slot
	d.collect(start, slots[:], requestOpField)
	set := false
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		ok, err := d.message(sp)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch f {
		case opRange:
			r := new(cairn.RangeRequest)
			if err := d.rangeRequest(sp.s, r); err != nil {
				return err
			}
			if !set {
				op.Range = r
			}
		case opPut:
			r := new(cairn.PutRequest)
			if err := d.putRequest(sp.s, r); err != nil {
				return err
			}
			if !set {
				op.Put = r
			}
		case opDeleteRange:
			r := new(cairn.DeleteRangeRequest)
			if err := d.deleteRangeRequest(sp.s, r); err != nil {
				return err
			}
			if !set {
				op.DeleteRange = r
			}
		case opTxn:
			r := new(cairn.TxnRequest)
			if err := d.txnRequest(sp.s, r); err != nil {
				return err
			}
			if !set {
				op.Txn = r
			}
		}
		set = true
	}
	return nil
}

// TxnRequest fields in .proto order.
const (
	txnCompare = iota
	txnSuccess
	txnFailure
	txnFields
)

func txnField(name []byte) (int, bool) {
	switch string(name) {
	case "compare":
		return txnCompare, false
	case "success":
		return txnSuccess, false
	case "failure":
		return txnFailure, false
	}
	return -1, false
}

// txnRequest decodes the TxnRequest object at b[start] into req. A null
// element of a list decodes as an empty Compare or RequestOp (etcd drops the
// connection on it).
func (d *decoder) txnRequest(start int, req *cairn.TxnRequest) error {
	var slots [txnFields]slot
	d.collect(start, slots[:], txnField)
	if sp := slots[txnCompare].value(); sp.s != 0 {
		els, ok, err := d.repeated(sp)
		if err != nil {
			return err
		}
		for ok {
			vs, _, more := els.next()
			if !more {
				break
			}
			req.Compare = append(req.Compare, cairn.Compare{})
			isObj, err := d.message(span{vs, 0})
			if err != nil {
				return err
			}
			if isObj {
				if err := d.compare(vs, &req.Compare[len(req.Compare)-1]); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range [...]int{txnSuccess, txnFailure} {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		els, ok, err := d.repeated(sp)
		if err != nil {
			return err
		}
		var ops []cairn.RequestOp
		for ok {
			vs, _, more := els.next()
			if !more {
				break
			}
			ops = append(ops, cairn.RequestOp{})
			isObj, err := d.message(span{vs, 0})
			if err != nil {
				return err
			}
			if isObj {
				if err := d.requestOp(vs, &ops[len(ops)-1]); err != nil {
					return err
				}
			}
		}
		if f == txnSuccess {
			req.Success = ops
		} else {
			req.Failure = ops
		}
	}
	return nil
}

// parseTxn decodes a /v3/kv/txn body.
func parseTxn(d *decoder) (*cairn.TxnRequest, error) {
	return parseTopObject(d, (*decoder).txnRequest)
}

func (a *api) kvTxn(ctx context.Context, d *decoder) (response, error) {
	req, err := parseTxn(d)
	if err != nil {
		return nil, err
	}
	if err := a.permittedTxn(ctx, req); err != nil {
		return nil, err
	}
	if req.HasWrite() {
		if err := a.checkSize(req.ProtoSize()); err != nil {
			return nil, err
		}
	}
	resp, err := a.b.Txn(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*txnResponse)(resp), nil
}

type txnResponse cairn.TxnResponse

func (r *txnResponse) appendJSON(b []byte) []byte {
	return appendTxnResponse(b, (*cairn.TxnResponse)(r))
}

// appendTxnResponse appends an etcdserverpb.TxnResponse object. Responses
// nested in a transaction carry the headers the store gives them; etcd fills
// only their revision (and leaves a nested transaction's header empty).
func appendTxnResponse(b []byte, r *cairn.TxnResponse) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendBool(b, &f, "succeeded", r.Succeeded)
	if len(r.Responses) > 0 {
		b = appendName(b, &f, "responses")
		b = append(b, '[')
		for i := range r.Responses {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendResponseOp(b, &r.Responses[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendResponseOp appends an etcdserverpb.ResponseOp object.
func appendResponseOp(b []byte, op *cairn.ResponseOp) []byte {
	b = append(b, '{')
	f := true
	switch {
	case op.Range != nil:
		b = appendName(b, &f, "response_range")
		b = appendRangeResponse(b, op.Range)
	case op.Put != nil:
		b = appendName(b, &f, "response_put")
		b = appendPutResponse(b, op.Put)
	case op.DeleteRange != nil:
		b = appendName(b, &f, "response_delete_range")
		b = appendDeleteRangeResponse(b, op.DeleteRange)
	case op.Txn != nil:
		b = appendName(b, &f, "response_txn")
		b = appendTxnResponse(b, op.Txn)
	}
	return append(b, '}')
}
