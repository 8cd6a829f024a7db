package peer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
	"go.etcd.io/raft/v3/raftpb"
)

// Handler serves the peer endpoints (see the package doc); serve it on the
// member's peer URLs.
func (t *Transport) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /raft/stream", t.serveStream)
	mux.HandleFunc("POST /raft/snapshot", t.serveSnapshot)
	mux.HandleFunc("GET /members", t.serveMembers)
	mux.HandleFunc("POST /members/promote/{id}", t.servePromote)
	mux.HandleFunc("GET /version", t.serveVersion)
	mux.HandleFunc("POST /lease/keepalive", t.serveLease)
	mux.HandleFunc("POST /lease/timetolive", t.serveLease)
	return mux
}

// checkPeer checks the identity headers of a peer request and answers it
// when they are wrong: 412 for another cluster or another receiver, 410 for
// a removed sender. It returns the sender's id.
func (t *Transport) checkPeer(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	fail := func(status int, msg string) { refuse(w, status, msg) }
	cid, err1 := strconv.ParseUint(r.Header.Get(hdrClusterID), 16, 64)
	from, err2 := strconv.ParseUint(r.Header.Get(hdrFrom), 16, 64)
	to, err3 := strconv.ParseUint(r.Header.Get(hdrTo), 16, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		fail(http.StatusBadRequest, "missing or malformed peer identity headers")
		return 0, false
	}
	if cid != t.clusterID {
		t.logRefusal(r, "refused a peer of another cluster (check --initial-cluster-token and --initial-cluster)",
			"peer_cluster_id", fmt.Sprintf("%x", cid), "peer_member_id", fmt.Sprintf("%x", from))
		w.Header().Set(hdrClusterID, strconv.FormatUint(t.clusterID, 16))
		fail(http.StatusPreconditionFailed, fmt.Sprintf("cluster ID mismatch: this member is in cluster %x, the sender in %x", t.clusterID, cid))
		return 0, false
	}
	if t.raft.IsIDRemoved(from) {
		t.logRefusal(r, "refused a removed member", "peer_member_id", fmt.Sprintf("%x", from))
		fail(http.StatusGone, ErrMemberRemoved.Error())
		return 0, false
	}
	if to != t.memberID {
		t.logRefusal(r, "refused a peer that expected another member at this URL",
			"peer_member_id", fmt.Sprintf("%x", from), "expected_member_id", fmt.Sprintf("%x", to))
		fail(http.StatusPreconditionFailed, fmt.Sprintf("member ID mismatch: this is member %x, the sender expected %x", t.memberID, to))
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
func (t *Transport) logRefusal(r *http.Request, msg string, args ...any) {
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
	t.log.Error(msg, append([]any{"remote", r.RemoteAddr, "cluster_id", fmt.Sprintf("%x", t.clusterID)}, args...)...)
}

// serveStream receives one stream of message frames and steps each message
// into raft, until the sender ends it or it stays silent too long.
func (t *Transport) serveStream(w http.ResponseWriter, r *http.Request) {
	from, ok := t.checkPeer(w, r)
	if !ok {
		return
	}
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
		case <-t.stopping:
			stopping.Store(true)
			rc.SetReadDeadline(time.Now())
		case <-done:
		}
	}()
	sm := t.metrics.forStream(from)
	var buf []byte
	for {
		if stopping.Load() {
			return
		}
		rc.SetReadDeadline(time.Now().Add(streamIdleTimeout))
		frame, err := readFrame(br, &buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.log.Debug("peer stream ended", "peer", fmt.Sprintf("%x", from), "err", err)
			}
			return
		}
		sm.received.Add(float64(4 + len(frame)))
		if len(frame) == 0 {
			continue
		}
		if t.raft.IsIDRemoved(from) {
			// Removed while its stream was open: end it, so that the
			// sender reconnects and hears 410.
			return
		}
		var m raftpb.Message
		if err := m.Unmarshal(frame); err != nil {
			t.log.Warn("undecodable raft message from a peer; closing its stream", "peer", fmt.Sprintf("%x", from), "err", err)
			return
		}
		if m.To != t.memberID || m.From != from || m.Type == raftpb.MsgSnap {
			t.log.Warn("misaddressed raft message from a peer; closing its stream", "peer", fmt.Sprintf("%x", from),
				"msg_from", fmt.Sprintf("%x", m.From), "msg_to", fmt.Sprintf("%x", m.To), "type", m.Type.String())
			return
		}
		if rtt, ok := t.stats.received(from, &m); ok {
			sm.rtt.Observe(rtt.Seconds())
		}
		// raft refuses local message types and answers from members it
		// does not know (removed ones); neither ends the stream.
		_ = t.raft.Process(r.Context(), m)
	}
}

// serveVersion answers as etcd's peer /version: the server and cluster
// versions.
func (t *Transport) serveVersion(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"etcdserver": cairn.APIVersion, "etcdcluster": cairn.APIVersion})
}
