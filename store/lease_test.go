package store

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// MustGrant grants lease id with ttl in a batch of its own.
func MustGrant(tb testing.TB, s *Store, id, ttl int64) {
	tb.Helper()
	MustApply(tb, s, func(b *Batch) {
		if _, err := b.LeaseGrant(&cairn.LeaseGrantRequest{ID: id, TTL: ttl}); err != nil {
			tb.Fatalf("LeaseGrant(%d): %v", id, err)
		}
	})
}

// MustPutLease puts key=value attached to lease in a batch of its own.
func MustPutLease(tb testing.TB, s *Store, key, value string, lease int64) *cairn.PutResponse {
	tb.Helper()
	var resp *cairn.PutResponse
	MustApply(tb, s, func(b *Batch) {
		var err error
		if resp, err = b.Put(&cairn.PutRequest{Key: []byte(key), Value: []byte(value), Lease: lease}); err != nil {
			tb.Fatalf("Put(%q, lease %d): %v", key, lease, err)
		}
	})
	return resp
}

// MustRevoke revokes lease id in a batch of its own.
func MustRevoke(tb testing.TB, s *Store, id int64) *cairn.LeaseRevokeResponse {
	tb.Helper()
	var resp *cairn.LeaseRevokeResponse
	MustApply(tb, s, func(b *Batch) {
		var err error
		if resp, err = b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: id}); err != nil {
			tb.Fatalf("LeaseRevoke(%d): %v", id, err)
		}
	})
	return resp
}

// leaseKeys returns the keys of lease id as strings; nil and false if the
// lease is not granted.
func leaseKeys(tb testing.TB, s *Store, id int64) ([]string, bool) {
	tb.Helper()
	keys, ok := s.LeaseKeys(id)
	if !ok {
		return nil, false
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out, true
}

func wantLeaseKeys(tb testing.TB, s *Store, id int64, want ...string) {
	tb.Helper()
	got, ok := leaseKeys(tb, s, id)
	if !ok {
		tb.Fatalf("lease %d is not granted", id)
	}
	if len(want) == 0 {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		tb.Fatalf("lease %d keys %q, want %q", id, got, want)
	}
}

// diskLeases lists the leases bucket of the closed store file at path as
// "id:ttl".
func diskLeases(tb testing.TB, path string) []string {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var out []string
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLeases).ForEach(func(k, v []byte) error {
			id, err := parseLeaseKey(k)
			if err != nil {
				return err
			}
			ttl, _, err := decodeLease(id, v)
			if err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%d:%d", id, ttl))
			return nil
		})
	}); err != nil {
		tb.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestLeaseGrantTakesNoRevision(t *testing.T) {
	s := MustNew(t)
	MustPut(t, s, "a", "1") // 2
	var resp *cairn.LeaseGrantResponse
	MustApply(t, s, func(b *Batch) {
		var err error
		if resp, err = b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 7, TTL: 60}); err != nil {
			t.Fatal(err)
		}
	})
	if resp.ID != 7 || resp.TTL != 60 || resp.Header.Revision != 2 || s.Rev() != 2 {
		t.Fatalf("grant answered %+v at store revision %d; want ID 7 TTL 60 at revision 2", resp, s.Rev())
	}
	if l, ok := s.Lease(7); !ok || l != (cairn.LeaseRecord{ID: 7, TTL: 60}) {
		t.Fatalf("Lease(7) = %+v %v", l, ok)
	}
	// Negative IDs are leases like any other (etcd accepts them).
	MustGrant(t, s, -3, 10)
	if got := s.Leases(); !slices.Equal(got, []cairn.LeaseRecord{{ID: -3, TTL: 10}, {ID: 7, TTL: 60}}) {
		t.Fatalf("Leases() = %v", got)
	}
	wantLeaseKeys(t, s, 7)
}

