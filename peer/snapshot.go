package peer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/internal/logattr"
)

// A snapshot goes in one POST /raft/snapshot whose chunked body is
//
//	frame    the raft MsgSnap (metadata only: index, term, configuration)
//	frame    the sender's cluster state (cluster.json)
//	bytes    a consistent copy of the sender's store file, to the end
//
// and whose trailer X-Snapshot-Sha256 is the hex SHA-256 of the store file
// bytes. The receiver stores both durably in its snapshot directory, then
// steps the message into raft and answers 204; the sender then reports
// SnapshotFinish to raft (SnapshotFailure on any error).

// snapshotTimeout bounds one snapshot transfer.
const snapshotTimeout = 30 * time.Minute

// sendSnapshot sends m with the store in the background.
func (p *peer) sendSnapshot(m raftpb.Message) {
	t := p.t
	if !p.snapshotting.CompareAndSwap(false, true) {
		t.raft.ReportSnapshot(p.id, raft.SnapshotFailure)
		return
	}
	p.t.wg.Add(1)
	go func() {
		defer p.t.wg.Done()
		defer p.snapshotting.Store(false)
		start := time.Now()
		n, err := p.postSnapshot(m)
		if err != nil {
			t.log.Warn("sending a snapshot failed", "peer", fmt.Sprintf("%x", p.id), "index", m.Snapshot.Metadata.Index, "err", err)
			t.raft.ReportUnreachable(p.id)
			t.raft.ReportSnapshot(p.id, raft.SnapshotFailure)
			return
		}
		t.log.Info("snapshot sent", "peer", fmt.Sprintf("%x", p.id), "index", m.Snapshot.Metadata.Index,
			"bytes", n, logattr.TookMS(start))
		t.raft.ReportSnapshot(p.id, raft.SnapshotFinish)
	}()
}

func (p *peer) postSnapshot(m raftpb.Message) (int64, error) {
	t := p.t
	ctx, cancel := p.stopContext(snapshotTimeout)
	defer cancel()
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url()+"/raft/snapshot", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	t.setHeaders(req.Header, p.id)
	req.Trailer = http.Header{hdrSnapSum: nil}
	var n int64
	go func() {
		bw := bufio.NewWriterSize(pw, 256<<10)
		err := writeBytesFrame(bw, appendFrame(nil, &m)[4:])
		if err == nil {
			err = writeBytesFrame(bw, t.member.ClusterState())
		}
		if err == nil {
			h := sha256.New()
			n, err = t.member.WriteSnapshot(io.MultiWriter(bw, h))
			if err == nil {
				err = bw.Flush()
			}
			// The transport reads the trailer after the body's end, which
			// the pipe orders after this.
			req.Trailer.Set(hdrSnapSum, hex.EncodeToString(h.Sum(nil)))
		}
		pw.CloseWithError(err)
	}()
	resp, err := t.client.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		return 0, err
	}
	if err := peerResponseError(resp); err != nil {
		pr.CloseWithError(err)
		return 0, err
	}
	return n, nil
}

// serveSnapshot receives a snapshot into the snapshot directory and hands
// its message to raft.
func (t *Transport) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	from, ok := t.checkPeer(w, r)
	if !ok {
		return
	}
	br := bufio.NewReaderSize(r.Body, 256<<10)
	var buf []byte
	frame, err := readFrame(br, &buf)
	var m raftpb.Message
	if err == nil {
		err = m.Unmarshal(frame)
	}
	if err == nil && (m.Type != raftpb.MsgSnap || m.To != t.memberID || m.From != from || m.Snapshot == nil || m.Snapshot.Metadata.Index == 0) {
		err = fmt.Errorf("not a snapshot message for this member")
	}
	var clusterState []byte
	if err == nil {
		var cb []byte
		if clusterState, err = readFrame(br, &cb); err == nil {
			clusterState = append([]byte(nil), clusterState...)
		}
	}
	if err != nil {
		t.log.Warn("bad snapshot from a peer", "peer", fmt.Sprintf("%x", from), "err", err)
		refuse(w, http.StatusBadRequest, "bad snapshot: "+err.Error())
		return
	}
	index := m.Snapshot.Metadata.Index
	start := time.Now()
	n, err := t.snaps.Receive(index, clusterState, br, func() []byte {
		sum, _ := hex.DecodeString(r.Trailer.Get(hdrSnapSum))
		return sum
	})
	if err != nil {
		t.log.Warn("receiving a snapshot failed", "peer", fmt.Sprintf("%x", from), "index", index, "err", err)
		refuse(w, http.StatusInternalServerError, "receiving the snapshot: "+err.Error())
		return
	}
	t.log.Info("snapshot received", "peer", fmt.Sprintf("%x", from), "index", index, "term", m.Snapshot.Metadata.Term,
		"bytes", n, logattr.TookMS(start))
	if err := t.raft.Process(r.Context(), m); err != nil {
		refuse(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
