package v2store

import (
	"testing"

	"github.com/cairnkv/cairn"
)

// storeKV returns a key as the store records it at revision rev (created
// then too).
func storeKV(key, value string, rev int64, action cairn.Action) *cairn.KeyValue {
	return &cairn.KeyValue{Key: []byte(key), Value: []byte(value), CreateRevision: rev, ModRevision: rev, Action: action}
}

func putEvent(kv, prev *cairn.KeyValue) *cairn.Event {
	return &cairn.Event{Type: cairn.EventPut, Kv: kv, PrevKv: prev}
}

// delEvent returns the delete of prev at revision rev with action.
func delEvent(prev *cairn.KeyValue, rev int64, action cairn.Action) *cairn.Event {
	return &cairn.Event{Type: cairn.EventDelete, Kv: &cairn.KeyValue{Key: prev.Key, ModRevision: rev, Action: action}, PrevKv: prev}
}

// TestWatchRange: a watch of a key alone is that key; a recursive one is
// the key and its subtree, up to Key(p)+"0" ("/foo" reaches neither
// "/foo0" nor "/foobar"), the whole tree for the root.
func TestWatchRange(t *testing.T) {
	for _, tc := range []struct {
		prefix, path string
		recursive    bool
		key, end     string
	}{
		{"", "/", false, "/", ""},
		{"", "/", true, "/", "0"},
		{"", "/foo", false, "/foo", ""},
		{"", "/foo", true, "/foo", "/foo0"},
		{"", "/foo/_h", true, "/foo/_h", "/foo/_h0"},
		{"/v2", "/", true, "/v2/", "/v20"},
		{"/v2", "/foo", true, "/v2/foo", "/v2/foo0"},
	} {
		tr, err := NewTree(tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		key, end := tr.Watch(tc.path, tc.recursive).Range()
		if string(key) != tc.key || string(end) != tc.end || (end == nil) != (tc.end == "") {
			t.Errorf("prefix %q: Watch(%q, %v).Range() = %q, %q; want %q, %q", tc.prefix, tc.path, tc.recursive, key, end, tc.key, tc.end)
		}
	}
}

// TestWatchEvent: what each watch sees of store events in its range, and
// as what v2 event ("" for none).
func TestWatchEvent(t *testing.T) {
	fooFile := storeKV("/foo", "f", 2, cairn.ActionSet)
	dirMarker := &cairn.KeyValue{Key: []byte("/d"), CreateRevision: 2, ModRevision: 2, Dir: true, Action: cairn.ActionSet}
	for _, tc := range []struct {
		name      string
		prefix    string
		path      string
		recursive bool
		ev        *cairn.Event
		want      string
	}{
		// The root.
		{"root sees a file", "", "/", true, putEvent(storeKV("/a", "1", 2, cairn.ActionSet), nil),
			`{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":2,"createdIndex":2}}`},
		{"root sees deep keys", "", "/", true, putEvent(storeKV("/a/b/c", "1", 2, cairn.ActionNone), nil),
			`{"action":"set","node":{"key":"/a/b/c","value":"1","modifiedIndex":2,"createdIndex":2}}`},
		{"the root's own key is not a node", "", "/", true, putEvent(storeKV("/", "x", 2, cairn.ActionNone), nil), ""},
		{"nor for a watch of the root alone", "", "/", false, putEvent(storeKV("/", "x", 2, cairn.ActionNone), nil), ""},
		{"root alone sees no children", "", "/", false, putEvent(storeKV("/a", "1", 2, cairn.ActionSet), nil), ""},
		{"v3 key without a leading /", "", "/", true, putEvent(storeKV("nolead", "n", 2, cairn.ActionNone), nil), ""},
		{"v3 key with an empty segment", "", "/", true, putEvent(storeKV("/a//b", "n", 2, cairn.ActionNone), nil), ""},
		{"v3 key with a trailing /", "", "/", true, putEvent(storeKV("/a/", "n", 2, cairn.ActionNone), nil), ""},
		{"prefixed root", "/v2", "/", true, putEvent(storeKV("/v2/a", "1", 2, cairn.ActionSet), nil),
			`{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":2,"createdIndex":2}}`},

		// /foo vs /foobar, and siblings in the range.
		{"/foo itself", "", "/foo", true, putEvent(fooFile, nil),
			`{"action":"set","node":{"key":"/foo","value":"f","modifiedIndex":2,"createdIndex":2}}`},
		{"/foo/x under /foo", "", "/foo", true, putEvent(storeKV("/foo/x", "x", 3, cairn.ActionNone), nil),
			`{"action":"set","node":{"key":"/foo/x","value":"x","modifiedIndex":3,"createdIndex":3}}`},
		{"/foobar is not under /foo", "", "/foo", true, putEvent(storeKV("/foobar", "b", 3, cairn.ActionSet), nil), ""},
		{"sibling /foo! in the range", "", "/foo", true, putEvent(storeKV("/foo!", "b", 3, cairn.ActionSet), nil), ""},
		{"sibling /foo.x in the range", "", "/foo", true, putEvent(storeKV("/foo.x", "b", 3, cairn.ActionSet), nil), ""},
		{"/foo alone sees no children", "", "/foo", false, putEvent(storeKV("/foo/x", "x", 3, cairn.ActionSet), nil), ""},
		{"/foo alone, a v3 update", "", "/foo", false, putEvent(storeKV("/foo", "g", 3, cairn.ActionNone), fooFile),
			`{"action":"set","node":{"key":"/foo","value":"g","modifiedIndex":3,"createdIndex":3},"prevNode":{"key":"/foo","value":"f","modifiedIndex":2,"createdIndex":2}}`},

		// Hidden nodes: left out below a recursive watch, seen by name.
		{"hidden child, recursive", "", "/foo", true, putEvent(storeKV("/foo/_h", "h", 3, cairn.ActionSet), nil), ""},
		{"under a hidden dir, recursive", "", "/foo", true, putEvent(storeKV("/foo/_h/x", "h", 3, cairn.ActionSet), nil), ""},
		{"hidden leaf deeper, recursive", "", "/", true, putEvent(storeKV("/a/b/_h", "h", 3, cairn.ActionSet), nil), ""},
		{"a name with _ inside is not hidden", "", "/foo", true, putEvent(storeKV("/foo/a_/b_", "h", 3, cairn.ActionSet), nil),
			`{"action":"set","node":{"key":"/foo/a_/b_","value":"h","modifiedIndex":3,"createdIndex":3}}`},
		{"hidden key watched alone", "", "/_h", false, putEvent(storeKV("/_h", "h", 3, cairn.ActionSet), nil),
			`{"action":"set","node":{"key":"/_h","value":"h","modifiedIndex":3,"createdIndex":3}}`},
		{"hidden key watched recursively", "", "/_h", true, putEvent(storeKV("/_h", "h", 3, cairn.ActionSet), nil),
			`{"action":"set","node":{"key":"/_h","value":"h","modifiedIndex":3,"createdIndex":3}}`},
		{"under a hidden watched dir", "", "/_h", true, putEvent(storeKV("/_h/x", "x", 3, cairn.ActionSet), nil),
			`{"action":"set","node":{"key":"/_h/x","value":"x","modifiedIndex":3,"createdIndex":3}}`},

		// A file with keys under it (a v3 conflict): events do not know
		// what lies under a key, so its own changes show as a file's.
		{"conflict key alone", "", "/app/db", false, putEvent(storeKV("/app/db", "c", 3, cairn.ActionNone), nil),
			`{"action":"set","node":{"key":"/app/db","value":"c","modifiedIndex":3,"createdIndex":3}}`},
		{"under the conflict key", "", "/app/db", true, putEvent(storeKV("/app/db/host", "h", 4, cairn.ActionNone), nil),
			`{"action":"set","node":{"key":"/app/db/host","value":"h","modifiedIndex":4,"createdIndex":4}}`},
		{"a file watched as a dir", "", "/f", true, putEvent(storeKV("/f/x", "x", 4, cairn.ActionNone), nil),
			`{"action":"set","node":{"key":"/f/x","value":"x","modifiedIndex":4,"createdIndex":4}}`},
		{"a dir marker deleted", "", "/d", false, delEvent(dirMarker, 5, cairn.ActionDelete),
			`{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":5,"createdIndex":2},"prevNode":{"key":"/d","dir":true,"modifiedIndex":2,"createdIndex":2}}`},

		// ActionImplied: the side changes of a v2 write.
		{"parent created on the way", "", "/", true, putEvent(&cairn.KeyValue{Key: []byte("/d"), CreateRevision: 2, ModRevision: 2, Dir: true, Action: cairn.ActionImplied}, nil), ""},
		{"deleted with its dir, recursive", "", "/d", true, delEvent(storeKV("/d/x", "x", 3, cairn.ActionSet), 5, cairn.ActionImplied), ""},
		{"watched key deleted with a dir above", "", "/d/x", false, delEvent(storeKV("/d/x", "x", 3, cairn.ActionSet), 5, cairn.ActionImplied),
			`{"action":"delete","node":{"key":"/d/x","modifiedIndex":5}}`},
		{"watched dir deleted from above, recursive", "", "/d/x", true, delEvent(storeKV("/d/x", "x", 3, cairn.ActionSet), 5, cairn.ActionImplied), ""},

		// A refresh: the same value under a new lease, ActionImplied.
		{"refresh, alone", "", "/foo", false, putEvent(&cairn.KeyValue{Key: []byte("/foo"), Value: []byte("f"), CreateRevision: 2, ModRevision: 3, Lease: 7, Action: cairn.ActionImplied}, fooFile), ""},
		{"refresh, recursive", "", "/", true, putEvent(&cairn.KeyValue{Key: []byte("/foo"), Value: []byte("f"), CreateRevision: 2, ModRevision: 3, Lease: 7, Action: cairn.ActionImplied}, fooFile), ""},

		// Recorded actions.
		{"expire", "", "/foo", false, delEvent(fooFile, 4, cairn.ActionExpire),
			`{"action":"expire","node":{"key":"/foo","modifiedIndex":4,"createdIndex":2},"prevNode":{"key":"/foo","value":"f","modifiedIndex":2,"createdIndex":2}}`},
		{"v3 delete", "", "/", true, delEvent(fooFile, 4, cairn.ActionNone),
			`{"action":"delete","node":{"key":"/foo","modifiedIndex":4,"createdIndex":2},"prevNode":{"key":"/foo","value":"f","modifiedIndex":2,"createdIndex":2}}`},
	} {
		tr, err := NewTree(tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := tr.Watch(tc.path, tc.recursive).Event(tc.ev)
		got := ""
		if ok {
			got = jsonOf(t, ev, nil)
			if ev.Index != tc.ev.Kv.ModRevision {
				t.Errorf("%s: Index %d, want the event's revision %d", tc.name, ev.Index, tc.ev.Kv.ModRevision)
			}
		}
		if got != tc.want {
			t.Errorf("%s: Watch(%q, %v).Event(%s %q):\n got %s\nwant %s", tc.name, tc.path, tc.recursive, tc.ev.Type, tc.ev.Kv.Key, got, tc.want)
		}
	}
}
