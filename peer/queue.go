package peer

import (
	"errors"
	"fmt"
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
	t  *Transport
	id uint64
	m  peerMetrics

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

func newPeer(t *Transport, id uint64, urls []string) *peer {
	return &peer{
		t:     t,
		id:    id,
		m:     t.metrics.forPeer(id),
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
		p.t.stats.dropped(p.id, m)
		p.m.failures.Inc()
		return
	}
	p.msgs = append(p.msgs, *m)
	p.pending += approxSize(m)
	p.mu.Unlock()
	p.t.stats.sent(p.id, m)
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
		var (
			batch []byte
			n     int // messages in batch
		)
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
			n = len(msgs)
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
			p.m.failures.Add(float64(n))
			p.fail(st, err)
			st = nil
			continue
		}
		p.m.sent.Add(float64(len(batch)))
		lastWrite = time.Now()
		if cap(wbuf) > 4<<20 {
			wbuf = nil // one large burst does not pin its buffer
		}
	}
}

// fail handles a broken or refused stream: it tells raft the peer is
// unreachable, logs when the reason changes, and backs off.
func (p *peer) fail(st *outStream, err error) {
	t := p.t
	st.close()
	// What was queued for the broken stream is dropped.
	if n := len(p.take()); n > 0 {
		p.m.failures.Add(float64(n))
	}
	var pe *peerError
	if errors.As(err, &pe) && pe.status == http.StatusGone {
		t.member.Removed(p.id)
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
			t.log.Error("peer refused the stream", args...) // a misconfiguration
		} else {
			t.log.Warn("peer unreachable", args...)
		}
	}
	t.raft.ReportUnreachable(p.id)
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
