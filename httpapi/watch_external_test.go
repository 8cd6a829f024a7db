package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/server"
)

var _ cairn.Watcher = (*server.Server)(nil)

// The watch stream over a real member (raft, WAL, store, hub), as cmd/cairn
// wires it: live events with complete headers, a reconnect from the last
// revision seen + 1 with no gap and no duplicate, and CloseWatches ending
// the open streams (what cmd/cairn does when its graceful shutdown begins).
func TestMemberWatch(t *testing.T) {
	m := startMember(t)
	ts := httpapi.ServeBackend(t, m, httpapi.Config{})
	put := func(v string) {
		t.Helper()
		if _, err := m.Put(context.Background(), &cairn.PutRequest{Key: []byte("foo"), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	type line struct {
		Result struct {
			Header struct {
				ClusterID string `json:"cluster_id"`
				MemberID  string `json:"member_id"`
				RaftTerm  string `json:"raft_term"`
			} `json:"header"`
			Created bool `json:"created"`
			Events  []struct {
				Kv struct {
					ModRevision string `json:"mod_revision"`
					Value       []byte `json:"value"`
				} `json:"kv"`
			} `json:"events"`
		} `json:"result"`
	}
	watch := func(start int64) (*bufio.Scanner, func()) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		body := fmt.Sprintf(`{"create_request": {"key": "Zm9v", "start_revision": %d}}`, start)
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v3/watch", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return bufio.NewScanner(resp.Body), func() { cancel(); resp.Body.Close() }
	}
	next := func(sc *bufio.Scanner) line {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("the stream ended: %v", sc.Err())
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		h := l.Result.Header
		if h.ClusterID != fmt.Sprint(m.ClusterID()) || h.MemberID != fmt.Sprint(m.MemberID()) || h.RaftTerm == "" {
			t.Fatalf("header %+v", h)
		}
		return l
	}

	sc, stop := watch(0)
	if !next(sc).Result.Created {
		t.Fatal("no created response")
	}
	var seen []string
	for i := range 5 {
		put(fmt.Sprint(i))
		for _, ev := range next(sc).Result.Events {
			seen = append(seen, ev.Kv.ModRevision+"="+string(ev.Kv.Value))
		}
	}
	stop()
	last := strings.Split(seen[len(seen)-1], "=")[0]
	for i := 5; i < 10; i++ {
		put(fmt.Sprint(i))
	}
	var lastRev int64
	fmt.Sscan(last, &lastRev)
	sc, stop = watch(lastRev + 1)
	defer stop()
	next(sc)
	for len(seen) < 10 {
		for _, ev := range next(sc).Result.Events {
			seen = append(seen, ev.Kv.ModRevision+"="+string(ev.Kv.Value))
		}
	}
	for i, s := range seen {
		if want := fmt.Sprintf("%d=%d", int64(i)+lastRev-4, i); s != want {
			t.Fatalf("event %d: %s, want %s (all: %v)", i, s, want, seen)
		}
	}

	done := make(chan bool)
	go func() { done <- sc.Scan() }()
	m.CloseWatches()
	select {
	case more := <-done:
		if more {
			t.Fatalf("a line after CloseWatches: %s", sc.Text())
		}
	case <-time.After(time.Minute):
		t.Fatal("the stream outlived CloseWatches")
	}
	if _, err := m.Watch(context.Background()); err == nil {
		t.Fatal("a new stream after CloseWatches")
	}
}
