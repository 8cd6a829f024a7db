package store

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// The model test: random operations applied through batches of random
// sizes, checked against a plain map of key histories and a revision
// counter, with a reopen in the middle. The model is deliberately naive:
// every read rebuilds the state at the revision from the full history.

var modelSeed = flag.Uint64("model.seed", 0, "seed of TestModel (0: from the clock)")

type modelVersion struct {
	rev int64           // main revision of the change
	kv  *cairn.KeyValue // nil: deleted
}

type model struct {
	rev     int64
	compact int64 // -1: never
	hist    map[string][]modelVersion
}

func newModel() *model { return &model{rev: 1, compact: -1, hist: map[string][]modelVersion{}} }

// at returns key's KeyValue at rev (the last change at or below it).
func (m *model) at(key string, rev int64) *cairn.KeyValue {
	var kv *cairn.KeyValue
	for _, v := range m.hist[key] {
		if v.rev > rev {
			break
		}
		kv = v.kv
	}
	return kv
}

// inRange applies etcd's key/range_end conventions.
func inRange(k string, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return k == string(key)
	case len(end) == 1 && end[0] == 0:
		return k >= string(key)
	default:
		return k >= string(key) && k < string(end)
	}
}

// keysAt lists the keys of the range that exist at rev, in key order.
func (m *model) keysAt(key, end []byte, rev int64) []*cairn.KeyValue {
	var out []*cairn.KeyValue
	for k := range m.hist {
		if !inRange(k, key, end) {
			continue
		}
		if kv := m.at(k, rev); kv != nil {
			out = append(out, kv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

func (m *model) rangeAt(req *cairn.RangeRequest, cur int64) (*cairn.RangeResponse, error) {
	rev := req.Revision
	if rev > cur {
		return nil, cairn.ErrFutureRev
	}
	if rev <= 0 {
		rev = cur
	}
	if rev < m.compact {
		return nil, cairn.ErrCompacted
	}
	kvs := m.keysAt(req.Key, req.RangeEnd, rev)
	resp := &cairn.RangeResponse{Header: cairn.ResponseHeader{Revision: cur}, Count: int64(len(kvs))}
	if req.CountOnly {
		return resp, nil
	}
	var kept []*cairn.KeyValue
	for _, kv := range kvs {
		if (req.MinModRevision == 0 || kv.ModRevision >= req.MinModRevision) &&
			(req.MaxModRevision == 0 || kv.ModRevision <= req.MaxModRevision) &&
			(req.MinCreateRevision == 0 || kv.CreateRevision >= req.MinCreateRevision) &&
			(req.MaxCreateRevision == 0 || kv.CreateRevision <= req.MaxCreateRevision) {
			kept = append(kept, kv)
		}
	}
	order := req.SortOrder
	if order == cairn.SortNone && req.SortTarget != cairn.SortByKey {
		order = cairn.SortAscend
	}
	if order != cairn.SortNone {
		field := func(kv *cairn.KeyValue) string {
			switch req.SortTarget {
			case cairn.SortByVersion:
				return fmt.Sprintf("%020d", kv.Version)
			case cairn.SortByCreate:
				return fmt.Sprintf("%020d", kv.CreateRevision)
			case cairn.SortByMod:
				return fmt.Sprintf("%020d", kv.ModRevision)
			case cairn.SortByValue:
				return string(kv.Value)
			}
			return string(kv.Key)
		}
		sort.SliceStable(kept, func(i, j int) bool {
			if order == cairn.SortDescend {
				return field(kept[j]) < field(kept[i])
			}
			return field(kept[i]) < field(kept[j])
		})
	}
	if req.Limit > 0 && int64(len(kept)) > req.Limit {
		kept, resp.More = kept[:req.Limit], true
	}
	for _, kv := range kept {
		c := *kv
		if req.KeysOnly {
			c.Value = nil
		}
		resp.Kvs = append(resp.Kvs, &c)
	}
	return resp, nil
}

// modelWrite is one write request in the model: changes at main revision
// main, visible to the request's own later ops.
type modelWrite struct {
	m       *model
	main    int64
	changed bool
}

func (w *modelWrite) visible() int64 {
	if w.changed {
		return w.main
	}
	return w.m.rev
}

func (w *modelWrite) put(req *cairn.PutRequest) *cairn.PutResponse {
	m := w.m
	k := string(req.Key)
	prev := m.at(k, w.visible())
	kv := &cairn.KeyValue{Key: bytes.Clone(req.Key), Value: bytes.Clone(req.Value), ModRevision: w.main, CreateRevision: w.main, Version: 1}
	if prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
		if req.IgnoreValue {
			kv.Value = prev.Value
		}
	}
	m.hist[k] = append(m.hist[k], modelVersion{rev: w.main, kv: kv})
	w.changed = true
	resp := &cairn.PutResponse{Header: cairn.ResponseHeader{Revision: w.main}}
	if req.PrevKV {
		resp.PrevKV = prev
	}
	return resp
}

func (w *modelWrite) del(req *cairn.DeleteRangeRequest) *cairn.DeleteRangeResponse {
	m := w.m
	victims := m.keysAt(req.Key, req.RangeEnd, w.visible())
	resp := &cairn.DeleteRangeResponse{Deleted: int64(len(victims))}
	for _, kv := range victims {
		m.hist[string(kv.Key)] = append(m.hist[string(kv.Key)], modelVersion{rev: w.main})
		w.changed = true
		if req.PrevKV {
			resp.PrevKVs = append(resp.PrevKVs, kv)
		}
	}
	resp.Header.Revision = w.visible()
	return resp
}

func (m *model) compare(c *cairn.Compare) bool {
	var kvs []*cairn.KeyValue
	if len(c.RangeEnd) == 0 {
		if kv := m.at(string(c.Key), m.rev); kv != nil {
			kvs = append(kvs, kv)
		}
	} else {
		kvs = m.keysAt(c.Key, c.RangeEnd, m.rev)
	}
	if len(kvs) == 0 {
		if c.Target == cairn.CompareValue {
			return false
		}
		kvs = []*cairn.KeyValue{{}}
	}
	for _, kv := range kvs {
		var d int
		switch c.Target {
		case cairn.CompareVersion:
			d = cmpInt64(kv.Version, c.Version)
		case cairn.CompareCreate:
			d = cmpInt64(kv.CreateRevision, c.CreateRevision)
		case cairn.CompareMod:
			d = cmpInt64(kv.ModRevision, c.ModRevision)
		case cairn.CompareValue:
			d = bytes.Compare(kv.Value, c.Value)
		}
		ok := map[cairn.CompareResult]bool{cairn.CompareEqual: d == 0, cairn.CompareNotEqual: d != 0, cairn.CompareGreater: d > 0, cairn.CompareLess: d < 0}[c.Result]
		if !ok {
			return false
		}
	}
	return true
}

// branch decides a transaction's branch against the state before the
// outermost transaction (the model is not changed until execution).
func (m *model) branch(t *cairn.TxnRequest) (bool, []cairn.RequestOp) {
	for i := range t.Compare {
		if !m.compare(&t.Compare[i]) {
			return false, t.Failure
		}
	}
	return true, t.Success
}

func (m *model) checkTxn(t *cairn.TxnRequest) error {
	var puts, ranges func(t *cairn.TxnRequest) error
	puts = func(t *cairn.TxnRequest) error {
		_, ops := m.branch(t)
		for _, op := range ops {
			if op.Put != nil && (op.Put.IgnoreValue || op.Put.IgnoreLease) && m.at(string(op.Put.Key), m.rev) == nil {
				return cairn.ErrKeyNotFound
			}
			if op.Put != nil && op.Put.Lease != 0 {
				return cairn.ErrLeaseNotFound
			}
			if op.Txn != nil {
				if err := puts(op.Txn); err != nil {
					return err
				}
			}
		}
		return nil
	}
	ranges = func(t *cairn.TxnRequest) error {
		_, ops := m.branch(t)
		for _, op := range ops {
			if r := op.Range; r != nil && r.Revision != 0 {
				if r.Revision > m.rev {
					return cairn.ErrFutureRev
				}
				if r.Revision < m.compact {
					return cairn.ErrCompacted
				}
			}
			if op.Txn != nil {
				if err := ranges(op.Txn); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := puts(t); err != nil {
		return err
	}
	return ranges(t)
}

func (w *modelWrite) txn(t *cairn.TxnRequest, paths map[*cairn.TxnRequest]bool) *cairn.TxnResponse {
	ok := paths[t]
	ops := t.Failure
	if ok {
		ops = t.Success
	}
	resp := &cairn.TxnResponse{Succeeded: ok, Responses: make([]cairn.ResponseOp, len(ops))}
	for i, op := range ops {
		switch {
		case op.Range != nil:
			r, err := w.m.rangeAt(op.Range, w.visible())
			if err != nil {
				panic(err) // checkTxn ruled this out
			}
			resp.Responses[i].Range = r
		case op.Put != nil:
			resp.Responses[i].Put = w.put(op.Put)
		case op.DeleteRange != nil:
			resp.Responses[i].DeleteRange = w.del(op.DeleteRange)
		case op.Txn != nil:
			resp.Responses[i].Txn = w.txn(op.Txn, paths)
		}
	}
	return resp
}

// decide records the branch of t and its nested transactions, all against
// the state before the transaction.
func (m *model) decide(t *cairn.TxnRequest, paths map[*cairn.TxnRequest]bool) {
	ok, ops := m.branch(t)
	paths[t] = ok
	for _, op := range ops {
		if op.Txn != nil {
			m.decide(op.Txn, paths)
		}
	}
}

func (m *model) begin() *modelWrite { return &modelWrite{m: m, main: m.rev + 1} }

func (w *modelWrite) end() int64 {
	if w.changed {
		w.m.rev = w.main
	}
	return w.m.rev
}

// ---- random requests

type gen struct{ r *rand.Rand }

var modelKeys = []string{"a", "a\x00", "b", "ba", "bb", "c", "d", "e", "\x00"}

func (g gen) key() []byte { return []byte(modelKeys[g.r.IntN(len(modelKeys))]) }

func (g gen) value() []byte {
	if g.r.IntN(8) == 0 {
		return nil
	}
	return []byte(fmt.Sprint(g.r.IntN(50)))
}

func (g gen) span() (key, end []byte) {
	key = g.key()
	switch g.r.IntN(4) {
	case 0:
		return key, nil
	case 1:
		return key, []byte{0}
	case 2:
		return []byte{0}, []byte{0}
	default:
		return key, g.key()
	}
}

func (g gen) revision(m *model, cur int64) int64 {
	switch g.r.IntN(6) {
	case 0:
		return 0
	case 1:
		return cur + int64(g.r.IntN(3)) // maybe future
	case 2:
		return int64(g.r.IntN(int(cur) + 1)) // maybe compacted
	default:
		lo := max(m.compact, 1)
		return lo + int64(g.r.IntN(int(cur-lo)+1))
	}
}

func (g gen) rangeReq(m *model, cur int64) *cairn.RangeRequest {
	req := &cairn.RangeRequest{Revision: g.revision(m, cur)}
	req.Key, req.RangeEnd = g.span()
	if g.r.IntN(3) == 0 {
		req.Limit = int64(g.r.IntN(4))
	}
	if g.r.IntN(3) == 0 {
		req.SortOrder = cairn.SortOrder(g.r.IntN(3))
		req.SortTarget = cairn.SortTarget(g.r.IntN(5))
	}
	req.KeysOnly = g.r.IntN(5) == 0
	req.CountOnly = g.r.IntN(8) == 0
	if g.r.IntN(5) == 0 {
		req.MinModRevision = int64(g.r.IntN(int(cur) + 1))
	}
	if g.r.IntN(5) == 0 {
		req.MaxCreateRevision = int64(g.r.IntN(int(cur) + 1))
	}
	return req
}

func (g gen) putReq() *cairn.PutRequest {
	req := &cairn.PutRequest{Key: g.key(), Value: g.value(), PrevKV: g.r.IntN(2) == 0}
	if g.r.IntN(8) == 0 {
		req.IgnoreValue, req.Value = true, nil
	}
	if g.r.IntN(30) == 0 {
		req.Lease = 1 + int64(g.r.IntN(3))
	}
	return req
}

func (g gen) delReq() *cairn.DeleteRangeRequest {
	req := &cairn.DeleteRangeRequest{PrevKV: g.r.IntN(2) == 0}
	req.Key, req.RangeEnd = g.span()
	if g.r.IntN(2) == 0 {
		req.RangeEnd = nil
	}
	return req
}

func (g gen) compare(m *model) cairn.Compare {
	c := cairn.Compare{Key: g.key(), Target: cairn.CompareTarget(g.r.IntN(4)), Result: cairn.CompareResult(g.r.IntN(4))}
	if g.r.IntN(4) == 0 {
		c.RangeEnd = g.key()
	}
	n := int64(g.r.IntN(int(m.rev) + 2))
	c.Version, c.CreateRevision, c.ModRevision = n%4, n, n
	c.Value = g.value()
	return c
}

func (g gen) txnReq(m *model, depth int) *cairn.TxnRequest {
	t := &cairn.TxnRequest{}
	for i := g.r.IntN(3); i > 0; i-- {
		t.Compare = append(t.Compare, g.compare(m))
	}
	ops := func() []cairn.RequestOp {
		var out []cairn.RequestOp
		for i := g.r.IntN(4); i > 0; i-- {
			switch n := g.r.IntN(10); {
			case n < 3:
				out = append(out, cairn.RequestOp{Range: g.rangeReq(m, m.rev)})
			case n < 6:
				out = append(out, cairn.RequestOp{Put: g.putReq()})
			case n < 8:
				out = append(out, cairn.RequestOp{DeleteRange: g.delReq()})
			case depth < 2:
				out = append(out, cairn.RequestOp{Txn: g.txnReq(m, depth+1)})
			}
		}
		return out
	}
	t.Success, t.Failure = ops(), ops()
	return t
}

// ---- the test

// modelMark is the model at one commit: enough to roll it back there, since
// histories only grow.
type modelMark struct {
	rev, compact int64
	lens         map[string]int
}

func (m *model) mark() modelMark {
	k := modelMark{rev: m.rev, compact: m.compact, lens: make(map[string]int, len(m.hist))}
	for key, h := range m.hist {
		k.lens[key] = len(h)
	}
	return k
}

func (m *model) rollback(k modelMark) {
	m.rev, m.compact = k.rev, k.compact
	for key := range m.hist {
		if n, ok := k.lens[key]; ok {
			m.hist[key] = m.hist[key][:n]
		} else {
			delete(m.hist, key)
		}
	}
}

// modelOptions picks how the store flushes: only when the test says so
// (and under backpressure), or on its own with a tiny interval; with small
// limits often, so that Commit waits for flushes at random points.
func modelOptions(g gen) (Options, string) {
	o := Options{CompactionBatchLimit: 1 + g.r.IntN(5)}
	if g.r.IntN(2) == 0 {
		o.hooks = &testHooks{manualFlush: true}
	} else {
		o.FlushInterval = time.Duration(1+g.r.IntN(3)) * time.Millisecond
	}
	if g.r.IntN(2) == 0 {
		o.MaxPendingRecords = int64(1 + g.r.IntN(40))
	}
	return o, fmt.Sprintf("manual flush %v, interval %v, max pending records %d",
		o.hooks != nil, o.FlushInterval, o.MaxPendingRecords)
}

func TestModel(t *testing.T) {
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -model.seed=%d)", seed, seed)
	g := gen{r: rand.New(rand.NewPCG(seed, 0x5eed))}
	steps := 1500
	if testing.Short() {
		steps = 300
	}

	path := testDB(t)
	opts, desc := modelOptions(g)
	t.Logf("open: %s", desc)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	m := newModel()

	same := func(what string, got, want any, gotErr, wantErr error) {
		t.Helper()
		if !errors.Is(gotErr, wantErr) || (wantErr == nil && gotErr != nil) {
			t.Fatalf("%s: error %v, model %v", what, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("%s:\n store %s\n model %s", what, render(got), render(want))
		}
	}

	ci := uint64(0)
	// marks[i] is the model after the batch of consistent index i, back to
	// the newest one known to be in bbolt.
	marks := map[uint64]modelMark{0: m.mark()}
	flushedCI := uint64(0) // the newest DurableIndex seen
	for step := 0; step < steps; step++ {
		if step == steps/3 || step == 2*steps/3 {
			crash := g.r.IntN(2) == 0
			if crash {
				// Stop without the last flush, as kill -9 would: bbolt
				// keeps the state of some flush at or after the last
				// Flush, with its own consistent index.
				if err := s.close(false); err != nil {
					t.Fatal(err)
				}
			} else if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			opts, desc = modelOptions(g)
			if s, err = Open(path, opts); err != nil {
				t.Fatal(err)
			}
			got := s.ConsistentIndex()
			t.Logf("step %d: reopened after %s at consistent index %d of %d (durable before: %d); %s",
				step, map[bool]string{true: "a crash", false: "Close"}[crash], got, ci, flushedCI, desc)
			if got < flushedCI || got > ci || (!crash && got != ci) || s.DurableIndex() != got {
				t.Fatalf("step %d: reopened at consistent index %d (durable %d); committed %d, durable before %d",
					step, got, s.DurableIndex(), ci, flushedCI)
			}
			m.rollback(marks[got])
			ci, flushedCI = got, got
			marks = map[uint64]modelMark{ci: m.mark()}
			if s.Rev() != m.rev || s.CompactRev() != max(m.compact, 0) {
				t.Fatalf("reopened at rev %d compact %d; model %d %d", s.Rev(), s.CompactRev(), m.rev, m.compact)
			}
		}
		b := s.Begin()
		for n := 1 + g.r.IntN(8); n > 0; n-- {
			what := fmt.Sprintf("step %d", step)
			switch k := g.r.IntN(20); {
			case k < 6:
				req := g.putReq()
				got, gotErr := b.Put(req)
				var want *cairn.PutResponse
				var wantErr error
				switch {
				case req.Lease != 0:
					wantErr = cairn.ErrLeaseNotFound
				case req.IgnoreValue && m.at(string(req.Key), m.rev) == nil:
					wantErr = cairn.ErrKeyNotFound
				default:
					w := m.begin()
					want = w.put(req)
					w.end()
				}
				same(what+fmt.Sprintf(" put %+v", req), got, want, gotErr, wantErr)
			case k < 9:
				req := g.delReq()
				got, gotErr := b.DeleteRange(req)
				w := m.begin()
				want := w.del(req)
				want.Header.Revision = w.end()
				same(what+fmt.Sprintf(" delete %q..%q", req.Key, req.RangeEnd), got, want, gotErr, nil)
			case k < 13:
				req := g.txnReq(m, 0)
				got, gotErr := b.Txn(req)
				var want *cairn.TxnResponse
				wantErr := m.checkTxn(req)
				if wantErr == nil {
					paths := map[*cairn.TxnRequest]bool{}
					m.decide(req, paths)
					w := m.begin()
					want = w.txn(req, paths)
					want.Header.Revision = w.end()
				}
				same(what+" txn", got, want, gotErr, wantErr)
			case k < 14 && g.r.IntN(3) == 0:
				// Compact well behind the head, so old revisions stay readable.
				rev := max(m.compact, 1) + int64(g.r.IntN(int(m.rev-max(m.compact, 1))/3+1))
				if g.r.IntN(4) == 0 {
					rev = int64(g.r.IntN(int(m.rev) + 2))
				}
				got, _, gotErr := b.Compact(&cairn.CompactionRequest{Revision: rev})
				var want *cairn.CompactionResponse
				var wantErr error
				switch {
				case rev <= m.compact:
					wantErr = cairn.ErrCompacted
				case rev > m.rev:
					wantErr = cairn.ErrFutureRev
				default:
					m.compact = rev
					want = &cairn.CompactionResponse{Header: cairn.ResponseHeader{Revision: m.rev}}
				}
				same(what+fmt.Sprintf(" compact %d", rev), got, want, gotErr, wantErr)
			default:
				req := g.rangeReq(m, m.rev)
				got, gotErr := b.Range(req)
				want, wantErr := m.rangeAt(req, m.rev)
				same(what+fmt.Sprintf(" batch range %+v", req), got, want, gotErr, wantErr)
			}
		}
		ci++
		if err := b.Commit(ci); err != nil {
			t.Fatal(err)
		}
		marks[ci] = m.mark()
		if s.Rev() != m.rev || s.ConsistentIndex() != ci {
			t.Fatalf("step %d: store at %d ci %d, model at %d ci %d", step, s.Rev(), s.ConsistentIndex(), m.rev, ci)
		}
		if g.r.IntN(10) == 0 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if d := s.DurableIndex(); d != ci {
				t.Fatalf("step %d: durable index %d after Flush, want %d", step, d, ci)
			}
		}
		for d := s.DurableIndex(); flushedCI < d; flushedCI++ {
			delete(marks, flushedCI) // bbolt is past them: no crash returns there
		}
		for n := 0; n < 3; n++ {
			req := g.rangeReq(m, m.rev)
			got, gotErr := s.Range(req)
			want, wantErr := m.rangeAt(req, m.rev)
			same(fmt.Sprintf("step %d range %+v", step, req), got, want, gotErr, wantErr)
		}
	}

	// Every revision still readable matches the model, after one more
	// reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	if s.ConsistentIndex() != ci || s.DurableIndex() != ci {
		t.Fatalf("reopened at consistent index %d durable %d, want %d", s.ConsistentIndex(), s.DurableIndex(), ci)
	}
	for rev := max(m.compact, 1); rev <= m.rev; rev++ {
		req := &cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev}
		got, gotErr := s.Range(req)
		want, wantErr := m.rangeAt(req, m.rev)
		same(fmt.Sprintf("final read at %d", rev), got, want, gotErr, wantErr)
	}
	t.Logf("%d steps, revision %d, compacted at %d, %d keys", steps, m.rev, m.compact, len(m.hist))
}

// normalize makes empty and nil slices compare equal.
func normalize(v any) any {
	return render(v)
}

func render(v any) string {
	var b bytes.Buffer
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			walk(v.Elem())
		case reflect.Struct:
			if kv, ok := v.Interface().(cairn.KeyValue); ok {
				b.WriteString(kvString(&kv))
				return
			}
			b.WriteString("{")
			for i := 0; i < v.NumField(); i++ {
				f := v.Field(i)
				if f.IsZero() || (f.Kind() == reflect.Slice && f.Len() == 0) {
					continue
				}
				fmt.Fprintf(&b, "%s:", v.Type().Field(i).Name)
				walk(f)
				b.WriteString(" ")
			}
			b.WriteString("}")
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				fmt.Fprintf(&b, "%q", v.Bytes())
				return
			}
			b.WriteString("[")
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
				b.WriteString(" ")
			}
			b.WriteString("]")
		default:
			fmt.Fprint(&b, v.Interface())
		}
	}
	walk(reflect.ValueOf(v))
	return b.String()
}
