package cairn

// Validation of requests before they are proposed. These checks need no
// store state, so the server runs them on the request path, as etcd's gRPC
// layer (etcdserver/api/v3rpc/key.go) does; a request that fails them never
// reaches raft. The store's own operations do not repeat them.

// DefaultMaxTxnOps is etcd's default --max-txn-ops: the most operations one
// transaction branch (or its compares) may hold.
const DefaultMaxTxnOps = 128

// Validate checks a range request: ErrEmptyKey without a key;
// ErrInvalidSortOption for a SortOrder or SortTarget outside etcd's enums
// (etcd 3.5's check; 3.4 crashed on an unknown target).
func (r *RangeRequest) Validate() error {
	if len(r.Key) == 0 {
		return ErrEmptyKey
	}
	if r.SortOrder < SortNone || r.SortOrder > SortDescend ||
		r.SortTarget < SortByKey || r.SortTarget > SortByValue {
		return ErrInvalidSortOption
	}
	return nil
}

// Validate checks a put request, in etcd's order: ErrEmptyKey without a
// key; ErrValueProvided for IgnoreValue with a non-empty value;
// ErrLeaseProvided for IgnoreLease with a lease.
func (r *PutRequest) Validate() error {
	if len(r.Key) == 0 {
		return ErrEmptyKey
	}
	if r.IgnoreValue && len(r.Value) != 0 {
		return ErrValueProvided
	}
	if r.IgnoreLease && r.Lease != 0 {
		return ErrLeaseProvided
	}
	return nil
}

// Validate checks a delete request: ErrEmptyKey without a key.
func (r *DeleteRangeRequest) Validate() error {
	if len(r.Key) == 0 {
		return ErrEmptyKey
	}
	return nil
}

// Validate checks a transaction with etcd's rules, maxOps being
// --max-txn-ops (DefaultMaxTxnOps if <= 0).
//
// First the shape, recursively: ErrTooManyOps if the compares, the success
// ops or the failure ops number more than maxOps (a nested transaction gets
// maxOps minus the largest of those three counts of its parent);
// ErrEmptyKey for a compare without a key; each op is validated as its own
// request would be; an op with nothing set is ErrKeyNotFound (etcd's
// answer to an empty op).
//
// Then the writes, each branch separately: ErrDuplicateKey if a put writes
// a key that an earlier put, a delete of the same level or a delete of an
// earlier nested transaction also writes. The success and failure branches
// of one nested transaction may put the same key (only one runs). This is
// etcd's exact rule, quirks included: a delete whose RangeEnd is "\x00"
// conflicts with nothing, deletes never conflict with deletes, and a put in
// a nested transaction does not conflict with a delete in a later sibling
// transaction.
func (r *TxnRequest) Validate(maxOps int) error {
	if maxOps <= 0 {
		maxOps = DefaultMaxTxnOps
	}
	if err := r.checkShape(maxOps); err != nil {
		return err
	}
	if _, _, err := writeSets(r.Success); err != nil {
		return err
	}
	if _, _, err := writeSets(r.Failure); err != nil {
		return err
	}
	return nil
}

func (r *TxnRequest) checkShape(maxOps int) error {
	opc := max(len(r.Compare), len(r.Success), len(r.Failure))
	if opc > maxOps {
		return ErrTooManyOps
	}
	for i := range r.Compare {
		if len(r.Compare[i].Key) == 0 {
			return ErrEmptyKey
		}
	}
	for _, ops := range [][]RequestOp{r.Success, r.Failure} {
		for i := range ops {
			if err := ops[i].check(maxOps - opc); err != nil {
				return err
			}
		}
	}
	return nil
}

func (op *RequestOp) check(maxOps int) error {
	switch {
	case op.Range != nil:
		return op.Range.Validate()
	case op.Put != nil:
		return op.Put.Validate()
	case op.DeleteRange != nil:
		return op.DeleteRange.Validate()
	case op.Txn != nil:
		return op.Txn.checkShape(maxOps)
	}
	return ErrKeyNotFound
}

// delSpan is the set of keys one delete names: the single key begin, or
// [begin, end) compared as strings. An end that sorts at or before begin
// (RangeEnd "\x00" included) names nothing here, as in etcd's interval
// tree.
type delSpan struct {
	begin, end string
	single     bool
}

func (d delSpan) covers(k string) bool {
	if d.single {
		return k == d.begin
	}
	return d.begin <= k && k < d.end
}

type delSpans []delSpan

func (ds delSpans) cover(k string) bool {
	for _, d := range ds {
		if d.covers(k) {
			return true
		}
	}
	return false
}

// writeSets returns the keys the ops put and the spans they delete, nested
// transactions included, or ErrDuplicateKey (see TxnRequest.Validate).
func writeSets(ops []RequestOp) (puts map[string]struct{}, dels delSpans, err error) {
	for i := range ops {
		op := &ops[i]
		if op.Range != nil || op.Put != nil || op.DeleteRange == nil {
			continue
		}
		d := op.DeleteRange
		if len(d.RangeEnd) == 0 {
			dels = append(dels, delSpan{begin: string(d.Key), single: true})
		} else {
			dels = append(dels, delSpan{begin: string(d.Key), end: string(d.RangeEnd)})
		}
	}

	puts = make(map[string]struct{})
	for i := range ops {
		op := &ops[i]
		if op.Range != nil || op.Put != nil || op.DeleteRange != nil || op.Txn == nil {
			continue
		}
		putsThen, delsThen, err := writeSets(op.Txn.Success)
		if err != nil {
			return nil, nil, err
		}
		putsElse, delsElse, err := writeSets(op.Txn.Failure)
		if err != nil {
			return nil, nil, err
		}
		for k := range putsThen {
			if _, dup := puts[k]; dup || dels.cover(k) {
				return nil, nil, ErrDuplicateKey
			}
			puts[k] = struct{}{}
		}
		for k := range putsElse {
			if _, dup := puts[k]; dup {
				if _, sameTxn := putsThen[k]; !sameTxn {
					return nil, nil, ErrDuplicateKey
				}
			}
			if dels.cover(k) {
				return nil, nil, ErrDuplicateKey
			}
			puts[k] = struct{}{}
		}
		dels = append(dels, delsThen...)
		dels = append(dels, delsElse...)
	}

	for i := range ops {
		op := &ops[i]
		if op.Range != nil || op.Put == nil {
			continue
		}
		k := string(op.Put.Key)
		if _, dup := puts[k]; dup || dels.cover(k) {
			return nil, nil, ErrDuplicateKey
		}
		puts[k] = struct{}{}
	}
	return puts, dels, nil
}
