package peer

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/snapshot"
)

// The identity headers of every peer request (see the package doc), and the
// trailer of a snapshot.
const (
	hdrClusterID = "X-Etcd-Cluster-ID"
	hdrFrom      = "X-Server-From"
	hdrTo        = "X-Raft-To"
	hdrSnapSum   = "X-Snapshot-Sha256"
)

const (
	// streamKeepalive is how often an idle stream carries a keepalive frame.
	streamKeepalive = 2 * time.Second
	// streamIdleTimeout is how long a receiver waits for the next frame.
	streamIdleTimeout = 4 * streamKeepalive
	// peerWriteTimeout bounds each write on a peer connection: a peer that
	// takes no bytes for that long is unreachable.
	peerWriteTimeout = 5 * time.Second
	// peerDialTimeout bounds connecting to a peer.
	peerDialTimeout = 3 * time.Second
	// maxPendingBytes bounds the messages queued for one peer; beyond it new
	// messages are dropped (raft sends again).
	maxPendingBytes = 64 << 20
	// maxFrameBytes bounds one message on the wire.
	maxFrameBytes = 512 << 20
	// maxBackoff caps the wait between attempts to reach a peer.
	maxBackoff = time.Second
)

// ErrMemberRemoved is why a removed member stops, etcd's message. It is
// the body of a 410 answer to a removed sender.
var ErrMemberRemoved = errors.New("the member has been permanently removed from the cluster")

// Config is what a Transport needs to know of its member.
type Config struct {
	// MemberID and ClusterID are this member's identity, sent with (and
	// checked on) every peer request.
	MemberID, ClusterID uint64
	// Logger receives the transport's log lines.
	Logger *slog.Logger
	// Snapshots is where received snapshots are stored (Dir.Receive)
	// before their message is handed to raft.
	Snapshots *snapshot.Dir
	// Stopping is closed when the member begins to stop: incoming streams
	// end at once, so their senders learn it is gone. Stop must still be
	// called.
	Stopping <-chan struct{}
	// Raft receives the messages and the reports.
	Raft Raft
	// Member answers the requests that are not raft messages.
	Member Member
	// TLS gives the client configuration of each new connection to a peer
	// at an https URL; serverName is the URL's host, which the peer's
	// certificate must name. nil means https peers cannot be reached.
	TLS func(serverName string) *tls.Config
}

// Transport sends raft messages to the other members and receives theirs,
// and carries the few requests a member makes of another (snapshots,
// member lists, forwarded lease requests and promotions). Its methods are
// safe for concurrent use. Create it with New and serve Handler on the
// member's peer URLs.
type Transport struct {
	memberID, clusterID uint64
	log                 *slog.Logger
	snaps               *snapshot.Dir
	stopping            <-chan struct{}
	raft                Raft
	member              Member
	stats               *peerStats
	metrics             *metrics

	// dialer connects to peers: streams dial their own connection (see
	// peer.open); client carries snapshots, member lists and forwarded
	// lease requests.
	dialer *dialer
	client *http.Client

	mu    sync.Mutex
	peers map[uint64]*peer

	refusedMu sync.Mutex
	refused   map[string]time.Time // last log line per refused peer

	stopc chan struct{}
	wg    sync.WaitGroup
}

// New returns a transport that knows no peer yet (see SetPeer).
func New(cfg Config) *Transport {
	d := &dialer{tls: cfg.TLS}
	return &Transport{
		memberID:  cfg.MemberID,
		clusterID: cfg.ClusterID,
		log:       cfg.Logger,
		snaps:     cfg.Snapshots,
		stopping:  cfg.Stopping,
		raft:      cfg.Raft,
		member:    cfg.Member,
		stats:     newPeerStats(),
		metrics:   newMetrics(),
		dialer:    d,
		client:    d.client(0),
		peers:     map[uint64]*peer{},
		refused:   map[string]time.Time{},
		stopc:     make(chan struct{}),
	}
}

// SetPeer adds member id with urls, or updates its urls, and keeps a
// stream open to it from then on. This member and an empty urls are
// ignored, and so is every call after Stop.
func (t *Transport) SetPeer(id uint64, urls []string) {
	if id == t.memberID || len(urls) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-t.stopc:
		return
	default:
	}
	if p := t.peers[id]; p != nil {
		p.setURLs(urls)
		return
	}
	p := newPeer(t, id, urls)
	t.peers[id] = p
	t.wg.Add(1)
	go p.run()
}

// Active reports whether member id accepted this member's stream and it is
// still up.
func (t *Transport) Active(id uint64) bool {
	p := t.peer(id)
	return p != nil && p.active.Load()
}

// RemovePeer stops talking to member id: its stream is closed and its
// queue dropped. It returns once the peer's writer has ended.
func (t *Transport) RemovePeer(id uint64) {
	t.mu.Lock()
	p := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// Peers returns the ids of the members the transport talks to, sorted; the
// slice is the caller's.
func (t *Transport) Peers() []uint64 {
	t.mu.Lock()
	ids := make([]uint64, 0, len(t.peers))
	for id := range t.peers {
		ids = append(ids, id)
	}
	t.mu.Unlock()
	slices.Sort(ids)
	return ids
}

func (t *Transport) peer(id uint64) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peers[id]
}

// Send queues msgs for their receivers; it never blocks on the network.
// Messages to members the transport does not know are dropped (raft sends
// again). The messages are kept, not copied, until they are written: their
// entries must not change in place (raft never changes them).
func (t *Transport) Send(msgs []raftpb.Message) {
	for i := range msgs {
		m := &msgs[i]
		p := t.peer(m.To)
		if p == nil {
			continue // a member raft knows and we do not yet (or not any more)
		}
		if m.Type == raftpb.MsgSnap {
			p.sendSnapshot(*m)
			continue
		}
		p.enqueue(m)
	}
}

// Stop closes every stream and waits for the peer goroutines. It is
// idempotent.
func (t *Transport) Stop() {
	t.mu.Lock()
	select {
	case <-t.stopc:
		t.mu.Unlock()
		return
	default:
	}
	close(t.stopc)
	peers := t.peers
	t.peers = map[uint64]*peer{}
	t.mu.Unlock()
	for _, p := range peers {
		p.stop()
	}
	t.wg.Wait()
	t.client.CloseIdleConnections()
}

// setHeaders marks a request to member to as coming from this member.
func (t *Transport) setHeaders(h http.Header, to uint64) {
	h.Set(hdrClusterID, strconv.FormatUint(t.clusterID, 16))
	h.Set(hdrFrom, strconv.FormatUint(t.memberID, 16))
	h.Set(hdrTo, strconv.FormatUint(to, 16))
}
