package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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

// outStream is one open stream: a connection of its own to the peer, on
// which the writer sends the request head and then the body, one chunk per
// write, straight from its own goroutine. (net/http's client would copy the
// body from a pipe on a goroutine of its own: one more hand-off for every
// write, which this path makes a few thousand times a second.)
type outStream struct {
	conn  net.Conn      // nil when the dial failed
	ended chan struct{} // closed when the stream is over
	err   error         // why; valid after ended is closed
}

// open connects a stream to url and sends the request head. A goroutine
// reads the answer: the receiver answers 200 at once when it accepts the
// stream (then the peer counts as connected), and ends the answer when the
// stream ends; a refusal is read into a peerError. The stream also ends
// when the connection breaks or is closed (close).
func (p *peer) open(rawURL string) *outStream {
	st := &outStream{ended: make(chan struct{})}
	conn, err := p.dialStream(rawURL)
	if err != nil {
		st.err = err
		close(st.ended)
		return st
	}
	st.conn = conn
	go func() {
		defer close(st.ended)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = peerResponseError(resp)
		}
		if err != nil {
			st.err = fmt.Errorf("stream to %s: %w", rawURL, err)
			conn.Close()
			return
		}
		p.connected(rawURL)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		st.err = errors.New("the peer ended the stream")
		conn.Close()
	}()
	return st
}

// stopContext returns a context that ends after timeout or when the peer
// is stopped, whichever comes first; cancel it when done.
func (p *peer) stopContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	go func() {
		select {
		case <-p.stopc:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// dialStream connects to the peer at rawURL (http only) and writes the
// head of a POST /raft/stream request whose body is chunked. The dial gives
// up when the peer is stopped.
func (p *peer) dialStream(rawURL string) (net.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("peer URL %q: want http://host:port", rawURL)
	}
	ctx, cancel := p.stopContext(peerDialTimeout)
	defer cancel()
	conn, err := p.t.dial(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("stream to %s: %w", rawURL, err)
	}
	s := p.t.s
	head := fmt.Sprintf("POST /raft/stream HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n"+
		"Transfer-Encoding: chunked\r\n%s: %x\r\n%s: %x\r\n%s: %x\r\n\r\n",
		u.Host, hdrClusterID, s.clusterID, hdrFrom, s.memberID, hdrTo, p.id)
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, fmt.Errorf("stream to %s: %w", rawURL, err)
	}
	return conn, nil
}

// chunkHead is the room left before a write's frames for its chunk size:
// eight hex digits (leading zeros are allowed) and CRLF.
const chunkHead = 10

// startChunk empties buf and leaves room for the chunk size.
func startChunk(buf []byte) []byte {
	return append(buf[:0], make([]byte, chunkHead)...)
}

// endChunk fills in the size of the chunk begun by startChunk and ends it.
func endChunk(buf []byte) []byte {
	n := len(buf) - chunkHead
	const hex = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		buf[i] = hex[n&0xf]
		n >>= 4
	}
	buf[8], buf[9] = '\r', '\n'
	return append(buf, '\r', '\n')
}

// write sends one chunk.
func (st *outStream) write(b []byte) error {
	if st.conn == nil {
		return st.err
	}
	_, err := st.conn.Write(b)
	return err
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
	if st.conn != nil {
		st.conn.Close()
	}
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
		// An idle stream's keepalive: one chunk of one empty frame.
		keepaliveChunk = endChunk(append(startChunk(nil), 0, 0, 0, 0))
		wbuf           []byte // the chunk of one write
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
			batch = keepaliveChunk
		case <-p.wake:
			msgs := p.take()
			if len(msgs) == 0 {
				if st != nil {
					continue
				}
				batch = keepaliveChunk
				break
			}
			wbuf = startChunk(wbuf)
			for _, m := range coalesce(msgs) {
				wbuf = appendFrame(wbuf, &m)
			}
			wbuf = endChunk(wbuf)
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
		if err := st.write(batch); err != nil {
			// Prefer the request's own outcome (a refusal, a refused
			// connection) over the write's error.
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
