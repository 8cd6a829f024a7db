package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
	"go.etcd.io/raft/v3/raftpb"
)

// The peer transport carries raft messages between members over HTTP on the
// peer URLs (--listen-peer-urls / --initial-advertise-peer-urls).
//
//	POST /raft/stream     a long-lived request whose chunked body is a stream
//	                      of message frames from the sender to the receiver
//	POST /raft/snapshot   one raft snapshot message, the leader's cluster
//	                      state and its store file, streamed
//	GET  /members         the cluster's members (a joining member asks)
//	POST /lease/...       lease requests a follower forwards to the leader
//	                      (lease_forward.go)
//	POST /members/promote/<id>  a learner promotion, forwarded to the leader
//
// Each member opens one stream to each other member and writes to it
// whatever raft gave it for that member since its last write, so messages
// are batched under load and sent at once when idle. A frame is a 4-byte
// big-endian length and that many bytes of a protobuf raftpb.Message; a
// zero length is a keepalive, written when the stream was idle for
// streamKeepalive.
//
// Every peer request carries the sender's cluster id, its member id and the
// id it expects the receiver to have (headers below). A receiver of another
// cluster, or with another id, answers 412 and logs it; a sender that was
// removed from the cluster gets 410 and stops. The sender reports a peer it
// cannot reach to raft (ReportUnreachable), and the outcome of every
// snapshot it sends (ReportSnapshot).
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

// errMemberRemoved is why a removed member stops, etcd's message.
var errMemberRemoved = errors.New("the member has been permanently removed from the cluster")

// transport sends raft messages to the other members and receives theirs.
type transport struct {
	s *Server

	// dial connects to a peer (streams dial their own connection, see
	// peer.open); client carries snapshots, member lists and forwarded
	// lease requests.
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	client *http.Client

	mu    sync.Mutex
	peers map[uint64]*peer

	refusedMu sync.Mutex
	refused   map[string]time.Time // last log line per refused peer

	stopc chan struct{}
	wg    sync.WaitGroup
}

func newTransport(s *Server) *transport {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: peerDialTimeout, KeepAlive: 15 * time.Second}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: c}, nil
	}
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{
			DialContext:         dial,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		}}
	}
	return &transport{
		s:       s,
		dial:    dial,
		client:  newClient(),
		peers:   map[uint64]*peer{},
		refused: map[string]time.Time{},
		stopc:   make(chan struct{}),
	}
}

// deadlineConn gives every write a deadline, so a write to a peer that
// stopped reading fails instead of hanging.
type deadlineConn struct{ net.Conn }

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(peerWriteTimeout))
	return c.Conn.Write(b)
}