func TestLeaseErrorsChangeNothing(t *testing.T) {
	s := MustNew(t)
	MustGrant(t, s, 7, 60)
	MustPut(t, s, "k", "old") // 2
	before := snapshot(t, s)
	cases := []struct {
		name string
		f    func(b *Batch) error
		want error
	}{
		{"grant existing", func(b *Batch) error {
			_, err := b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 7, TTL: 5})
			return err
		}, cairn.ErrLeaseExists},
		{"grant too large", func(b *Batch) error {
			_, err := b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 8, TTL: cairn.MaxLeaseTTL + 1})
			return err
		}, cairn.ErrLeaseTTLTooLarge},
		{"grant ID 0", func(b *Batch) error {
			_, err := b.LeaseGrant(&cairn.LeaseGrantRequest{TTL: 5})
			return err
		}, errNoLeaseID},
		{"revoke missing", func(b *Batch) error {
			_, err := b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: 8})
			return err
		}, cairn.ErrLeaseNotFound},
		{"put with a missing lease", func(b *Batch) error {
			_, err := b.Put(&cairn.PutRequest{Key: []byte("k"), Value: []byte("new"), Lease: 8})
			return err
		}, cairn.ErrLeaseNotFound},
		{"txn put with a missing lease", func(b *Batch) error {
			_, err := b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
				{Put: &cairn.PutRequest{Key: []byte("x"), Lease: 7}},
				{Put: &cairn.PutRequest{Key: []byte("y"), Lease: 8}},
			}})
			return err
		}, cairn.ErrLeaseNotFound},
	}
	for _, c := range cases {
		MustApply(t, s, func(b *Batch) { wantErr(t, c.f(b), c.want) })
		if got := snapshot(t, s); !mapsEqual(got, before) {
			t.Fatalf("%s changed the keys: %v", c.name, got)
		}
		if got := s.Leases(); !slices.Equal(got, []cairn.LeaseRecord{{ID: 7, TTL: 60}}) {
			t.Fatalf("%s changed the leases: %v", c.name, got)
		}
		wantLeaseKeys(t, s, 7)
	}
	// The grant at the MaxLeaseTTL boundary is fine.
	MustGrant(t, s, 9, cairn.MaxLeaseTTL)
}

// TestLeaseAttachment follows one key through the ways a put, a delete and a
// transaction attach it to a lease and detach it, as etcd's mvcc does.
func TestLeaseAttachment(t *testing.T) {
	s := MustNew(t)
	MustGrant(t, s, 1, 60)
	MustGrant(t, s, 2, 60)

	MustPutLease(t, s, "k", "v1", 1)
	wantLeaseKeys(t, s, 1, "k")
	if kv := MustGet(t, s, "k"); kv.Lease != 1 {
		t.Fatalf("range shows lease %d", kv.Lease)
	}
	MustPutLease(t, s, "k", "v2", 2) // moves
	wantLeaseKeys(t, s, 1)
	wantLeaseKeys(t, s, 2, "k")
	MustApply(t, s, func(b *Batch) { // ignore_lease keeps it
		if _, err := b.Put(&cairn.PutRequest{Key: []byte("k"), Value: []byte("v3"), IgnoreLease: true}); err != nil {
			t.Fatal(err)
		}
	})
	wantLeaseKeys(t, s, 2, "k")
	if kv := MustGet(t, s, "k"); kv.Lease != 2 || string(kv.Value) != "v3" {
		t.Fatalf("after ignore_lease: %s", kvString(kv))
	}
	MustPut(t, s, "k", "v4") // a put without lease detaches
	wantLeaseKeys(t, s, 2)
	if kv := MustGet(t, s, "k"); kv.Lease != 0 {
		t.Fatalf("after a put without lease: %s", kvString(kv))
	}
	MustPutLease(t, s, "k", "v5", 1)
	MustDelete(t, s, "k", "") // a delete detaches
	wantLeaseKeys(t, s, 1)
	MustApply(t, s, func(b *Batch) { // a transaction attaches
		_, err := b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{Put: &cairn.PutRequest{Key: []byte("t1"), Lease: 1}},
			{Put: &cairn.PutRequest{Key: []byte("t2"), Lease: 2}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	})
	wantLeaseKeys(t, s, 1, "t1")
	wantLeaseKeys(t, s, 2, "t2")
	// A grant and a put naming it in the same batch.
	MustApply(t, s, func(b *Batch) {
		if _, err := b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 3, TTL: 5}); err != nil {
			t.Fatal(err)
		}
		if !b.HasLease(3) {
			t.Fatal("the batch does not see its own grant")
		}
		if _, err := b.Put(&cairn.PutRequest{Key: []byte("new"), Lease: 3}); err != nil {
			t.Fatal(err)
		}
	})
	wantLeaseKeys(t, s, 3, "new")
}

