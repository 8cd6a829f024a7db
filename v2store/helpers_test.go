package v2store

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// harness is a real store in a temp dir with a v2 tree over it; it records
// the store events of every commit.
type harness struct {
	tb     testing.TB
	s      *store.Store
	tree   *Tree
	events []cairn.Event
}

func newHarness(tb testing.TB, prefix string) *harness {
	tb.Helper()
	h := &harness{tb: tb}
	tree, err := NewTree(prefix)
	if err != nil {
		tb.Fatal(err)
	}
	h.tree = tree
	s, err := store.Open(filepath.Join(tb.TempDir(), "db"), store.Options{OnCommit: func(_ int64, evs []cairn.Event) {
		h.events = append(h.events, evs...)
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	h.s = s
	return h
}

// apply runs req in a batch of its own, as the server's apply would, and
// returns the event or the *Error; store errors fail the test.
func (h *harness) apply(req *Request) (*Event, *Error) {
	h.tb.Helper()
	b := h.s.Begin()
	ev, err := h.tree.Apply(b, req)
	var v2err *Error
	if err != nil && !errors.As(err, &v2err) {
		b.Abort()
		h.tb.Fatalf("Apply(%+v): %v", req, err)
	}
	if err := b.Commit(h.s.ConsistentIndex() + 1); err != nil {
		h.tb.Fatal(err)
	}
	return ev, v2err
}

// get reads p at the store's current revision.
func (h *harness) get(p string, recursive bool) (*Event, *Error) {
	h.tb.Helper()
	ev, err := h.tree.Get(h.s, h.s.Rev(), p, recursive)
	var v2err *Error
	if err != nil && !errors.As(err, &v2err) {
		h.tb.Fatalf("Get(%q): %v", p, err)
	}
	return ev, v2err
}

// v3put writes a key as a v3 client would.
func (h *harness) v3put(key, value string) {
	h.tb.Helper()
	b := h.s.Begin()
	if _, err := b.Put(&cairn.PutRequest{Key: []byte(key), Value: []byte(value)}); err != nil {
		h.tb.Fatal(err)
	}
	if err := b.Commit(h.s.ConsistentIndex() + 1); err != nil {
		h.tb.Fatal(err)
	}
}

// jsonOf returns the JSON of an event or an error (whichever is set) as
// etcd would write it.
func jsonOf(tb testing.TB, ev *Event, err *Error) string {
	tb.Helper()
	var v any = ev
	if err != nil {
		v = err
	}
	b, e := json.Marshal(v)
	if e != nil {
		tb.Fatal(e)
	}
	return string(b)
}

func yes() *bool { t := true; return &t }
func no() *bool  { f := false; return &f }
