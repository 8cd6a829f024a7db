package store

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// The store file is kept across upgrades, so its bytes are a format (doc.go,
// "On disk"). TestLayoutGolden writes a small history of every kind of
// change and compares the whole file, bucket by bucket, with layoutGolden;
// TestLayoutGoldenReads opens a file made of exactly those bytes. A change
// that fails them changes what existing members have on disk.

// layoutGolden is every entry of every bucket after writeLayoutHistory:
// bucket, key -> value, in bbolt's order. Keys and values are hex, or
// "text" for the bytes of text; // starts a comment.
const layoutGolden = `
// lease key -> format 2, TTL, flags (1: a v2 TTL's lease)
leases 0000000000000007 -> 02 000000000000003c 00 // lease 7, TTL 60 (lease 8 is revoked)
leases 4000000000000009 -> 02 000000000000001e 01 // a v2 TTL's lease, TTL 30
leases fffffffffffffffd -> 02 000000000000000a 00 // lease -3, TTL 10: negative IDs sort last
meta "consistent_index"      -> 0000000000000008
meta "finished_compact_rev"  -> 0000000000000004
meta "format"                -> 0000000000000001
meta "scheduled_compact_rev" -> 0000000000000004
// revision key              -> format flags create mod version lease keylen key value
// 2.0, foo=bar, went with the compaction at 4.
revisions 0000000000000003 0000000000000000 -> 01 22 0000000000000003 0000000000000003 0000000000000001 0000000000000000 00000004 "/dir"
revisions 0000000000000004 0000000000000000 -> 01 00 0000000000000002 0000000000000004 0000000000000002 0000000000000007 00000003 "foo" "baz"
revisions 0000000000000005 0000000000000000 -> 01 00 0000000000000005 0000000000000005 0000000000000001 0000000000000008 00000001 "a" "1"
revisions 0000000000000005 0000000000000001 -> 01 00 0000000000000005 0000000000000005 0000000000000001 0000000000000007 00000001 "b" "2"
revisions 0000000000000005 0000000000000002 -> 01 51 0000000000000000 0000000000000005 0000000000000000 0000000000000000 00000004 "/dir"
revisions 0000000000000006 0000000000000000 -> 01 01 0000000000000000 0000000000000006 0000000000000000 0000000000000000 00000003 "foo"
revisions 0000000000000007 0000000000000000 -> 01 71 0000000000000000 0000000000000007 0000000000000000 0000000000000000 00000001 "a"
`

// The flags bytes above: 22 = v2 directory | create (2) << 4; 51 =
// tombstone | delete (5) << 4; 71 = tombstone | expire (7) << 4.

// writeLayoutHistory writes the history behind layoutGolden, one batch per
// consistent index 1..8, and closes the store.
func writeLayoutHistory(tb testing.TB, path string) {
	tb.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	steps := []func(b *Batch) error{
		func(b *Batch) error { // 1: no revision
			if _, err := b.LeaseGrantV2TTL(&cairn.LeaseGrantRequest{ID: 1<<62 | 9, TTL: 30}); err != nil {
				return err
			}
			for _, l := range []cairn.LeaseGrantRequest{{ID: 7, TTL: 60}, {ID: 8, TTL: 5}, {ID: -3, TTL: 10}} {
				if _, err := b.LeaseGrant(&l); err != nil {
					return err
				}
			}
			return nil
		},
		func(b *Batch) error { // 2
			_, err := b.Put(&cairn.PutRequest{Key: []byte("foo"), Value: []byte("bar"), Lease: 7})
			return err
		},
		func(b *Batch) error { // 3: a v2 directory
			_, err := b.Put(&cairn.PutRequest{Key: []byte("/dir"), Dir: true, Action: cairn.ActionCreate})
			return err
		},
		func(b *Batch) error { // 4
			_, err := b.Put(&cairn.PutRequest{Key: []byte("foo"), Value: []byte("baz"), IgnoreLease: true})
			return err
		},
		func(b *Batch) error { // 5: three changes in one revision
			_, err := b.Txn(&cairn.TxnRequest{
				Compare: []cairn.Compare{{Key: []byte("foo"), Target: cairn.CompareValue, Value: []byte("baz")}},
				Success: []cairn.RequestOp{
					{Put: &cairn.PutRequest{Key: []byte("a"), Value: []byte("1"), Lease: 8}},
					{Put: &cairn.PutRequest{Key: []byte("b"), Value: []byte("2"), Lease: 7}},
					{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("/dir"), Action: cairn.ActionDelete}},
				},
			})
			return err
		},
		func(b *Batch) error { // 6
			_, err := b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte("foo")})
			return err
		},
		func(b *Batch) error { // 7: deletes a, with action expire
			_, err := b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: 8})
			return err
		},
	}
	for i, step := range steps {
		b := s.Begin()
		if err := step(b); err != nil {
			tb.Fatalf("step %d: %v", i+1, err)
		}
		if err := b.Commit(uint64(i + 1)); err != nil {
			tb.Fatal(err)
		}
	}
	MustCompact(tb, s, 4) // consistent index 8
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// bucketEntry is one key of one top-level bucket.
type bucketEntry struct {
	bucket     string
	key, value []byte
}

