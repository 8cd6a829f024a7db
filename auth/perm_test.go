package auth

import (
	"testing"

	"github.com/cairnkv/cairn"
)

// The permission rule, etcd's: one key needs one permission covering it; a
// range needs the union of the permissions to cover all of it.
func TestCovered(t *testing.T) {
	rw := func(k, e string) cairn.Permission {
		return cairn.Permission{PermType: cairn.PermReadWrite, Key: []byte(k), RangeEnd: []byte(e)}
	}
	read := func(k, e string) cairn.Permission {
		return cairn.Permission{PermType: cairn.PermRead, Key: []byte(k), RangeEnd: []byte(e)}
	}
	perms := []cairn.Permission{rw("a", "c"), rw("c", "d"), read("x", ""), read("p/", "p0"), rw("z", "\x00")}
	for _, c := range []struct {
		name     string
		want     cairn.PermType
		key, end string
		ok       bool
	}{
		{"one key inside a range", cairn.PermWrite, "b", "", true},
		{"range across two adjacent grants", cairn.PermRead, "a", "d", true},
		{"range past the grants", cairn.PermRead, "a", "e", false},
		{"range end at the grant's end", cairn.PermRead, "b", "c", true},
		{"the grant's end itself", cairn.PermRead, "d", "", false},
		{"single-key grant, read", cairn.PermRead, "x", "", true},
		{"single-key grant, write", cairn.PermWrite, "x", "", false},
		{"single-key grant does not cover a range from it", cairn.PermRead, "x", "y", false},
		{"a key longer than the single-key grant", cairn.PermRead, "xx", "", false},
		{"prefix grant, key under it", cairn.PermRead, "p/q", "", true},
		{"prefix grant, the whole prefix", cairn.PermRead, "p/", "p0", true},
		{"prefix grant, /foo vs /foobar", cairn.PermRead, "p", "", false},
		{"open-ended grant", cairn.PermWrite, "zzz", "\x00", true},
		{"open-ended request past a bounded grant", cairn.PermRead, "a", "\x00", false},
		{"backwards range", cairn.PermRead, "c", "b", false},
		{"empty key before every grant", cairn.PermRead, "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := covered(perms, c.want, []byte(c.key), []byte(c.end)); got != c.ok {
				t.Errorf("covered(%q, %q) = %v, want %v", c.key, c.end, got, c.ok)
			}
		})
	}
}
