// Package testmember starts a real one-member cluster in-process for the
// tests of the adapters (package server on a bbolt file in a temp dir, with
// quick elections), the way cmd/cairn starts one.
package testmember

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/server"
)

// Start starts a new one-member cluster in tb's temp dir, with the
// configuration changed by edit (when not nil), and waits until it answers
// a linearizable read. It is closed when the test ends.
func Start(tb testing.TB, edit func(*server.Config)) *server.Server {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = tb.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.HeartbeatInterval = 10 * time.Millisecond
	cfg.ElectionTimeout = 100 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte("ready")}); err == nil {
			return s
		} else if ctx.Err() != nil {
			tb.Fatalf("the member never answered: %v", err)
		}
	}
}
