package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// A peerProxy stands in front of one member's peer listener: the member
// advertises the proxy's URL, the proxy forwards every connection to the
// member's real listener, and each directed link into the member (sender ->
// this member) can be switched at run time between passing, dropping,
// delaying and black-holing its traffic.
//
// A member's id is a hash of its peer URLs, so every member must see the
// same URL for a peer and one listener per sender is impossible. The proxy
// tells senders apart instead: every peer request carries the sender's
// member id in X-Server-From (peer/doc.go, "Identity"), and all requests
// on one connection come from the member that dialed it. The proxy reads
// the head of the first request, keys the connection by that id ("" when
// the request names no sender, as GET /members), and forwards the head and
// everything after it. A link's mode applies to both directions of the
// connections its sender dialed, which is where the sender's raft messages
// travel (one POST /raft/stream per ordered pair of members).

// linkMode is what a link does with its traffic.
type linkMode int

const (
	linkPass      linkMode = iota // forward at once
	linkDrop                      // close open connections, close new ones at once
	linkDelay                     // forward each chunk after the link's delay
	linkBlackhole                 // keep connections open, forward nothing until the mode changes
)

func (m linkMode) String() string {
	return [...]string{"pass", "drop", "delay", "blackhole"}[m]
}

// link is the state of one directed link.
type link struct {
	mode  linkMode
	delay time.Duration // linkDelay only
}

// peerProxy is the front of one member's peer listener. Its methods are
// safe for concurrent use.
type peerProxy struct {
	ln net.Listener

	mu      sync.Mutex
	target  string          // host:port of the member's peer listener
	links   map[string]link // by sender id; absent = pass
	conns   map[*proxyConn]struct{}
	changed chan struct{} // closed and replaced when a link changes
	closed  bool
	wg      sync.WaitGroup
}

// proxyConn is one forwarded connection.
type proxyConn struct {
	from   string // the sender's member id, "" if unnamed
	client net.Conn
	done   chan struct{}

	mu     sync.Mutex
	server net.Conn // nil until dialed
	closed bool
}

// close ends both sides; reset sends a RST rather than a FIN, as a dropped
// link does.
func (c *proxyConn) close(reset bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if tc, ok := c.client.(*net.TCPConn); ok && reset {
		tc.SetLinger(0)
	}
	c.client.Close()
	if c.server != nil {
		c.server.Close()
	}
	close(c.done)
}

// attach sets the member side; false (and server closed) if the
// connection was closed meanwhile.
func (c *proxyConn) attach(server net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		server.Close()
		return false
	}
	c.server = server
	return true
}

// newPeerProxy listens on a loopback port the OS picks and forwards to
// target (host:port), which may be set later with setTarget.
func newPeerProxy(target string) (*peerProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &peerProxy{ln: ln, target: target, links: map[string]link{},
		conns: map[*proxyConn]struct{}{}, changed: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// url is the proxy's address as a peer URL.
func (p *peerProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *peerProxy) setTarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

// set switches the link from sender id (hex, as X-Server-From; "" for
// connections that name no sender). Dropping closes the link's open
// connections at once.
func (p *peerProxy) set(from string, l link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.links[from] = l
	close(p.changed)
	p.changed = make(chan struct{})
	if l.mode != linkDrop {
		return
	}
	for c := range p.conns {
		if c.from == from {
			c.close(true)
		}
	}
}

// state returns the link of sender from and a channel closed at the next
// change of any link.
func (p *peerProxy) state(from string) (link, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.links[from], p.changed
}

// close stops the listener and every connection and waits for the
// proxy's goroutines.
func (p *peerProxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.close(false)
	}
	p.wg.Wait()
}

func (p *peerProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// headTimeout bounds the wait for a request head on a new connection.
const headTimeout = 10 * time.Second

// serve forwards one connection while its link allows.
func (p *peerProxy) serve(client net.Conn) {
	br := bufio.NewReaderSize(client, 16<<10)
	client.SetReadDeadline(time.Now().Add(headTimeout))
	head, from, err := readHead(br)
	client.SetReadDeadline(time.Time{})
	if err != nil {
		client.Close()
		return
	}
	pc := &proxyConn{from: from, client: client, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		client.Close()
		return
	}
	p.conns[pc] = struct{}{}
	target := p.target
	p.mu.Unlock()
	defer func() {
		pc.close(false)
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
	}()
	if l, _ := p.state(from); l.mode == linkDrop {
		pc.close(true)
		return
	}
	server, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		pc.close(true) // the member is down: its sender sees a reset
		return
	}
	if !pc.attach(server) {
		return // dropped while dialing
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.pump(pc, io.MultiReader(bytes.NewReader(head), br), server)
	}()
	go func() {
		defer wg.Done()
		p.pump(pc, server, client)
	}()
	wg.Wait()
}

// readHead reads a request head (request line and header lines up to the
// blank line, at most 16 KiB) and returns its bytes and the sender id it
// names.
func readHead(br *bufio.Reader) (head []byte, from string, err error) {
	var buf bytes.Buffer
	for n := 0; n < 200; n++ {
		line, err := br.ReadSlice('\n')
		buf.Write(line)
		if err != nil {
			return nil, "", err
		}
		if buf.Len() > 16<<10 {
			return nil, "", errors.New("request head too long")
		}
		s := strings.TrimRight(string(line), "\r\n")
		if s == "" {
			return buf.Bytes(), from, nil
		}
		if k, v, ok := strings.Cut(s, ":"); ok && textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(k)) == "X-Server-From" {
			from = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return nil, "", errors.New("request head has too many lines")
}

// chunk is bytes read from one side, due to be written to the other.
type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst as the link of pc allows: a reader stamps each
// chunk with the time it is due (now, plus the link's delay), a writer
// holds it until then and while the link is black-holed. Either side
// failing closes the connection.
func (p *peerProxy) pump(pc *proxyConn, src io.Reader, dst net.Conn) {
	defer pc.close(false)
	q := make(chan chunk, 64) // bounds what a black-holed link holds
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				l, _ := p.state(pc.from)
				due := time.Now()
				if l.mode == linkDelay {
					due = due.Add(l.delay)
				}
				select {
				case q <- chunk{b[:n], due}:
				case <-pc.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		if !p.hold(pc, c.due) {
			return
		}
		if _, err := dst.Write(c.b); err != nil {
			return
		}
	}
}

// hold waits until due and for as long as the link is black-holed; false
// means the connection was closed meanwhile.
func (p *peerProxy) hold(pc *proxyConn, due time.Time) bool {
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-pc.done:
			t.Stop()
			return false
		}
	}
	for {
		l, changed := p.state(pc.from)
		switch l.mode {
		case linkDrop:
			return false
		case linkBlackhole:
			select {
			case <-changed:
			case <-pc.done:
				return false
			}
		default:
			return true
		}
	}
}
