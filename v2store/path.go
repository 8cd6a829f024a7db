package v2store

import (
	"fmt"
	"path"
	"strings"
)

// This file is the only place that turns v2 paths into store keys and back:
// the mapping's one encoding. Everything else about a node (directory or
// file, the v2 action of a change) is a field of the store's records.

// Tree is the v2 tree over the flat store: the v2 path /a/b is the store
// key Prefix+"/a/b". Prefix is "" by default (v2 and v3 clients share
// keys byte for byte); --v2-prefix moves the whole v2 tree under a prefix
// such as "/v2". A Tree holds no state; its methods are safe for
// concurrent use.
type Tree struct {
	// Prefix is prepended to every v2 path; it does not end with '/'.
	Prefix string
}

// NewTree returns the tree under prefix. The prefix must be "" or start
// with '/' and not end with '/' (NewTree("/v2")): error otherwise.
func NewTree(prefix string) (*Tree, error) {
	if prefix != "" && (prefix[0] != '/' || strings.HasSuffix(prefix, "/")) {
		return nil, fmt.Errorf("v2store: prefix %q must be empty or start with / and not end with /", prefix)
	}
	return &Tree{Prefix: prefix}, nil
}

// CleanPath returns the canonical v2 path of p as etcd v2 computes it:
// rooted at "/", with "//", "." and ".." resolved and no trailing '/'
// (path.Clean("/" + p)). "" and "/" are the root.
func CleanPath(p string) string { return path.Clean("/" + p) }

// Key returns the store key of the clean v2 path p (see CleanPath). The
// root "/" has no key of its own: Key("/") is the prefix of its children
// (Prefix+"/").
func (t *Tree) Key(p string) []byte {
	if p == "/" {
		return []byte(t.Prefix + "/")
	}
	return []byte(t.Prefix + p)
}

// childPrefix returns the store prefix of the direct children of the clean
// path p: Key(p)+"/" ("/" for the root, so that /foo lists /foo/x, never
// /foobar).
func (t *Tree) childPrefix(p string) []byte {
	if p == "/" {
		return []byte(t.Prefix + "/")
	}
	return []byte(t.Prefix + p + "/")
}

// subtreeEnd returns the end of the store range [Key(p), end) that holds
// the key of the clean path p and every key under it: childPrefix(p) with
// its '/' raised to '0' (Prefix+"0" for the root). The range holds siblings
// too, keys such as Key(p)+"!" that sort between Key(p) and Key(p)+"/":
// whoever reads it skips them (visibleUnder).
func (t *Tree) subtreeEnd(p string) []byte { return prefixEnd(t.childPrefix(p)) }

// prefixEnd returns the end of the range of keys starting with pfx, which
// ends with '/': the same bytes with '/' raised to '0'.
func prefixEnd(pfx []byte) []byte {
	end := append([]byte(nil), pfx...)
	end[len(end)-1]++
	return end
}

// Path returns the v2 path of a store key and whether the key is a node of
// the v2 tree at all. A key is in the tree if it starts with Prefix+"/"
// and the rest is a clean path: v3 keys without a leading '/', with an
// empty segment ("/a//b", "/a/"), or with a "." or ".." segment cannot be
// named by a v2 client and are left out of v2 listings and watches.
func (t *Tree) Path(key []byte) (string, bool) {
	if len(key) <= len(t.Prefix)+1 || string(key[:len(t.Prefix)]) != t.Prefix || key[len(t.Prefix)] != '/' {
		return "", false
	}
	p := string(key[len(t.Prefix):])
	return p, CleanPath(p) == p
}

// childName reports whether name, the part of a key after a directory's
// child prefix up to the next '/', names a v2 node: not empty, ".", or "..".
func childName(name []byte) bool {
	switch string(name) {
	case "", ".", "..":
		return false
	}
	return true
}

// Hidden reports whether the last segment of the clean path p starts with
// '_': etcd v2 leaves such nodes out of directory listings (a GET of the
// path itself still finds them).
func Hidden(p string) bool {
	return strings.HasPrefix(path.Base(p), "_")
}

// visibleUnder reports whether the clean path c lies strictly under the
// clean path dir ("/foobar" is not under "/foo") and no node below dir on
// the way down to c, c included, is hidden (a name starting with '_'):
// whether a recursive watch of dir shows a change of c.
func visibleUnder(dir, c string) bool {
	base := dir + "/"
	if dir == "/" {
		base = "/"
	}
	rest, ok := strings.CutPrefix(c, base)
	if !ok || rest == "" {
		return false
	}
	for name := range strings.SplitSeq(rest, "/") {
		if strings.HasPrefix(name, "_") {
			return false
		}
	}
	return true
}

// join returns the clean path of the child name of the directory dir.
func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// ancestors returns the directories above the clean path p, outermost
// first, without the root: "/a/b/c" gives ["/a", "/a/b"].
func ancestors(p string) []string {
	var out []string
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}

// inOrderName returns the name of the in-order key created at revision
// rev: the decimal revision zero-padded to 20 digits, as etcd v2's
// CreateInOrder names them (so that names sort as numbers).
func inOrderName(rev int64) string { return fmt.Sprintf("%020d", rev) }
