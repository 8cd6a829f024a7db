package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// peer is the sending side towards one other member: a queue of raft
// messages and a goroutine that keeps a stream open and writes the queue to
// it. The messages are encoded by that goroutine, not by the Ready loop that
// queues them, and what queued up while it was writing goes out as one
// write, with chained appends merged first (coalesce).
type peer struct {
	t  *transport
	id uint64

	mu           sync.Mutex
	urls         []string
	urlIdx       int
	msgs         []raftpb.Message // waiting for the writer
	spare        []raftpb.Message
	pending      int // about the encoded size of msgs, in bytes
	backoffUntil time.Time
	failures     int    // failed attempts since the last accepted stream
	lastErr      string // the last failure logged

	wake  chan struct{}
	stopc chan struct{}
	done  chan struct{}

	snapshotting atomic.Bool
	active       atomic.Bool // the peer accepted the current stream
}

func newPeer(t *transport, id uint64, urls []string) *peer {
	return &peer{
		t:     t,
		id:    id,
		urls:  slices.Clone(urls),
		wake:  make(chan struct{}, 1),
		stopc: make(chan struct{}),
		done:  make(chan struct{}),
	}
}

func (p *peer) setURLs(urls []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Equal(p.urls, urls) {
		p.urls = slices.Clone(urls)
		p.urlIdx = 0
	}
}

// url returns the peer URL to try next.
func (p *peer) url() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.TrimRight(p.urls[p.urlIdx%len(p.urls)], "/")
}

// enqueue adds m to the queue, unless the peer is known to be unreachable
// right now or the queue is full: raft sends again what is lost.
//
// The message is kept as it is, not copied: its entries are raft's, which
// raft never changes in place (etcd's transport queues raft's messages the
// same way).
func (p *peer) enqueue(m *raftpb.Message) {
	p.mu.Lock()
	if p.pending > maxPendingBytes || (!p.backoffUntil.IsZero() && time.Now().Before(p.backoffUntil)) {
		p.mu.Unlock()
		p.t.s.stats.dropped(p.id, m)
		return
	}
	p.msgs = append(p.msgs, *m)
	p.pending += approxSize(m)
	p.mu.Unlock()
	p.t.s.stats.sent(p.id, m)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// approxSize is about the encoded size of m, for the queue's bound: its
// entries' data and some bytes of framing per message and per entry.
func approxSize(m *raftpb.Message) int {
	n := 64
	for i := range m.Entries {
		n += len(m.Entries[i].Data) + 24
	}
	return n
}

// take returns the queued messages and empties the queue.
func (p *peer) take() []raftpb.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs := p.msgs
	p.msgs = p.spare[:0]
	p.spare = nil
	p.pending = 0
	return msgs
}

// recycle gives a written queue back for reuse, without the references it
// held.
func (p *peer) recycle(msgs []raftpb.Message) {
	if cap(msgs) > 4096 {
		return
	}
	clear(msgs[:cap(msgs)])
	p.mu.Lock()
	if p.spare == nil {
		p.spare = msgs[:0]
	}
	p.mu.Unlock()
}

func (p *peer) stop() {
	close(p.stopc)
	<-p.done
}

// outStream is one open stream: the writer end of its request body and the
// outcome of the request once it ends.
type outStream struct {
	w      *io.PipeWriter
	ended  chan struct{}
	err    error // valid after ended is closed
	cancel context.CancelFunc
}

// open starts a stream to url. The request runs in its own goroutine: the
// receiver answers 200 at once when it accepts the stream (then the peer
// counts as connected) and ends the answer when the stream ends; the stream
// also ends when the body is closed or the connection breaks.
func (p *peer) open(url string) *outStream {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	st := &outStream{w: pw, ended: make(chan struct{}), cancel: cancel}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/raft/stream", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	p.t.setHeaders(req.Header, p.id)
	go func() {
		defer close(st.ended)
		resp, err := p.t.streamClient.Do(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = peerResponseError(resp)
		}
		if err != nil {
			st.err = err
			pr.CloseWithError(err)
			return
		}
		p.connected(url)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		st.err = errors.New("the peer ended the stream")
		pr.CloseWithError(st.err)
	}()
	return st
}