func TestLeaseRevokeDeletesKeysInOneRevision(t *testing.T) {
	var events []cairn.Event
	var eventRevs []int64
	s := MustOpen(t, testDB(t), Options{OnCommit: func(rev int64, evs []cairn.Event) {
		events = append(events, evs...)
		for range evs {
			eventRevs = append(eventRevs, rev)
		}
	}})
	MustGrant(t, s, 5, 60)
	MustGrant(t, s, 6, 60)
	MustPutLease(t, s, "b", "1", 5) // 2
	MustPutLease(t, s, "c", "1", 5) // 3
	MustPutLease(t, s, "a", "1", 5) // 4
	MustPutLease(t, s, "o", "1", 6) // 5: another lease's key stays
	MustPut(t, s, "z", "1")         // 6: no lease
	events = nil

	resp := MustRevoke(t, s, 5)
	if resp.Header.Revision != 7 || s.Rev() != 7 {
		t.Fatalf("revoke answered revision %d, store at %d; want 7", resp.Header.Revision, s.Rev())
	}
	var got []string
	for _, e := range events {
		got = append(got, fmt.Sprintf("%v %s %d prev=%s", e.Type, e.Kv.Key, e.Kv.ModRevision, kvString(e.PrevKv)))
	}
	want := []string{
		"DELETE a 7 prev=a=1 c4 m4 v1 l5",
		"DELETE b 7 prev=b=1 c2 m2 v1 l5",
		"DELETE c 7 prev=c=1 c3 m3 v1 l5",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if _, ok := s.Lease(5); ok {
		t.Fatal("lease 5 still granted after its revoke")
	}
	rr, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(rr.Kvs); !slices.Equal(got, []string{"o", "z"}) {
		t.Fatalf("keys after the revoke %q", got)
	}
	// The keys were there at 6.
	rr, err = s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: 6})
	if err != nil || len(rr.Kvs) != 5 {
		t.Fatalf("at revision 6: %v %v", kvsString(rr.Kvs), err)
	}
	// A lease without keys takes no revision.
	if resp := MustRevoke(t, s, 6); resp.Header.Revision != 8 {
		t.Fatalf("revoke of lease 6 (key o): revision %d, want 8", resp.Header.Revision)
	}
	MustGrant(t, s, 9, 10)
	if resp := MustRevoke(t, s, 9); resp.Header.Revision != 8 || s.Rev() != 8 {
		t.Fatalf("revoke of a lease without keys: revision %d, store %d; want 8", resp.Header.Revision, s.Rev())
	}
}

// TestLeaseRevokeTenThousandKeys: the case, a lease with 10k keys
// revoked in one revision.
func TestLeaseRevokeTenThousandKeys(t *testing.T) {
	path := testDB(t)
	s := MustOpen(t, path, Options{})
	MustGrant(t, s, 42, 60)
	const n = 10000
	MustApply(t, s, func(b *Batch) {
		for i := 0; i < n; i++ {
			if _, err := b.Put(&cairn.PutRequest{Key: []byte(fmt.Sprintf("k%05d", i)), Value: []byte("v"), Lease: 42}); err != nil {
				t.Fatal(err)
			}
		}
	})
	MustPut(t, s, "other", "v")
	rev := s.Rev()
	resp := MustRevoke(t, s, 42)
	if resp.Header.Revision != rev+1 || s.Rev() != rev+1 {
		t.Fatalf("revoke at revision %d (store %d), want %d", resp.Header.Revision, s.Rev(), rev+1)
	}
	rr, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, CountOnly: true})
	if err != nil || rr.Count != 1 {
		t.Fatalf("count after revoke %d (%v), want 1", rr.Count, err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// On disk: 10000 tombstones, all at the revoke's revision, subs 0..9999
	// in key order.
	var tombs int
	for _, r := range diskRevisions(t, path) {
		var main, sub int64
		var key string
		if _, err := fmt.Sscanf(r, "%d.%d %s tomb", &main, &sub, &key); err != nil {
			continue
		}
		if main != rev+1 || key != fmt.Sprintf("k%05d", sub) {
			t.Fatalf("tombstone %q, want revision %d.%d for k%05d", r, rev+1, sub, sub)
		}
		tombs++
	}
	if tombs != n {
		t.Fatalf("%d tombstones on disk, want %d", tombs, n)
	}
	if got := diskLeases(t, path); len(got) != 0 {
		t.Fatalf("leases bucket after the revoke: %q", got)
	}
}

func TestLeasesSurviveReopen(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	MustGrant(t, s, 1, 10)
	MustGrant(t, s, 2, 20)
	MustGrant(t, s, 3, 30)
	MustPutLease(t, s, "a", "v", 1)
	MustPutLease(t, s, "b", "v", 1)
	MustPutLease(t, s, "c", "v", 2)
	MustPutLease(t, s, "moved", "v", 1)
	MustPutLease(t, s, "moved", "v", 2)
	MustPutLease(t, s, "gone", "v", 3)
	MustDelete(t, s, "gone", "")
	MustPutLease(t, s, "plain", "v", 3)
	MustPut(t, s, "plain", "v") // detached
	MustCompact(t, s, s.Rev())  // history of the moves compacted away
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := diskLeases(t, path), []string{"1:10", "2:20", "3:30"}; !slices.Equal(got, want) {
		t.Fatalf("leases bucket %q, want %q", got, want)
	}

	s = MustOpen(t, path, Options{})
	if got := s.Leases(); !slices.Equal(got, []cairn.LeaseRecord{{ID: 1, TTL: 10}, {ID: 2, TTL: 20}, {ID: 3, TTL: 30}}) {
		t.Fatalf("Leases() after reopen = %v", got)
	}
	wantLeaseKeys(t, s, 1, "a", "b")
	wantLeaseKeys(t, s, 2, "c", "moved")
	wantLeaseKeys(t, s, 3)
	rev := s.Rev()
	if resp := MustRevoke(t, s, 1); resp.Header.Revision != rev+1 {
		t.Fatalf("revoke after reopen at %d, want %d", resp.Header.Revision, rev+1)
	}
	if MustGet(t, s, "a") != nil || MustGet(t, s, "b") != nil || MustGet(t, s, "c") == nil {
		t.Fatal("the revoke after reopen deleted the wrong keys")
	}
}

// TestLeaseCrashKeepsLastFlush: lease changes reach bbolt in the flush of
// their batch, together with its records and consistent index: a crash
// loses both or neither, and replaying the lost batches gives the same
// state.
func TestLeaseCrashKeepsLastFlush(t *testing.T) {
	path := testDB(t)
	s := manual(t, path, Options{})
	MustGrant(t, s, 1, 10)
	MustPutLease(t, s, "a", "v", 1)
	mustFlush(t, s)
	lost := []func(b *Batch){
		func(b *Batch) { b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 2, TTL: 20}) },
		func(b *Batch) { b.Put(&cairn.PutRequest{Key: []byte("b"), Lease: 2}) },
		func(b *Batch) { b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: 1}) },
	}
	for _, f := range lost {
		MustApply(t, s, f)
	}
	after := snapshot(t, s)
	crash(t, s)
	if got, want := diskLeases(t, path), []string{"1:10"}; !slices.Equal(got, want) {
		t.Fatalf("leases bucket after the crash %q, want %q", got, want)
	}
	s = MustOpen(t, path, Options{})
	if got := s.Leases(); !slices.Equal(got, []cairn.LeaseRecord{{ID: 1, TTL: 10}}) {
		t.Fatalf("Leases() after the crash = %v", got)
	}
	wantLeaseKeys(t, s, 1, "a")
	for _, f := range lost {
		MustApply(t, s, f)
	}
	if got := snapshot(t, s); !mapsEqual(got, after) {
		t.Fatalf("replayed state %v, want %v", got, after)
	}
	if got := s.Leases(); !slices.Equal(got, []cairn.LeaseRecord{{ID: 2, TTL: 20}}) {
		t.Fatalf("Leases() after the replay = %v", got)
	}
	wantLeaseKeys(t, s, 2, "b")
}

