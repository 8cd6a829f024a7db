package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/membership"
)

// testCluster is N members in one process, each with a real peer HTTP
// server on its own loopback port. A member can be stopped and started
// again on the same data dir and port.
type testCluster struct {
	t       testing.TB
	members []*testMember
	token   string
}

type testMember struct {
	c       *testCluster
	name    string
	dir     string
	url     string // peer URL
	ln      net.Listener
	hs      *http.Server
	handler atomic.Pointer[http.Handler]
	mu      sync.Mutex
	srv     *Server
	id      uint64
	logs    *logBuffer
	tweak   func(*Config)
}

// logBuffer keeps a member's logs for assertions and failure reports.
type logBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b = append(l.b, p...)
	l.mu.Unlock()
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// newTestCluster starts n members of a new cluster and waits for a leader.
func newTestCluster(tb testing.TB, n int, tweak func(*Config)) *testCluster {
	tb.Helper()
	c := &testCluster{t: tb, token: "test-token"}
	for i := 0; i < n; i++ {
		c.members = append(c.members, c.newMember(fmt.Sprintf("m%d", i), tweak))
	}
	var peers []membership.Peer
	for _, m := range c.members {
		peers = append(peers, membership.Peer{Name: m.name, URLs: []string{m.url}})
	}
	for _, m := range c.members {
		m.start(peers, "new")
	}
	c.waitLeader()
	return c
}

// newMember reserves a peer port and a data dir for a member.
func (c *testCluster) newMember(name string, tweak func(*Config)) *testMember {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	m := &testMember{c: c, name: name, dir: c.t.TempDir(), url: "http://" + ln.Addr().String(), ln: ln, logs: &logBuffer{}, tweak: tweak}
	m.hs = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := m.handler.Load()
		if h == nil {
			// As the transport refuses: at once, dropping the connection
			// (the body may be an endless stream).
			http.NewResponseController(w).EnableFullDuplex()
			w.Header().Set("Connection", "close")
			http.Error(w, "member down", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	})}
	go m.hs.Serve(ln)
	c.t.Cleanup(func() {
		m.stop()
		m.hs.Close()
		if c.t.Failed() {
			c.t.Logf("logs of %s:\n%s", m.name, m.logs)
		}
	})
	return m
}

func (m *testMember) config(peers []membership.Peer, state string) Config {
	cfg := DefaultConfig()
	cfg.Name = m.name
	cfg.DataDir = m.dir
	cfg.InitialCluster = peers
	cfg.InitialClusterState = state
	cfg.InitialClusterToken = m.c.token
	cfg.PeerURLs = []string{m.url}
	cfg.ClientURLs = []string{"http://client." + m.name}
	cfg.Logger = slog.New(slog.NewTextHandler(m.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.HeartbeatInterval = 10 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	if m.tweak != nil {
		m.tweak(&cfg)
	}
	return cfg
}

// start starts the member (again) on its data dir.
func (m *testMember) start(peers []membership.Peer, state string) {
	m.c.t.Helper()
	s, err := New(m.config(peers, state))
	if err != nil {
		m.c.t.Fatalf("starting %s: %v", m.name, err)
	}
	h := s.PeerHandler()
	m.mu.Lock()
	m.srv = s
	m.id = s.MemberID()
	m.mu.Unlock()
	m.handler.Store(&h)
}

// stop closes the member; its port keeps answering 503 until it starts again.
func (m *testMember) stop() {
	m.handler.Store(nil)
	m.mu.Lock()
	s := m.srv
	m.srv = nil
	m.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// server0ID is the member's id, known even while it is stopped.
func (m *testMember) server0ID() uint64 { return m.id }

func (m *testMember) server() *Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.srv
}

// leader waits until the running members agree on a leader and returns it.
func (c *testCluster) waitLeader() *testMember {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var lead uint64
		agree := true
		for _, m := range c.members {
			s := m.server()
			if s == nil {
				continue
			}
			l := s.lead.Load()
			if l == 0 || (lead != 0 && l != lead) {
				agree = false
				break
			}
			lead = l
		}
		if agree && lead != 0 {
			for _, m := range c.members {
				if s := m.server(); s != nil && s.MemberID() == lead {
					return m
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("the cluster elected no leader in 20s")
	return nil
}

// put writes through member m, retrying while the cluster has no leader.
func (c *testCluster) put(m *testMember, key, value string) *cairn.PutResponse {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := m.server().Put(ctx, &cairn.PutRequest{Key: []byte(key), Value: []byte(value)})
		cancel()
		if err == nil {
			return resp
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("put %s on %s: %v", key, m.name, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get reads key linearizably through m.
func (c *testCluster) get(m *testMember, key string) *cairn.RangeResponse {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := m.server().Range(ctx, &cairn.RangeRequest{Key: []byte(key)})
	if err != nil {
		c.t.Fatalf("range %s on %s: %v", key, m.name, err)
	}
	return resp
}

// waitFor polls cond until it holds or fails the test after 20s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ = io.Discard
