// Package concurrency serves etcd's v3lock and v3election services (the
// gateway's /v3/lock/... and /v3/election/... routes) over the contract's
// KV, lease and watch services, as etcd 3.4 serves them over its own
// client (etcd server/etcdserver/api/v3lock and v3election, which use
// clientv3/concurrency). Nothing here goes through the member's apply: a
// lock or a campaign is ordinary keys, transactions and watches, so any
// client could do the same with the KV API.
//
// A lock named N held under lease L is the key N + "/" + L in lowercase
// hexadecimal, with an empty value, attached to L. Its owner is the key
// under N + "/" with the lowest create_revision; the others wait, each
// for the deletion of the keys created just before it (no thundering
// herd). Unlock deletes the key; so does the expiry or revocation of L.
//
// An election named N is the same queue: a campaign puts its value at
// N + "/" + L and waits until it is the oldest key; the leader is that key
// (Leader, Observe); Proclaim changes its value while it is still the
// leader's; Resign deletes it.
package concurrency
