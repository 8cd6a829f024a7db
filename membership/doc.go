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
// golden_test.go pins these bytes.
//
// Around the state, the rules of membership: the ids of a new cluster
// (Initial), how a member added to a running one finds itself in it (Join,
// asking the others through a fetch function the member gives it), the
// checks before a change is proposed (Cluster.CheckAdd, CheckUpdate,
// Existing, CheckQuorumAfter), and --force-new-cluster's rewrite of the
// raft log (ForceNewCluster, through the RaftLog interface).
//
// The package knows nothing of the store or HTTP, and reaches the raft log
// only through RaftLog; it imports raft's protobuf types for the
// configuration changes it applies.
package membership
