// Package peer is the peer transport of a cairn member: it carries raft
// messages and snapshots between the members of a cluster over HTTP on
// their peer URLs (--listen-peer-urls / --initial-advertise-peer-urls), and
// the few requests one member makes of another. It owns the endpoints, the
// framing, the identity headers, the streams, snapshot transfer and the
// forwarded requests; it knows nothing of the store or of the client APIs.
// The member gives it a Raft (etcd's rafthttp.Raft: Process,
// IsIDRemoved, ReportUnreachable, ReportSnapshot) and a Member for the rest,
// and drives it with Send, SetPeer and RemovePeer.
//
// # Endpoints
//
//	POST /raft/stream     a long-lived request whose chunked body is a stream
//	                      of message frames from the sender to the receiver
//	POST /raft/snapshot   one raft snapshot message, the leader's cluster
//	                      state and its store file, streamed (snapshot.go)
//	GET  /members         the cluster's members (a joining member asks:
//	                      FetchMembers)
//	GET  /version         the server and cluster versions, as etcd's
//	POST /lease/...       lease requests a follower forwards to the leader
//	                      (lease.go)
//	POST /members/promote/<id>  a learner promotion, forwarded to the leader
//	                      (members.go)
//
// # Streams and framing
//
// Each member opens one stream to each other member (one POST /raft/stream
// per ordered pair of members, on a connection of its own) and writes to it
// whatever raft gave it for that member since its last write, in one chunk,
// so messages are batched under load and sent at once when idle. What raft
// handles the same merged is merged first (coalesce.go: chained appends,
// accepted append answers, forwarded proposals: raft sends one append per
// proposal, and a follower answers each). A frame is a 4-byte big-endian
// length and that many bytes of a protobuf raftpb.Message; a zero length is
// a keepalive, written when the stream was idle for streamKeepalive (2s).
// Streams stay open while idle, so a member knows which peers are reachable
// (Active). A receiver ends a stream that stays silent for streamIdleTimeout.
//
// For example, one write carrying one message of 20 bytes (a heartbeat
// whose fields are all zero) is the chunk
//
//	00000018\r\n  00 00 00 14  <20 bytes of raftpb.Message>  \r\n
//
// and a keepalive is the chunk "00000004\r\n" 00 00 00 00 "\r\n".
//
// # Identity
//
// Every peer request carries the sender's cluster id (X-Etcd-Cluster-ID),
// its member id (X-Server-From) and the id it expects the receiver to have
// (X-Raft-To), all in hex. A receiver of another cluster, or with another
// id, answers 412 and both sides log it; a sender that was removed from the
// cluster gets 410 (ErrMemberRemoved's text) and stops (Member.Removed).
// The sender reports a peer it cannot reach to raft (ReportUnreachable),
// and the outcome of every snapshot it sends (ReportSnapshot).
//
// # TLS
//
// A peer URL may be https. The member's peer listener is then a TLS one
// (the caller's: it serves Handler), and this transport dials such a peer
// with the configuration Config.TLS gives for each new connection: the
// member's peer certificate as its client certificate, the peer CA to check
// the other side (so a peer the CA did not sign is refused both ways when
// every member has --peer-trusted-ca-file). The stream's hand-written
// HTTP/1.1 runs unchanged inside the TLS connection (dial.go).
//
// # Snapshots
//
// A follower too far behind gets a MsgSnap from raft on the leader; the
// transport streams it in POST /raft/snapshot with the leader's cluster
// state and a consistent copy of its store file (Member.WriteSnapshot),
// checked by a SHA-256 trailer. The follower writes both into its
// snapshot.Dir (fsynced), then steps the message into raft (Raft.Process).
//
// # Stats
//
// On the leader the transport measures each follower as etcd's
// /v2/stats/leader shows it (FollowerStats): heartbeat round trips and
// messages it could not send. Collectors gives the same as Prometheus
// metrics under etcd's names (etcd_network_peer_*: bytes sent and
// received per peer, send failures, heartbeat round trips), for the member
// to register.
package peer
