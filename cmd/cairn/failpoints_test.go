package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/failpoint"
)

func TestFailpointEndpoint(t *testing.T) {
	t.Cleanup(func() { failpoint.Disarm("raftlog/beforeSync") })
	srv := httptest.NewServer(failpointHandler{})
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("PUT", "/raftlog/beforeSync", "sleep(5ms)"); code != http.StatusNoContent {
		t.Fatalf("PUT: %d", code)
	}
	if code, body := do("GET", "/raftlog/beforeSync", ""); code != 200 || body != "sleep(5ms)\n" {
		t.Errorf("GET: %d %q", code, body)
	}
	if _, body := do("GET", "/", ""); !strings.Contains(body, "raftlog/beforeSync=sleep(5ms)\n") || !strings.Contains(body, "raftlog/afterSync=\n") {
		t.Errorf("GET /: %q", body)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{"PUT", "/raftlog/beforeSync", "explode", 400},
		{"PUT", "/raftlog/afterSync", "return", 400}, // a Hit point cannot fail
		{"PUT", "/raftlog/nonesuch", "panic", 404},
		{"POST", "/raftlog/beforeSync", "panic", 405},
	} {
		if code, body := do(c.method, c.path, c.body); code != c.code {
			t.Errorf("%s %s %q: %d %q, want %d", c.method, c.path, c.body, code, body, c.code)
		}
	}
	if got := failpoint.Armed()["raftlog/beforeSync"]; got != "sleep(5ms)" {
		t.Errorf("refused requests changed the point: %q", got)
	}
	if code, _ := do("DELETE", "/raftlog/beforeSync", ""); code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	if len(failpoint.Armed()) != 0 {
		t.Errorf("armed after DELETE: %v", failpoint.Armed())
	}
}

func TestStartFailpointsRefusesABadSpec(t *testing.T) {
	m := &Main{failpoints: "raftlog/afterSync=return"}
	if _, err := m.startFailpoints(slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), envFailpoints) {
		t.Errorf("err = %v", err)
	}
	m = &Main{} // nothing armed, nothing served
	stop, err := m.startFailpoints(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if len(failpoint.Armed()) != 0 {
		t.Errorf("armed: %v", failpoint.Armed())
	}
}