// TestOpenFileWithoutLeasesBucket: a store file written before leases
// existed opens, gets the bucket and takes grants.
func TestOpenFileWithoutLeasesBucket(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := mustBolt(t, path)
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketLeases) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = MustOpen(t, path, Options{})
	if kv := MustGet(t, s, "a"); kv == nil {
		t.Fatal("key lost")
	}
	MustGrant(t, s, 1, 5)
	MustPutLease(t, s, "a", "2", 1)
	wantLeaseKeys(t, s, 1, "a")
}

func TestLeaseRecordLayout(t *testing.T) {
	if got := leaseKey(-1); fmt.Sprintf("%x", got) != "ffffffffffffffff" {
		t.Fatalf("leaseKey(-1) = %x", got)
	}
	for _, ttl := range []int64{1, 60, cairn.MaxLeaseTTL} {
		for _, v2 := range []bool{false, true} {
			got, gotV2, err := decodeLease(7, encodeLease(ttl, v2))
			if err != nil || got != ttl || gotV2 != v2 {
				t.Fatalf("round trip of %d, v2 TTL %v: %d %v %v", ttl, v2, got, gotV2, err)
			}
		}
	}
	// Format 1, written before the V2TTL flag: the ID's bit 62 says it.
	v1 := []byte{1, 0, 0, 0, 0, 0, 0, 0, 30}
	for _, c := range []struct {
		id int64
		v2 bool
	}{{7, false}, {1<<62 | 5, true}, {-1 &^ (1 << 62), false}} {
		ttl, v2, err := decodeLease(c.id, v1)
		if err != nil || ttl != 30 || v2 != c.v2 {
			t.Errorf("format 1 record of lease %x: ttl %d, v2 TTL %v, %v; want 30, %v", c.id, ttl, v2, err, c.v2)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 0, 0, 0, 0, 0, 0, 0, 1}, {1, 0, 0, 0, 0, 0, 0, 0, 1, 0},
		{2, 0, 0, 0, 0, 0, 0, 0, 1, 2}, {3, 0, 0, 0, 0, 0, 0, 0, 1, 0}, make([]byte, 10)} {
		if _, _, err := decodeLease(7, bad); err == nil {
			t.Errorf("decodeLease(%x) accepted", bad)
		}
	}
}