func (e bucketEntry) String() string {
	return fmt.Sprintf("%s %x -> %x", e.bucket, e.key, e.value)
}

// parseLayout reads text in layoutGolden's notation.
func parseLayout(tb testing.TB, text string) []bucketEntry {
	tb.Helper()
	field := func(words []string) []byte {
		var b []byte
		for _, w := range words {
			if strings.HasPrefix(w, `"`) {
				s, err := strconv.Unquote(w)
				if err != nil {
					tb.Fatalf("golden layout: %s: %v", w, err)
				}
				b = append(b, s...)
				continue
			}
			h, err := hex.DecodeString(w)
			if err != nil {
				tb.Fatalf("golden layout: %s: %v", w, err)
			}
			b = append(b, h...)
		}
		return b
	}
	var out []bucketEntry
	for line := range strings.Lines(text) {
		line, _, _ = strings.Cut(line, "//")
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		arrow := slices.Index(words, "->")
		if arrow < 2 {
			tb.Fatalf("golden layout: no bucket, key -> value in %q", line)
		}
		out = append(out, bucketEntry{words[0], field(words[1:arrow]), field(words[arrow+1:])})
	}
	return out
}

// dumpLayout lists every entry of every bucket of the bbolt file at path;
// nested buckets, which the layout has none of, fail the test.
func dumpLayout(tb testing.TB, path string) []bucketEntry {
	tb.Helper()
	db := mustBolt(tb, path)
	defer db.Close()
	var out []bucketEntry
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			return bk.ForEach(func(k, v []byte) error {
				if v == nil {
					return fmt.Errorf("nested bucket %s/%x", name, k)
				}
				out = append(out, bucketEntry{string(name), bytes.Clone(k), bytes.Clone(v)})
				return nil
			})
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestLayoutGolden(t *testing.T) {
	path := testDB(t)
	writeLayoutHistory(t, path)
	got, want := entryLines(dumpLayout(t, path)), entryLines(parseLayout(t, layoutGolden))
	if !slices.Equal(got, want) {
		t.Fatalf("the store file changed (+ only in the file, - only in the golden):\n%s\nwant\n%s",
			markLines(got, want, "+"), markLines(want, got, "-"))
	}
}

func entryLines(es []bucketEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.String()
	}
	return out
}

// markLines prints lines, those missing from other marked with mark.
func markLines(lines, other []string, mark string) string {
	var b strings.Builder
	for _, l := range lines {
		m := " "
		if !slices.Contains(other, l) {
			m = mark
		}
		fmt.Fprintf(&b, "%s %s\n", m, l)
	}
	return b.String()
}

// A file holding exactly the golden bytes opens to the state the history
// left.
func TestLayoutGoldenReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden.db")
	writeLayout(t, path, layoutGolden)
	s := MustOpen(t, path, Options{})
	checkLayoutGoldenState(t, s)
}