// setPeer adds member id with urls, or updates its urls.
func (t *transport) setPeer(id uint64, urls []string) {
	if id == t.s.memberID || len(urls) == 0 {
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

// active reports whether member id accepted this member's stream and it is
// still up.
func (t *transport) active(id uint64) bool {
	p := t.peer(id)
	return p != nil && p.active.Load()
}

// removePeer stops talking to member id.
func (t *transport) removePeer(id uint64) {
	t.mu.Lock()
	p := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

func (t *transport) peer(id uint64) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peers[id]
}

// send queues msgs for their receivers; it never blocks on the network.
func (t *transport) send(msgs []raftpb.Message) {
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

// stop closes every stream and waits for the peer goroutines.
func (t *transport) stop() {
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
func (t *transport) setHeaders(h http.Header, to uint64) {
	h.Set(hdrClusterID, strconv.FormatUint(t.s.clusterID, 16))
	h.Set(hdrFrom, strconv.FormatUint(t.s.memberID, 16))
	h.Set(hdrTo, strconv.FormatUint(to, 16))
}

// appendFrame appends m as one frame.
func appendFrame(buf []byte, m *raftpb.Message) []byte {
	n := m.Size()
	start := len(buf)
	buf = append(buf, make([]byte, 4+n)...)
	binary.BigEndian.PutUint32(buf[start:], uint32(n))
	if _, err := m.MarshalTo(buf[start+4:]); err != nil {
		panic(fmt.Sprintf("marshal raft message: %v", err)) // sizes come from Size
	}
	return buf
}

// readFrame reads one frame into *buf and returns its payload (empty for a
// keepalive).
func readFrame(r *bufio.Reader, buf *[]byte) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > maxFrameBytes {
		return nil, fmt.Errorf("frame of %d bytes exceeds the limit of %d", n, maxFrameBytes)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// writeBytesFrame writes b as one frame (used for the cluster state of a
// snapshot).
func writeBytesFrame(w io.Writer, b []byte) error {
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], uint32(len(b)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// handler serves the peer endpoints.
func (t *transport) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /raft/stream", t.serveStream)
	mux.HandleFunc("POST /raft/snapshot", t.serveSnapshot)
	mux.HandleFunc("GET /members", t.serveMembers)
	mux.HandleFunc("POST /members/promote/{id}", t.servePromote)
	mux.HandleFunc("GET /version", t.serveVersion)
	t.addLeaseRoutes(mux) // lease_forward.go
	return mux
}

// checkPeer checks the identity headers of a peer request and answers it
// when they are wrong: 412 for another cluster or another receiver, 410 for
// a removed sender. It returns the sender's id.
func (t *transport) checkPeer(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	s := t.s
	fail := func(status int, msg string) { refuse(w, status, msg) }
	cid, err1 := strconv.ParseUint(r.Header.Get(hdrClusterID), 16, 64)
	from, err2 := strconv.ParseUint(r.Header.Get(hdrFrom), 16, 64)
	to, err3 := strconv.ParseUint(r.Header.Get(hdrTo), 16, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		fail(http.StatusBadRequest, "missing or malformed peer identity headers")
		return 0, false
	}
	if cid != s.clusterID {
		t.logRefusal(r, "refused a peer of another cluster (check --initial-cluster-token and --initial-cluster)",
			"peer_cluster_id", fmt.Sprintf("%x", cid), "peer_member_id", fmt.Sprintf("%x", from))
		w.Header().Set(hdrClusterID, strconv.FormatUint(s.clusterID, 16))
		fail(http.StatusPreconditionFailed, fmt.Sprintf("cluster ID mismatch: this member is in cluster %x, the sender in %x", s.clusterID, cid))
		return 0, false
	}
	if s.cluster.isRemoved(from) {
		t.logRefusal(r, "refused a removed member", "peer_member_id", fmt.Sprintf("%x", from))
		fail(http.StatusGone, errMemberRemoved.Error())
		return 0, false
	}
	if to != s.memberID {
		t.logRefusal(r, "refused a peer that expected another member at this URL",
			"peer_member_id", fmt.Sprintf("%x", from), "expected_member_id", fmt.Sprintf("%x", to))
		fail(http.StatusPreconditionFailed, fmt.Sprintf("member ID mismatch: this is member %x, the sender expected %x", s.memberID, to))
		return 0, false
	}
	return from, true
}

// refuse answers a peer request with an error at once and drops the
// connection: the sender's body may be an endless stream, which net/http
// would otherwise try to drain before answering.
func refuse(w http.ResponseWriter, status int, msg string) {
	http.NewResponseController(w).EnableFullDuplex()
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
}

// logRefusal logs a refused peer request, at most once per remote address
// and reason every 10 seconds.
func (t *transport) logRefusal(r *http.Request, msg string, args ...any) {
	key := r.RemoteAddr + msg
	t.refusedMu.Lock()
	last, seen := t.refused[key]
	now := time.Now()
	if seen && now.Sub(last) < 10*time.Second {
		t.refusedMu.Unlock()
		return
	}
	t.refused[key] = now
	t.refusedMu.Unlock()
	t.s.log.Error(msg, append([]any{"remote", r.RemoteAddr, "cluster_id", fmt.Sprintf("%x", t.s.clusterID)}, args...)...)
}

// serveStream receives one stream of message frames and steps each message
// into raft, until the sender ends it or it stays silent too long.
func (t *transport) serveStream(w http.ResponseWriter, r *http.Request) {
	from, ok := t.checkPeer(w, r)
	if !ok {
		return
	}
	s := t.s
	rc := http.NewResponseController(w)
	// Accept at once, so the sender knows it is connected; the answer ends
	// with the stream, without net/http draining the body first.
	rc.EnableFullDuplex()
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	br := bufio.NewReaderSize(r.Body, 64<<10)
	// When the member stops, end the stream at once: the sender learns it
	// is gone instead of writing keepalives into the void.
	done := make(chan struct{})
	defer close(done)
	var stopping atomic.Bool
	go func() {
		select {
		case <-s.stopc:
			stopping.Store(true)
			rc.SetReadDeadline(time.Now())
		case <-done:
		}
	}()
	var buf []byte
	for {
		if stopping.Load() {
			return
		}
		rc.SetReadDeadline(time.Now().Add(streamIdleTimeout))
		frame, err := readFrame(br, &buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Debug("peer stream ended", "peer", fmt.Sprintf("%x", from), "err", err)
			}
			return
		}
		if len(frame) == 0 {
			continue
		}
		if s.cluster.isRemoved(from) {
			// Removed while its stream was open: end it, so that the
			// sender reconnects and hears 410.
			return
		}
		var m raftpb.Message
		if err := m.Unmarshal(frame); err != nil {
			s.log.Warn("undecodable raft message from a peer; closing its stream", "peer", fmt.Sprintf("%x", from), "err", err)
			return
		}
		if m.To != s.memberID || m.From != from || m.Type == raftpb.MsgSnap {
			s.log.Warn("misaddressed raft message from a peer; closing its stream", "peer", fmt.Sprintf("%x", from),
				"msg_from", fmt.Sprintf("%x", m.From), "msg_to", fmt.Sprintf("%x", m.To), "type", m.Type.String())
			return
		}
		s.stats.received(from, &m)
		// raft refuses local message types and answers from members it
		// does not know (removed ones); neither ends the stream.
		_ = s.node.Step(m)
	}
}

// serveMembers lists the cluster's members for a member that joins.
func (t *transport) serveMembers(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(hdrClusterID, strconv.FormatUint(t.s.clusterID, 16))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(t.s.cluster.list())
}

// serveVersion answers as etcd's peer /version: the server and cluster
// versions.
func (t *transport) serveVersion(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"etcdserver": cairn.APIVersion, "etcdcluster": cairn.APIVersion})
}
