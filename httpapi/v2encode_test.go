package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnkv/cairn/v2store"
)

// The hand-written v2 answer is byte for byte what etcd's encoding/json
// prints for the same event: every field, empty ones left out, escapes
// (HTML, control characters, U+2028, invalid UTF-8), nested listings,
// expiration times.
func TestAppendV2EventMatchesEncodingJSON(t *testing.T) {
	str := func(s string) *string { return &s }
	exp := time.Date(2026, 11, 22, 6, 40, 1, 123456789, time.UTC)
	expWhole := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, ev := range []*v2store.Event{
		{Action: "get", Node: &v2store.Node{Dir: true}},
		{Action: "set", Node: &v2store.Node{Key: "/a", Value: str(""), ModifiedIndex: 5, CreatedIndex: 5}},
		{Action: "set", Node: &v2store.Node{Key: "/a", Value: str("x<y>&\"\\\n\t\x01\u2028\u2029\xff é 日本"), ModifiedIndex: 7, CreatedIndex: 5},
			PrevNode: &v2store.Node{Key: "/a", Value: str("old"), ModifiedIndex: 6, CreatedIndex: 5}},
		{Action: "expire", Node: &v2store.Node{Key: "/t", ModifiedIndex: 9, CreatedIndex: 8},
			PrevNode: &v2store.Node{Key: "/t", Value: str("v"), Expiration: &exp, TTL: 3, ModifiedIndex: 8, CreatedIndex: 8}},
		{Action: "get", Node: &v2store.Node{Key: "/d", Dir: true, Expiration: &expWhole, TTL: 1 << 40, ModifiedIndex: 3, CreatedIndex: 2,
			Nodes: []*v2store.Node{
				{Key: "/d/f", Value: str("1"), ModifiedIndex: 3, CreatedIndex: 3},
				{Key: "/d/e", Dir: true, Nodes: []*v2store.Node{{Key: "/d/e/g", Value: str("2"), ModifiedIndex: 4, CreatedIndex: 4}}},
				{Key: "/d/empty", Dir: true, ModifiedIndex: 5, CreatedIndex: 5},
			}}},
		{Action: "delete", Node: &v2store.Node{Key: "/x", ModifiedIndex: 10}},
		{Action: "compareAndSwap"},
	} {
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendV2Event(nil, ev); string(got) != string(want) {
			t.Errorf("event %+v:\n got %s\nwant %s", ev, got, want)
		}
	}
}
