package store

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// TestLayoutExample checks the bytes doc.go shows for a put of foo=bar at
// revision 2 and its delete at 3, as written by the store itself.
func TestLayoutExample(t *testing.T) {
	path := testDB(t)
	s := MustOpen(t, path, Options{})
	MustPut(t, s, "foo", "bar")
	MustDelete(t, s, "foo", "")
	s.Close()

	unhex := func(s string) string {
		s = strings.NewReplacer(" ", "", `"foo"`, hex.EncodeToString([]byte("foo")), `"bar"`, hex.EncodeToString([]byte("bar"))).Replace(s)
		return s
	}
	want := []string{
		unhex(`00000000 00000002 00000000 00000000`) + " -> " +
			unhex(`01 00 0000000000000002 0000000000000002 0000000000000001 0000000000000000 00000003 "foo" "bar"`),
		unhex(`00000000 00000003 00000000 00000000`) + " -> " +
			unhex(`01 01 0000000000000000 0000000000000003 0000000000000000 0000000000000000 00000003 "foo"`),
	}
	db := mustBolt(t, path)
	defer db.Close()
	var got []string
	var meta map[string]string
	db.View(func(tx *bolt.Tx) error {
		tx.Bucket(bucketRevisions).ForEach(func(k, v []byte) error {
			got = append(got, hex.EncodeToString(k)+" -> "+hex.EncodeToString(v))
			return nil
		})
		meta = map[string]string{}
		return tx.Bucket(bucketMeta).ForEach(func(k, v []byte) error {
			meta[string(k)] = hex.EncodeToString(v)
			return nil
		})
	})
	if !slices.Equal(got, want) {
		t.Fatalf("revisions bucket:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantMeta := map[string]string{"format": "0000000000000001", "consistent_index": "0000000000000002"}
	if len(meta) != len(wantMeta) || meta["format"] != wantMeta["format"] || meta["consistent_index"] != wantMeta["consistent_index"] {
		t.Fatalf("meta bucket %v, want %v", meta, wantMeta)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []record{
		{key: []byte("k"), value: []byte("v"), createRevision: 2, modRevision: 5, version: 3, lease: 7},
		{key: []byte("k"), modRevision: 9, tombstone: true},
		{key: []byte{0}, value: nil, createRevision: 1 << 40, modRevision: 1 << 41, version: 1, lease: -1},
		{key: []byte(strings.Repeat("x", 1000)), value: []byte(strings.Repeat("y", 70000)), modRevision: 2},
		{key: []byte("/dir"), createRevision: 3, modRevision: 3, version: 1, dir: true, action: cairn.ActionCreate},
		{key: []byte("/a"), modRevision: 4, tombstone: true, action: cairn.ActionExpire},
	} {
		var got record
		if err := decodeRecord(encodeRecord(&r), &got); err != nil {
			t.Fatal(err)
		}
		if string(got.key) != string(r.key) || string(got.value) != string(r.value) || got.tombstone != r.tombstone ||
			got.createRevision != r.createRevision || got.modRevision != r.modRevision || got.version != r.version || got.lease != r.lease ||
			got.dir != r.dir || got.action != r.action {
			t.Fatalf("round trip of %+v gave %+v", r, got)
		}
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"short":           make([]byte, recordHeaderLen-1),
		"format 2":        append([]byte{2}, make([]byte, recordHeaderLen)...),
		"unknown flag":    append([]byte{1, 4}, make([]byte, recordHeaderLen)...),
		"unknown action":  append([]byte{1, 0xf0}, make([]byte, recordHeaderLen)...),
		"key past end":    func() []byte { b := encodeRecord(&record{key: []byte("abc")}); b[37] = 4; return b }(),
		"huge key length": func() []byte { b := encodeRecord(&record{key: []byte("abc")}); b[34] = 0xff; return b }(),
	} {
		var r record
		if err := decodeRecord(b, &r); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: decode error %v, want errBadRecord", name, err)
		}
	}
}
