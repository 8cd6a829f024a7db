package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The member closes a client's keep-alive connection that has had no
// request for ClientIdleTimeout, and a connection that has not sent a whole
// request header within ClientReadHeaderTimeout.
func TestClientConnectionTimeouts(t *testing.T) {
	const idle, header = 300 * time.Millisecond, 400 * time.Millisecond
	url := startCairnWith(t, func(c *Config) {
		c.ClientIdleTimeout, c.ClientReadHeaderTimeout = idle, header
	})
	addr := strings.TrimPrefix(url, "http://")

	t.Run("idle keep-alive connection", func(t *testing.T) {
		conn, br := dialClient(t, addr)
		fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("GET /health: %d %s (Connection: close %v), want 200 on a kept-alive connection", resp.StatusCode, body, resp.Close)
		}
		waitClosedAfter(t, conn, br, idle)
	})
	t.Run("unfinished request header", func(t *testing.T) {
		conn, br := dialClient(t, addr)
		fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: %s\r\n", addr)
		waitClosedAfter(t, conn, br, header)
	})
}

func dialClient(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, bufio.NewReader(conn)
}

// waitClosedAfter waits until the member closes conn (the read ends with
// io.EOF), and fails the test if that took much less than d, or did not
// happen within d and 5 s more.
func waitClosedAfter(t *testing.T, conn net.Conn, br *bufio.Reader, d time.Duration) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(d + 5*time.Second))
	n, err := br.Read(make([]byte, 1))
	elapsed := time.Since(start)
	if n != 0 || err != io.EOF {
		t.Fatalf("after %v: read %d bytes, %v; want the connection closed by the member", elapsed, n, err)
	}
	if elapsed < d/2 {
		t.Fatalf("closed after %v, before the timeout (%v)", elapsed, d)
	}
}
