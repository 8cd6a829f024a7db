package v2store

import (
	"slices"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "a": "/a", "/a/": "/a", "//a//b": "/a/b", "/a/./b": "/a/b",
		"/a/../b": "/b", "/../a": "/a", "/a/b/..": "/a", "/_x": "/_x",
	} {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyAndPath(t *testing.T) {
	for _, tc := range []struct {
		prefix, path, key string
	}{
		{"", "/", "/"},
		{"", "/foo", "/foo"},
		{"", "/foo/bar", "/foo/bar"},
		{"", "/_hidden", "/_hidden"},
		{"/v2", "/", "/v2/"},
		{"/v2", "/foo", "/v2/foo"},
	} {
		tr, err := NewTree(tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(tr.Key(tc.path)); got != tc.key {
			t.Errorf("prefix %q: Key(%q) = %q, want %q", tc.prefix, tc.path, got, tc.key)
		}
		if tc.path == "/" {
			continue
		}
		if p, ok := tr.Path([]byte(tc.key)); !ok || p != tc.path {
			t.Errorf("prefix %q: Path(%q) = %q, %v; want %q, true", tc.prefix, tc.key, p, ok, tc.path)
		}
	}
}

// TestPathOutsideTree: v3 keys a v2 client cannot name are not in the tree.
func TestPathOutsideTree(t *testing.T) {
	root, _ := NewTree("")
	pfx, _ := NewTree("/v2")
	for _, tc := range []struct {
		tree *Tree
		key  string
	}{
		{root, ""}, {root, "/"}, {root, "foo"}, {root, "foo/bar"}, {root, "/foo/"}, {root, "/a//b"},
		{root, "/a/./b"}, {root, "/a/../b"}, {root, "/.."},
		{pfx, "/v2"}, {pfx, "/v2/"}, {pfx, "/v2foo"}, {pfx, "/foo"}, {pfx, "/v2/a/"},
	} {
		if p, ok := tc.tree.Path([]byte(tc.key)); ok {
			t.Errorf("prefix %q: Path(%q) = %q, true; want not in the tree", tc.tree.Prefix, tc.key, p)
		}
	}
}

// TestChildPrefix: listing /foo must never reach /foobar (etcd's v2v3
// emulation's bug), and the root lists everything under "/".
func TestChildPrefix(t *testing.T) {
	tr, _ := NewTree("")
	for p, want := range map[string]string{"/": "/", "/foo": "/foo/", "/foo/bar": "/foo/bar/"} {
		if got := string(tr.childPrefix(p)); got != want {
			t.Errorf("childPrefix(%q) = %q, want %q", p, got, want)
		}
	}
	pfx, _ := NewTree("/v2")
	if got := string(pfx.childPrefix("/")); got != "/v2/" {
		t.Errorf("prefix /v2: childPrefix(/) = %q", got)
	}
}

func TestNewTreeRefuses(t *testing.T) {
	for _, p := range []string{"v2", "/v2/", "/"} {
		if _, err := NewTree(p); err == nil {
			t.Errorf("NewTree(%q) accepted", p)
		}
	}
}

func TestHiddenAncestorsNames(t *testing.T) {
	for p, want := range map[string]bool{"/_a": true, "/a/_b": true, "/_a/b": false, "/a": false, "/a_": false} {
		if Hidden(p) != want {
			t.Errorf("Hidden(%q) = %v", p, !want)
		}
	}
	if got := ancestors("/a/b/c"); !slices.Equal(got, []string{"/a", "/a/b"}) {
		t.Errorf("ancestors(/a/b/c) = %q", got)
	}
	if got := ancestors("/a"); len(got) != 0 {
		t.Errorf("ancestors(/a) = %q", got)
	}
	for name, want := range map[string]bool{"": false, ".": false, "..": false, "a": true, "...": true, "_x": true} {
		if childName([]byte(name)) != want {
			t.Errorf("childName(%q) = %v", name, !want)
		}
	}
	if got := inOrderName(11); got != "00000000000000000011" {
		t.Errorf("inOrderName(11) = %q", got)
	}
	if join("/", "a") != "/a" || join("/a", "b") != "/a/b" {
		t.Error("join")
	}
}

// TestVisibleUnder: what a recursive watch of dir shows: paths strictly
// under it ("/foobar" is not under "/foo"), none hidden below dir.
func TestVisibleUnder(t *testing.T) {
	for _, tc := range []struct {
		dir, p string
		want   bool
	}{
		{"/", "/a", true}, {"/", "/a/b", true}, {"/", "/_a", false}, {"/", "/a/_b/c", false},
		{"/foo", "/foo", false}, {"/foo", "/foo/x", true}, {"/foo", "/foobar", false}, {"/foo", "/fo", false},
		{"/foo", "/foo/_x", false}, {"/foo", "/foo/x/_y", false}, {"/foo", "/foo/x_/y", true},
		{"/_h", "/_h/x", true}, {"/a/_h", "/a/_h/x/y", true}, {"/a/_h", "/a/_h/_x", false},
	} {
		if got := visibleUnder(tc.dir, tc.p); got != tc.want {
			t.Errorf("visibleUnder(%q, %q) = %v, want %v", tc.dir, tc.p, got, tc.want)
		}
	}
}

// TestSubtreeEnd: the range [Key(p), subtreeEnd(p)) ends before "/foo0"
// and "/foobar"; the root's is the whole tree.
func TestSubtreeEnd(t *testing.T) {
	tr, _ := NewTree("")
	pfx, _ := NewTree("/v2")
	for _, tc := range []struct {
		tree    *Tree
		p, want string
	}{
		{tr, "/", "0"}, {tr, "/foo", "/foo0"}, {tr, "/a/b", "/a/b0"}, {pfx, "/", "/v20"}, {pfx, "/foo", "/v2/foo0"},
	} {
		if got := string(tc.tree.subtreeEnd(tc.p)); got != tc.want {
			t.Errorf("prefix %q: subtreeEnd(%q) = %q, want %q", tc.tree.Prefix, tc.p, got, tc.want)
		}
	}
}
