// Package entry owns the payload of cairn's normal raft entries: the
// requests a member proposes (Request: v3 writes, compaction, lease grants,
// revokes and expiries, v2 writes, member attributes, alarms, auth
// changes) and their two
// encodings on disk, binary for puts and v2 writes, JSON for the rest
// (codec.go has the byte layout). These bytes live in every member's raft
// log and are read back by every later version: golden_test.go pins every
// kind, byte for byte, and the JSON of the contract's request types is
// pinned by their json tags (package cairn).
//
// The package knows the formats only: the member core (package server)
// proposes requests and applies them; configuration changes are raft's own
// entries and carry a membership.Member as their context.
package entry
