package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
)

func listString(t *testing.T, resp *ListResponse, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, e := range resp.Entries {
		s := string(e.Name)
		if e.Kv != nil {
			s += "=" + string(e.Kv.Value)
		}
		if e.HasChildren {
			s += "/"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestList checks the direct children of a prefix: files, subtrees,
// a key that is both, names sorting between a name and its subtree
// ("a!" < "a/"), empty names, deleted keys, other prefixes (/foo vs
// /foobar), revisions and the batch's own writes.
func TestList(t *testing.T) {
	s := MustNew(t)
	for _, k := range []string{"/d/a", "/d/a!", "/d/a/x", "/d/a/y/z", "/d/b/c", "/d/", "/d//e", "/dd", "/d0", "/e"} {
		MustPut(t, s, k, "v"+k)
	}
	rev := s.Rev()
	MustDelete(t, s, "/d/b/c", "")
	MustPut(t, s, "/d/c", "new")

	for _, tc := range []struct {
		prefix string
		rev    int64
		want   string
	}{
		{"/d/", 0, "=v/d// a=v/d/a/ a!=v/d/a! c=new"},
		{"/d/", rev, "=v/d// a=v/d/a/ a!=v/d/a! b/"},
		{"/d/a/", 0, "x=v/d/a/x y/"},
		{"/", 0, "d/ d0=v/d0 dd=v/dd e=v/e"},
		{"/nothing/", 0, ""},
		{"/d", 0, "/ 0=v/d0 d=v/dd"}, // a prefix that is not a directory is just bytes
	} {
		resp, err := s.List(&ListRequest{Prefix: []byte(tc.prefix), Sep: '/', Revision: tc.rev})
		got := listString(t, resp, err)
		if got != tc.want {
			t.Errorf("List(%q at %d) = %q, want %q", tc.prefix, tc.rev, got, tc.want)
		}
	}
	for prefix, want := range map[string]string{"/d/": "=v/d/", "/d/a/": "x=v/d/a/x", "/d/b/": "", "/": "d/"} {
		resp, err := s.List(&ListRequest{Prefix: []byte(prefix), Sep: '/', Limit: 1})
		if got := listString(t, resp, err); got != want {
			t.Errorf("List(%q, limit 1) = %q, want %q", prefix, got, want)
		}
	}
	if _, err := s.List(&ListRequest{Prefix: []byte("/"), Sep: '/', Revision: s.Rev() + 1}); err != cairn.ErrFutureRev {
		t.Errorf("List at a future revision: %v, want ErrFutureRev", err)
	}

	MustApply(t, s, func(b *Batch) {
		if _, err := b.Put(&cairn.PutRequest{Key: []byte("/d/b"), Value: []byte("batch")}); err != nil {
			t.Fatal(err)
		}
		resp, err := b.List(&ListRequest{Prefix: []byte("/d/"), Sep: '/'})
		if got, want := listString(t, resp, err), "=v/d// a=v/d/a/ a!=v/d/a! b=batch c=new"; got != want {
			t.Errorf("Batch.List = %q, want %q", got, want)
		}
	})
}

// TestListSkipsSubtrees checks that List's walk is bounded by the children:
// 3 children with 2000 keys under each are found with a handful of seeks.
func TestListSkipsSubtrees(t *testing.T) {
	s := MustNew(t)
	MustApply(t, s, func(b *Batch) {
		for _, c := range []string{"a", "b", "c"} {
			for i := range 2000 {
				if _, err := b.Put(&cairn.PutRequest{Key: []byte(fmt.Sprintf("/big/%s/%04d", c, i))}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	s.mu.RLock()
	hits, deeper, visited := s.idx.children([]byte("/big/"), '/', s.rev, 0)
	s.mu.RUnlock()
	// One key per child plus the first key past the prefix (none here).
	if visited != 3 || len(hits) != 0 || len(deeper) != 3 {
		t.Fatalf("visited %d keys, %d hits, deeper %q", visited, len(hits), deeper)
	}
}
