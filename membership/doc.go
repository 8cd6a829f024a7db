// Package membership owns a cluster's replicated state that is not in the
// store: its members (id, name, peer and client URLs, learner or voter),
// the ids of removed members, which never come back, and the raised alarms.
//
// The member core's applier changes a Cluster in raft log order, from
// configuration-change entries (ApplyConfChange; the change's Context is a
// Member's JSON), from the attributes a member publishes about itself
// (SetAttributes) and from alarm requests (ApplyAlarm), and saves it to
// <data-dir>/cluster.json (FileName) before the batch is acknowledged.
// Anyone may read it. A received raft snapshot carries the leader's state in
// the same format (Encode, Restore).
//
// Every change is idempotent given the changes after it, so the saved state
// may run ahead of the raft log's replay after a restart: replaying the
// entries after the latest raft snapshot on top of it ends in the same
// state.
//
// cluster.json, for a member m1 (id 0x1234) and a learner (0x99), members
// 3 and 5 removed, one NOSPACE alarm:
//
//	{"index":77,
//	 "members":[{"id":153,"peer_urls":["http://10.0.0.9:2380"],"is_learner":true},
//	            {"id":4660,"name":"m1","peer_urls":["http://10.0.0.1:2380"],
//	             "client_urls":["http://10.0.0.1:2379"]}],
//	 "removed":[3,5],
//	 "alarms":[{"member_id":4660,"alarm":"NOSPACE"}]}
//
// golden_test.go pins these bytes. The package knows nothing of the store,
// HTTP or the raft log on disk; it imports raft's protobuf types for the
// configuration changes it applies.
package membership
