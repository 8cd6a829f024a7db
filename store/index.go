package store

import (
	"bytes"
	"sort"

	"github.com/google/btree"
)

// The key index: for every key, the revisions of its history that the store
// still holds, grouped in generations. It answers "which revision of key k is
// visible at revision R" without touching bbolt; the values live in bbolt.
//
// A generation is one life of a key: it starts with the put that creates the
// key and, unless it is the key's last generation, ends with the tombstone
// of the delete that removed it. The last generation is open: it is empty
// when the key is currently deleted. Example, for puts of k at 2 and 4, a
// delete at 5 and a put at 7:
//
//	gens[0] = {created 2, ver 2, revs [2.0 4.0 5.0(tombstone)]}
//	gens[1] = {created 7, ver 1, revs [7.0]}
//
// Compaction at revision C drops what no read at a revision >= C can see:
// the generations that ended at or before C, and inside the first remaining
// generation every revision older than the newest one at or below C. With
// C = 4 above, gens[0] keeps [4.0 5.0] (reads at 4 still see the put of 4);
// with C = 5, gens[0] is dropped entirely (k is deleted at 5) and only
// gens[1] remains; with C = 6 likewise. A key whose last generation is empty
// and alone is removed from the tree.

// generation is one life of a key, see above. created is the key's
// create_revision in this life and ver the version of the newest put in
// revs; versions of older puts count down from it (compaction only ever
// trims the front of revs, so this stays true).
type generation struct {
	created int64
	ver     int64
	revs    []revision
}

// keyIndex is the history of one key. key is never modified after the
// keyIndex is created, so readers may keep it after releasing the index lock.
type keyIndex struct {
	key  []byte
	gens []generation
	// lease is the lease named by the newest put of a live key (NoLease for
	// none or a deleted key). Only the applier reads or writes it (lease.go,
	// setKeyLease).
	lease int64
}

func lessKeyIndex(a, b *keyIndex) bool { return bytes.Compare(a.key, b.key) < 0 }

// index is the ordered set of keyIndexes. It does no locking: Store.mu guards
// it (readers hold it shared; the applier mutates under it exclusively).
type index struct {
	tree *btree.BTreeG[*keyIndex]
}

func newIndex() *index {
	return &index{tree: btree.NewG(32, lessKeyIndex)}
}

// get returns the keyIndex of key, or nil.
func (ix *index) get(key []byte) *keyIndex {
	ki, _ := ix.tree.Get(&keyIndex{key: key})
	return ki
}

// getOrCreate returns the keyIndex of key, inserting an empty one (with a
// private copy of key) if absent.
func (ix *index) getOrCreate(key []byte) *keyIndex {
	if ki := ix.get(key); ki != nil {
		return ki
	}
	ki := &keyIndex{key: bytes.Clone(key), gens: []generation{{}}}
	ix.tree.ReplaceOrInsert(ki)
	return ki
}

// visit calls f for every keyIndex in the range named by key and end, with
// etcd's conventions: end empty names the single key; end "\x00" every key
// >= key; otherwise [key, end). It stops when f returns false.
func (ix *index) visit(key, end []byte, f func(ki *keyIndex) bool) {
	if len(end) == 0 {
		if ki := ix.get(key); ki != nil {
			f(ki)
		}
		return
	}
	unbounded := len(end) == 1 && end[0] == 0
	if !unbounded && bytes.Compare(key, end) >= 0 {
		return
	}
	ix.tree.AscendGreaterOrEqual(&keyIndex{key: key}, func(ki *keyIndex) bool {
		if !unbounded && bytes.Compare(ki.key, end) >= 0 {
			return false
		}
		return f(ki)
	})
}

// at returns the revision of ki visible at main revision atRev with its
// create_revision and version; ok is false if the key does not exist at
// atRev.
func (ki *keyIndex) at(atRev int64) (rev revision, created, ver int64, ok bool) {
	last := len(ki.gens) - 1
	for i := last; i >= 0; i-- {
		g := &ki.gens[i]
		n := len(g.revs)
		if n == 0 || g.revs[0].main > atRev {
			continue
		}
		puts := n
		if i < last {
			// Ended generation: its last revision is the tombstone.
			if g.revs[n-1].main <= atRev {
				return revision{}, 0, 0, false
			}
			puts--
		}
		var j int
		if g.revs[puts-1].main <= atRev {
			j = puts - 1 // the common case: the newest put
		} else {
			j = sort.Search(puts, func(j int) bool { return g.revs[j].main > atRev }) - 1
		}
		return g.revs[j], g.created, g.ver - int64(puts-1-j), true
	}
	return revision{}, 0, 0, false
}

// live reports whether the key exists in the newest state of the index.
func (ki *keyIndex) live() bool {
	return len(ki.gens[len(ki.gens)-1].revs) > 0
}

// current returns the newest revision of a live key with its
// create_revision and version.
func (ki *keyIndex) current() (rev revision, created, ver int64) {
	g := &ki.gens[len(ki.gens)-1]
	return g.revs[len(g.revs)-1], g.created, g.ver
}

// put records a put at rev (newer than every revision of ki) and returns the
// key's create_revision and version after it.
func (ki *keyIndex) put(rev revision) (created, ver int64) {
	g := &ki.gens[len(ki.gens)-1]
	if len(g.revs) == 0 {
		g.created, g.ver = rev.main, 0
	}
	g.ver++
	g.revs = append(g.revs, rev)
	return g.created, g.ver
}

// restorePut records a put read back from bbolt, trusting the record's
// create_revision and version (older revisions may be compacted away).
func (ki *keyIndex) restorePut(rev revision, created, ver int64) {
	g := &ki.gens[len(ki.gens)-1]
	if len(g.revs) == 0 {
		g.created = created
	}
	g.ver = ver
	g.revs = append(g.revs, rev)
}

// tombstone records a delete of a live key at rev and opens a new, empty
// generation. It reports false (and changes nothing) if the key is not live.
func (ki *keyIndex) tombstone(rev revision) bool {
	if !ki.live() {
		return false
	}
	g := &ki.gens[len(ki.gens)-1]
	g.revs = append(g.revs, rev)
	ki.gens = append(ki.gens, generation{})
	return true
}

// compact drops the history of ki that no read at a revision >= atRev needs
// (see the walk-through at the top of this file). It reports whether ki is
// now empty and must leave the tree.
func (ki *keyIndex) compact(atRev int64) (empty bool) {
	last := len(ki.gens) - 1
	first := 0
	for first < last {
		g := &ki.gens[first]
		if g.revs[len(g.revs)-1].main > atRev {
			break
		}
		first++
	}
	if first > 0 {
		ki.gens = append(ki.gens[:0:0], ki.gens[first:]...)
	}
	g := &ki.gens[0]
	if n := len(g.revs); n > 0 {
		j := sort.Search(n, func(j int) bool { return g.revs[j].main > atRev }) - 1
		if j > 0 {
			g.revs = append(g.revs[:0:0], g.revs[j:]...)
		}
	}
	return len(ki.gens) == 1 && len(ki.gens[0].revs) == 0
}

// has reports whether rev is still one of ki's revisions.
func (ki *keyIndex) has(rev revision) bool {
	for i := range ki.gens {
		revs := ki.gens[i].revs
		j := sort.Search(len(revs), func(j int) bool { return !revs[j].less(rev) })
		if j < len(revs) && revs[j] == rev {
			return true
		}
	}
	return false
}
