package entry

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

func ptr[T any](v T) *T { return &v }

// entryCases are requests of every binary shape, and JSON ones.
func entryCases() []*Request {
	big := bytes.Repeat([]byte{0, 0xff, '"', '\\'}, 40000)
	return []*Request{
		{ID: 1, Put: &cairn.PutRequest{Key: []byte("k"), Value: []byte("v")}},
		{ID: 1 << 63, Put: &cairn.PutRequest{Key: []byte("/a/b"), Value: big, Lease: -5, PrevKV: true,
			IgnoreValue: true, IgnoreLease: true, Dir: true, Action: cairn.ActionCompareAndSwap}},
		{ID: 7, Put: &cairn.PutRequest{Key: []byte("\x00"), Lease: 1<<62 + 3}},
		{ID: 2, V2: &V2Write{Request: &v2store.Request{Method: v2store.MethodPut, Path: "/a"}}},
		{ID: 3, V2: &V2Write{Prefix: "/v2tree", Request: &v2store.Request{Method: v2store.MethodPost, Path: "/q",
			Value: string(big), TTL: ptr[int64](0)}}},
		{ID: 4, V2: &V2Write{Request: &v2store.Request{Method: v2store.MethodPut, Path: "/x", Value: "new",
			PrevExist: ptr(true), PrevValue: "old", PrevIndex: 1 << 40, TTL: ptr[int64](-1), Refresh: true}}},
		{ID: 5, V2: &V2Write{Request: &v2store.Request{Method: v2store.MethodPut, Path: "/d", Dir: true, PrevExist: ptr(false)}}},
		{ID: 6, V2: &V2Write{Request: &v2store.Request{Method: v2store.MethodDelete, Path: "/d", Dir: true, Recursive: true, PrevIndex: 9}}},
		// JSON kinds.
		{ID: 8, DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("b"), PrevKV: true}},
		{ID: 9, LeaseRevoke: &cairn.LeaseRevokeRequest{ID: 42}},
		{ID: 10, Compaction: &cairn.CompactionRequest{Revision: 5}},
	}
}

// Every request decodes to what was encoded; puts and v2 writes take the
// binary form, the rest JSON.
func TestEntryRoundTrip(t *testing.T) {
	for i, r := range entryCases() {
		data, err := r.Marshal()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		wantKind := byte('{')
		switch {
		case r.Put != nil:
			wantKind = entryPut
		case r.V2 != nil:
			wantKind = entryV2
		}
		if data[0] != wantKind {
			t.Errorf("case %d: kind byte %#x, want %#x", i, data[0], wantKind)
		}
		got, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(r)) {
			t.Errorf("case %d: decoded %+v, want %+v", i, got, r)
		}
	}
}

// normalize makes empty byte slices nil, as the JSON decoder and the
// binary one disagree only there.
func normalize(r *Request) *Request {
	c := *r
	if c.Put != nil {
		p := *c.Put
		if len(p.Key) == 0 {
			p.Key = nil
		}
		if len(p.Value) == 0 {
			p.Value = nil
		}
		c.Put = &p
	}
	return &c
}

// Entries written as JSON (every log before the binary forms) still decode.
// (The binary form also keeps v2 values that are not UTF-8, which JSON
// replaced with U+FFFD; those are left out here.)
func TestEntryJSONPutsStillDecode(t *testing.T) {
	for _, r := range entryCases()[:6] {
		if r.V2 != nil && !utf8.ValidString(r.V2.Value) {
			continue
		}
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(r)) {
			t.Errorf("JSON of case %+v decoded to %+v", r, got)
		}
	}
}

// A damaged binary entry is an error, never a different request: every
// truncation, a trailing byte, unknown flags, an unknown kind.
func TestEntryDamageIsRefused(t *testing.T) {
	for i, r := range entryCases()[:6] {
		data, _ := r.Marshal()
		for n := 0; n < len(data); n++ {
			if n > 64 && n < len(data)-64 {
				continue // the long values: ends are what matter
			}
			if _, err := Unmarshal(data[:n]); err == nil {
				t.Errorf("case %d truncated to %d of %d bytes decoded", i, n, len(data))
			}
		}
		if _, err := Unmarshal(append(bytes.Clone(data), 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
			t.Errorf("case %d with a trailing byte: %v", i, err)
		}
	}
	put, _ := (&Request{ID: 1, Put: &cairn.PutRequest{Key: []byte("k")}}).Marshal()
	put[len(put)-2] |= 0x80 // the flags byte
	if _, err := Unmarshal(put); err == nil || !strings.Contains(err.Error(), "unknown flags") {
		t.Errorf("unknown put flag: %v", err)
	}
	v2, _ := (&Request{ID: 1, V2: &V2Write{Request: &v2store.Request{Method: v2store.MethodPut, Path: "/a"}}}).Marshal()
	v2[len(v2)-1] = v2PrevExist // a value without "given"
	if _, err := Unmarshal(v2); err == nil {
		t.Error("prev_exist value without the given flag decoded")
	}
	if _, err := Unmarshal([]byte{9, 1}); err == nil || !strings.Contains(err.Error(), "unknown entry kind") {
		t.Errorf("unknown kind: %v", err)
	}
}

func FuzzUnmarshalRequest(f *testing.F) {
	for _, r := range entryCases() {
		data, _ := r.Marshal()
		if len(data) < 1024 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Unmarshal(data)
		if err != nil || len(data) == 0 || data[0] == '{' {
			return
		}
		// A binary entry that decodes is the request its encoding decodes
		// to (varints may come non-minimal; the request is the same).
		again, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := Unmarshal(again)
		if err != nil || !reflect.DeepEqual(normalize(r2), normalize(r)) {
			t.Fatalf("%x decoded to a request whose encoding %x decodes differently (%v)", data, again, err)
		}
	})
}
