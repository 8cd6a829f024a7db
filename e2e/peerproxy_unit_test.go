package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// echoServer accepts connections on loopback and echoes what they send,
// until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// mustPeerProxy starts a proxy in front of target, closed when the test
// ends.
func mustPeerProxy(t testing.TB, target string) *peerProxy {
	t.Helper()
	p, err := newPeerProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

// proxyClient is a connection through a proxy to an echo server, as the
// sender from ("" = a request that names none).
type proxyClient struct {
	t testing.TB
	net.Conn
}

func dialProxy(t testing.TB, p *peerProxy, from string) *proxyClient {
	t.Helper()
	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	head := "POST /raft/stream HTTP/1.1\r\nHost: x\r\n"
	if from != "" {
		head += "X-Server-From: " + from + "\r\n"
	}
	head += "\r\n"
	pc := &proxyClient{t: t, Conn: c}
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return pc
}

// roundTrip sends msg and reads it back within limit; it returns how long
// that took, or the read error.
func (c *proxyClient) roundTrip(msg string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if _, err := io.WriteString(c, msg); err != nil {
		return 0, err
	}
	return c.expect(msg, limit, start)
}

// expect reads until msg has come back (the echoed head is skipped).
func (c *proxyClient) expect(msg string, limit time.Duration, start time.Time) (time.Duration, error) {
	c.SetReadDeadline(time.Now().Add(limit))
	defer c.SetReadDeadline(time.Time{})
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < len(msg) || string(got[len(got)-len(msg):]) != msg {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func timedOut(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

func TestPeerProxyModes(t *testing.T) {
	p := mustPeerProxy(t, echoServer(t))
	a := dialProxy(t, p, "a1")
	b := dialProxy(t, p, "b2")
	if _, err := a.roundTrip("hello", 2*time.Second); err != nil {
		t.Fatalf("pass: %v", err)
	}

	p.set("a1", link{mode: linkDelay, delay: 150 * time.Millisecond})
	if d, err := a.roundTrip("slow", 3*time.Second); err != nil || d < 300*time.Millisecond {
		t.Fatalf("delay 150ms each way: round trip %v, %v; want >= 300ms", d, err)
	}
	if d, err := b.roundTrip("fast", 2*time.Second); err != nil || d >= 150*time.Millisecond {
		t.Fatalf("another sender's link: round trip %v, %v; want no delay", d, err)
	}

	p.set("a1", link{mode: linkBlackhole})
	start := time.Now()
	if _, err := a.roundTrip("held", 300*time.Millisecond); !timedOut(err) {
		t.Fatalf("black-hole: the message came back (%v)", err)
	}
	p.set("a1", link{mode: linkPass})
	if _, err := a.expect("held", 2*time.Second, start); err != nil {
		t.Fatalf("after the black-hole healed, the held bytes did not arrive: %v", err)
	}

	p.set("a1", link{mode: linkDrop})
	if _, err := a.roundTrip("gone", 2*time.Second); err == nil || timedOut(err) {
		t.Fatalf("drop: an open connection was not closed (%v)", err)
	}
	if _, err := dialProxy(t, p, "a1").roundTrip("new", 2*time.Second); err == nil || timedOut(err) {
		t.Fatalf("drop: a new connection was not closed (%v)", err)
	}
	if _, err := b.roundTrip("still", 2*time.Second); err != nil {
		t.Fatalf("another sender's link was dropped too: %v", err)
	}

	p.set("a1", link{mode: linkPass})
	if _, err := dialProxy(t, p, "a1").roundTrip("back", 2*time.Second); err != nil {
		t.Fatalf("pass again: %v", err)
	}
}

// A request that names no sender follows the "" link; a member that is
// down is a reset, not a hang.
func TestPeerProxyUnnamedAndDown(t *testing.T) {
	p := mustPeerProxy(t, echoServer(t))
	p.set("", link{mode: linkDrop})
	if _, err := dialProxy(t, p, "").roundTrip("x", 2*time.Second); err == nil || timedOut(err) {
		t.Fatalf("unnamed sender on a dropped link: %v", err)
	}
	if _, err := dialProxy(t, p, "c3").roundTrip("x", 2*time.Second); err != nil {
		t.Fatalf("named sender: %v", err)
	}
	p.setTarget(fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	if _, err := dialProxy(t, p, "c3").roundTrip("x", 5*time.Second); err == nil || timedOut(err) {
		t.Fatalf("member down: %v", err)
	}
}

// A leader cut off through the proxies, by dropping or black-holing its
// links, is replaced by the other two; once healed, it follows the new
// leader and takes writes again.
func TestPeerNetIsolatedLeaderIsReplaced(t *testing.T) {
	c, pn := startClusterOnNet(t, 3, nil)
	s := &scenario{t: t, c: c, net: pn, urls: make([]atomic.Pointer[string], 3)}
	for i := range c.members {
		s.setURL(i)
	}
	for _, mode := range []linkMode{linkDrop, linkBlackhole} {
		old := s.leaderIndex()
		if old < 0 {
			t.Fatal("no leader")
		}
		pn.cut(old, link{mode: mode})
		replaced := waitFor(20*time.Second, func() bool {
			for i := range c.members {
				if i == old {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				st, err := c.members[i].status(ctx)
				cancel()
				if err != nil || st.Leader == "0" || st.Leader == "" || st.Leader == strconv.FormatUint(pn.ids[old], 10) {
					return false
				}
			}
			return true
		})
		if !replaced {
			t.Fatalf("%v: the members cut off from leader %s elected no other leader in 20s", mode, c.members[old].name)
		}
		pn.heal()
		if lead := c.leader(); lead == c.members[old] {
			t.Logf("%v: %s leads again after the heal", mode, lead.name)
		}
		c.members[old].putRetry(t, "/peernet/"+mode.String(), "v")
	}
}