// Files written before lease record format 2 hold format 1 records (no
// flags byte), where bit 62 of a positive ID marks a v2 TTL's lease. They
// open as they did, with V2TTL read from the ID.
func TestLayoutGoldenReadsLeaseFormat1(t *testing.T) {
	old := strings.NewReplacer(
		"0000000000000007 -> 02 000000000000003c 00", "0000000000000007 -> 01 000000000000003c",
		"4000000000000009 -> 02 000000000000001e 01", "4000000000000009 -> 01 000000000000001e",
		"fffffffffffffffd -> 02 000000000000000a 00", "fffffffffffffffd -> 01 000000000000000a",
	).Replace(layoutGolden)
	if old == layoutGolden {
		t.Fatal("the format 1 golden is the same as the current one")
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	writeLayout(t, path, old)
	s := MustOpen(t, path, Options{})
	checkLayoutGoldenState(t, s)
}

// writeLayout makes a bbolt file of exactly the entries of a golden text.
func writeLayout(t *testing.T, path, text string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, e := range parseLayout(t, text) {
			bk, err := tx.CreateBucketIfNotExists([]byte(e.bucket))
			if err == nil {
				err = bk.Put(e.key, e.value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// checkLayoutGoldenState checks that s holds the state writeLayoutHistory
// left.
func checkLayoutGoldenState(t *testing.T, s *Store) {
	t.Helper()
	if s.Rev() != 7 || s.CompactRev() != 4 || s.ConsistentIndex() != 8 {
		t.Errorf("revision %d, compacted %d, consistent index %d; want 7, 4, 8", s.Rev(), s.CompactRev(), s.ConsistentIndex())
	}
	full := func(kv *cairn.KeyValue) string {
		return fmt.Sprintf("%s dir=%v action=%v", kvString(kv), kv.Dir, kv.Action)
	}
	for _, c := range []struct {
		rev  int64
		want []string
	}{
		{0, []string{"b=2 c5 m5 v1 l7 dir=false action="}},
		{4, []string{"/dir= c3 m3 v1 l0 dir=true action=create", "foo=baz c2 m4 v2 l7 dir=false action="}},
		{5, []string{"a=1 c5 m5 v1 l8 dir=false action=", "b=2 c5 m5 v1 l7 dir=false action=",
			"foo=baz c2 m4 v2 l7 dir=false action="}},
	} {
		rr, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: c.rev})
		if err != nil {
			t.Fatalf("range at %d: %v", c.rev, err)
		}
		var got []string
		for _, kv := range rr.Kvs {
			got = append(got, full(kv))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("range at %d:\n%s\nwant\n%s", c.rev, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
	if _, err := s.Range(&cairn.RangeRequest{Key: []byte("foo"), Revision: 3}); err != cairn.ErrCompacted {
		t.Errorf("range below the compacted revision: %v, want ErrCompacted", err)
	}
	if got := s.Leases(); !slices.Equal(got, []cairn.LeaseRecord{{ID: -3, TTL: 10}, {ID: 7, TTL: 60}, {ID: 1<<62 | 9, TTL: 30, V2TTL: true}}) {
		t.Errorf("leases %v, want -3 (TTL 10), 7 (TTL 60) and the v2 TTL 1<<62|9 (TTL 30)", got)
	}
	if keys, ok := s.LeaseKeys(7); !ok || len(keys) != 1 || string(keys[0]) != "b" {
		t.Errorf("keys of lease 7: %q %v, want b", keys, ok)
	}

	// The history the records tell, with the v2 actions of the tombstones.
	wevs, _, err := s.watchHistory(rangeKey{key: "\x00", fromKey: true}, 5, 7, 1<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range wevs {
		ev := &wevs[i].Event
		got = append(got, fmt.Sprintf("%v %s m%d %v", ev.Type, ev.Kv.Key, ev.Kv.ModRevision, ev.Kv.Action))
	}
	want := []string{"PUT a m5 ", "PUT b m5 ", "DELETE /dir m5 delete", "DELETE foo m6 ", "DELETE a m7 expire"}
	if !slices.Equal(got, want) {
		t.Errorf("history 5..7:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
