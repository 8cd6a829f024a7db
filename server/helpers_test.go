package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// testConfig is a single member in dir with quiet logs and fast ticks.
func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.HeartbeatInterval = 10 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	return cfg
}

// mustStart starts a member with cfg and closes it when the test ends. It
// waits until the member answers a linearizable read.
func mustStart(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte("ready")})
		if err == nil {
			return s
		}
		if ctx.Err() != nil {
			tb.Fatalf("member never became ready: %v", err)
		}
	}
}

func mustPut(tb testing.TB, s *Server, key, value string) *cairn.PutResponse {
	tb.Helper()
	resp, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte(key), Value: []byte(value)})
	if err != nil {
		tb.Fatalf("put %s: %v", key, err)
	}
	return resp
}

func mustGet(tb testing.TB, s *Server, key string) *cairn.KeyValue {
	tb.Helper()
	resp, err := s.Range(context.Background(), &cairn.RangeRequest{Key: []byte(key)})
	if err != nil {
		tb.Fatalf("range %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		tb.Fatalf("range %s: %d kvs, want 1", key, len(resp.Kvs))
	}
	return resp.Kvs[0]
}

func key(i int) string { return fmt.Sprintf("k%06d", i) }