// connected notes an accepted stream.
func (p *peer) connected(url string) {
	p.mu.Lock()
	was := p.active.Swap(true)
	p.failures, p.lastErr = 0, ""
	p.backoffUntil = time.Time{}
	p.mu.Unlock()
	if !was {
		p.t.s.log.Info("peer stream connected", "peer", fmt.Sprintf("%x", p.id), "url", url)
	}
}

// peerResponseError reads a failed peer response into an error; nil for
// a 2xx answer. The body is closed either way.
func peerResponseError(resp *http.Response) error {
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &peerError{status: resp.StatusCode, msg: strings.TrimSpace(string(msg))}
}

// peerError is a peer's refusal.
type peerError struct {
	status int
	msg    string
}

func (e *peerError) Error() string { return fmt.Sprintf("peer answered %d: %s", e.status, e.msg) }

func (st *outStream) close() {
	st.w.Close()
	st.cancel()
}

// run keeps a stream to the peer and writes the queue to it.
func (p *peer) run() {
	defer p.t.wg.Done()
	defer close(p.done)
	var (
		st        *outStream
		lastWrite time.Time
	)
	keepalive := time.NewTicker(streamKeepalive)
	defer keepalive.Stop()
	select { // connect at once
	case p.wake <- struct{}{}:
	default:
	}
	defer func() {
		if st != nil {
			st.close()
		}
	}()
	var (
		keepaliveFrame [4]byte
		wbuf           []byte // the frames of one write
	)
	for {
		var ended chan struct{}
		if st != nil {
			ended = st.ended
		}
		var batch []byte
		select {
		case <-p.stopc:
			return
		case <-ended:
			p.fail(st, st.err)
			st = nil
			continue
		case <-keepalive.C:
			// An idle stream gets a keepalive; a missing one is opened, so
			// that every pair of members stays connected (and this
			// member knows who is reachable) even without traffic.
			if st != nil && time.Since(lastWrite) < streamKeepalive {
				continue
			}
			batch = keepaliveFrame[:]
		case <-p.wake:
			msgs := p.take()
			if len(msgs) == 0 {
				if st != nil {
					continue
				}
				batch = keepaliveFrame[:]
				break
			}
			wbuf = wbuf[:0]
			for _, m := range coalesce(msgs) {
				wbuf = appendFrame(wbuf, &m)
			}
			p.recycle(msgs)
			batch = wbuf
		}
		if st == nil {
			if p.backoffLeft() > 0 {
				// Messages that arrive during a backoff are dropped by
				// enqueue; these came just before it began.
				continue
			}
			st = p.open(p.url())
		}
		if _, err := st.w.Write(batch); err != nil {
			// Prefer the request's own outcome (a refusal, a refused
			// connection) over the pipe's "closed".
			select {
			case <-st.ended:
				err = st.err
			case <-time.After(200 * time.Millisecond):
			}
			p.fail(st, err)
			st = nil
			continue
		}
		lastWrite = time.Now()
		if cap(wbuf) > 4<<20 {
			wbuf = nil // one large burst does not pin its buffer
		}
	}
}

