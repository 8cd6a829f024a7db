// Package v2store is etcd's v2 keys API expressed over cairn's flat MVCC
// store (package store): v2 files, directories, hidden keys, in-order keys
// and actions as store transactions, and store events turned back into v2
// events. It knows nothing of HTTP or raft: package httpapi parses v2
// requests into a Request and writes Events and Errors; package server
// proposes a Request through raft and runs Tree.Apply on the batch of the
// entry; reads call Tree.Get on the store at one revision.
//
// docs/v2-mapping.md is the manual for users; in short:
//
//   - The v2 path /a/b is the store key Tree.Prefix+"/a/b" (Prefix "" by
//     default): v3 clients read and write the same bytes. path.go is the
//     only file that turns paths into keys and back.
//   - A directory is a key with the store's dir flag (cairn.KeyValue.Dir)
//     and no value. Every directory a v2 write creates, explicitly or on
//     the way to a file, gets one, so empty directories stay and have
//     createdIndex/modifiedIndex. Keys under a path without a key of its
//     own (written by v3 clients) make an implicit directory, shown
//     without indexes, like the root. A key without the dir flag that has
//     keys under it (a v3 conflict) is a directory for v2 too.
//   - Listing a directory lists the direct children of Key+"/" with
//     store.List, which seeks past each child's subtree; "/foo" never
//     lists "/foobar". Children named "" "." or ".." (v3 keys such as
//     "/a//b" or "/a/") and keys without a leading '/' are not in the tree;
//     hidden children (a name starting with '_') are left out of listings.
//   - Each v2 write is one store transaction, one revision: X-Etcd-Index,
//     createdIndex and modifiedIndex are the store's revision,
//     create_revision and mod_revision. The action is a field of the
//     revision record (cairn.Action): the changed node carries it, the
//     side changes (parents created on the way, keys deleted with their
//     directory) carry cairn.ActionImplied and are not v2 events.
//   - A v2 watch of p (Tree.Watch) watches the store key Key(p) or, with
//     recursive, the range [Key(p), Key(p)+"0"): the key and its subtree,
//     but also siblings such as Key(p)+"!". Watch.Event skips those, keys
//     not in the tree, hidden nodes below a recursive watch and
//     ActionImplied changes (refreshes included), and turns the rest into
//     v2 events.
//
// Example: on a new store, PUT /a/b value=1 then POST /q value=x:
//
//	revision 2: /a    dir  ActionImplied
//	            /a/b  "1"  ActionSet       -> {"action":"set","node":{"key":"/a/b",...,"modifiedIndex":2}}
//	revision 3: /q                    dir  ActionImplied
//	            /q/00000000000000000003  "x"  ActionCreate
package v2store