// fail handles a broken or refused stream: it tells raft the peer is
// unreachable, logs when the reason changes, and backs off.
func (p *peer) fail(st *outStream, err error) {
	s := p.t.s
	st.close()
	p.take() // what was queued for the broken stream is dropped
	var pe *peerError
	if errors.As(err, &pe) && pe.status == http.StatusGone {
		s.fatal(fmt.Errorf("%w (peer %x says so)", errMemberRemoved, p.id))
		return
	}
	msg := err.Error()
	p.mu.Lock()
	p.active.Store(false)
	p.failures++
	d := min(maxBackoff, time.Duration(p.failures)*50*time.Millisecond)
	p.backoffUntil = time.Now().Add(d)
	changed := msg != p.lastErr
	p.lastErr = msg
	url := p.urls[p.urlIdx%len(p.urls)]
	p.urlIdx++
	p.mu.Unlock()
	if changed {
		args := []any{"peer", fmt.Sprintf("%x", p.id), "url", url, "err", msg}
		if errors.As(err, &pe) && pe.status != http.StatusServiceUnavailable {
			s.log.Error("peer refused the stream", args...) // a misconfiguration
		} else {
			s.log.Warn("peer unreachable", args...)
		}
	}
	s.node.ReportUnreachable(p.id)
	// Wake the writer when the backoff ends, so the next message (or
	// keepalive) reconnects promptly.
	time.AfterFunc(d, func() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	})
}

func (p *peer) backoffLeft() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.backoffUntil.IsZero() {
		return 0
	}
	return time.Until(p.backoffUntil)
}

func (p *peer) clearBackoff() {
	p.mu.Lock()
	p.backoffUntil = time.Time{}
	p.mu.Unlock()
}

// coalesce merges, in place, the messages of one write that raft would
// handle the same way merged, and returns them (a prefix of msgs). raft
// sends a follower one append per proposal, a follower answers each, and a
// follower forwards each proposal of its clients as a message of its own:
// under load a write carries dozens of each, and every one costs the
// receiver a step of raft (and, for an append, an answer). Merged:
//
//   - consecutive appends (MsgApp) of one term where each starts at the
//     last entry of the one before (Index and LogTerm) become one append
//     of all their entries with the last one's commit index: the receiver
//     appends and commits exactly what it would have after each of them,
//     and a rejection of the first would have been a rejection of all;
//   - consecutive accepted append answers (MsgAppResp) of one term keep
//     only the last, whose index covers the earlier ones (raft reads
//     nothing else from an accepted answer);
//   - consecutive forwarded proposals (MsgProp) become one proposal of all
//     their entries, which the leader appends together.
//
// Other messages, and messages with anything between them, are left as
// they are; order is kept. Merged entries get a new slice: the messages'
// own Entries are raft's memory and are never appended to.
func coalesce(msgs []raftpb.Message) []raftpb.Message {
	out := msgs[:0]
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && mergeable(&msgs[j-1], &msgs[j]) {
			j++
		}
		m := msgs[i]
		if j-i > 1 {
			switch m.Type {
			case raftpb.MsgApp, raftpb.MsgProp:
				n := 0
				for k := i; k < j; k++ {
					n += len(msgs[k].Entries)
				}
				ents := make([]raftpb.Entry, 0, n)
				for k := i; k < j; k++ {
					ents = append(ents, msgs[k].Entries...)
				}
				m.Entries = ents
				m.Commit = msgs[j-1].Commit
			case raftpb.MsgAppResp:
				m = msgs[j-1]
			}
		}
		out = append(out, m)
		i = j
	}
	return out
}

// mergeable reports whether b, sent right after a to the same member, may
// be merged into it (see coalesce).
func mergeable(a, b *raftpb.Message) bool {
	if a.Type != b.Type || a.From != b.From || a.To != b.To || a.Term != b.Term {
		return false
	}
	switch a.Type {
	case raftpb.MsgApp:
		lastIndex, lastTerm := a.Index, a.LogTerm
		if n := len(a.Entries); n > 0 {
			lastIndex, lastTerm = a.Entries[n-1].Index, a.Entries[n-1].Term
		}
		return b.Index == lastIndex && b.LogTerm == lastTerm && b.Commit >= a.Commit
	case raftpb.MsgAppResp:
		return !a.Reject && !b.Reject && b.Index >= a.Index
	case raftpb.MsgProp:
		return true
	}
	return false
}
