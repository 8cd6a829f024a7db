package server

import (
	"context"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

var _ cairn.Watcher = (*Server)(nil)

// WatchConfig configures the member's watch hub (store.WatchOptions). Zero
// values take the defaults.
type WatchConfig struct {
	// ProgressNotifyInterval is the period of the progress responses to
	// watchers that asked for them (etcd's
	// --experimental-watch-progress-notify-interval, default 10m).
	ProgressNotifyInterval time.Duration
	// MaxWatchersPerConnection bounds the watchers of one watch stream (one
	// HTTP request or websocket); default 10000, negative: no limit. etcd
	// has no such limit.
	MaxWatchersPerConnection int
	// MaxPendingBytes bounds the events queued for one watcher that its
	// client has not taken yet; over it the watcher catches up from history
	// instead (default 1 MiB). etcd has no such limit.
	MaxPendingBytes int
}

// Defaults of WatchConfig.
const (
	DefaultWatchProgressNotifyInterval = 10 * time.Minute
	DefaultMaxWatchersPerConnection    = 10000
	DefaultMaxWatchPendingBytes        = 1 << 20
)

// openStore opens the member's store at path with a new watch hub wired to
// it (s.watch).
func (s *Server) openStore(path string) (*store.Store, error) {
	hub := store.NewWatchHub(store.WatchOptions{
		ProgressNotifyInterval: s.cfg.Watch.ProgressNotifyInterval,
		MaxWatchersPerStream:   s.cfg.Watch.MaxWatchersPerConnection,
		MaxPendingBytes:        s.cfg.Watch.MaxPendingBytes,
		// etcd fragments watch responses above --max-request-bytes.
		MaxResponseBytes: s.cfg.MaxRequestBytes,
	})
	st, err := s.openStoreWith(path, hub)
	if err != nil {
		return nil, err
	}
	s.watch = hub
	return st, nil
}

// openStoreWith opens the store at path and wires hub to it; a
// defragmentation reopens the same data with the same hub, so watchers go
// on.
func (s *Server) openStoreWith(path string, hub *store.WatchHub) (*store.Store, error) {
	st, err := store.Open(path, store.Options{
		Logger:        s.cfg.Logger,
		OnCommit:      hub.Publish,
		ObserveCommit: s.metrics.ObserveCommit,
	})
	if err != nil {
		return nil, err
	}
	// Users and roles live in the store file: whatever brought this file
	// (a restart, a received snapshot, a defragmentation) brings them.
	if err := s.auth.Load(st); err != nil {
		st.Close()
		return nil, err
	}
	hub.Attach(st)
	return st, nil
}

// Watch opens a watch stream on the member's hub (cairn.Watcher). Watches
// are served from the local store, as etcd serves them, without a raft
// round. It fails with cairn.ErrStopped once the member or its watches are
// stopping.
func (s *Server) Watch(ctx context.Context) (cairn.WatchStream, error) {
	s.storeMu.RLock() // a snapshot install replaces the hub
	hub := s.watch
	s.storeMu.RUnlock()
	st, err := hub.NewStream()
	if err != nil {
		return nil, err
	}
	return &watchStream{s: s, st: st}, nil
}

// CloseWatches ends every watch stream of the member (their Next returns
// cairn.ErrStopped) and refuses new ones. cmd/cairn calls it when the HTTP
// server begins its graceful shutdown, so that open streams do not hold the
// shutdown up; Close calls it too. It is idempotent.
func (s *Server) CloseWatches() {
	s.storeMu.RLock()
	hub := s.watch
	s.storeMu.RUnlock()
	if hub != nil {
		hub.Close()
	}
}

// watchStream completes the headers of a store watch stream.
type watchStream struct {
	s  *Server
	st *store.WatchStream
}

func (w *watchStream) Create(req *cairn.WatchCreateRequest) { w.st.Create(req) }
func (w *watchStream) Cancel(id int64)                      { w.st.Cancel(id) }
func (w *watchStream) RequestProgress()                     { w.st.RequestProgress() }
func (w *watchStream) Close()                               { w.st.Close() }

func (w *watchStream) Next(ctx context.Context, dst []*cairn.WatchResponse) ([]*cairn.WatchResponse, error) {
	out, err := w.st.Next(ctx, dst)
	for _, r := range out[len(dst):] {
		w.s.header(&r.Header)
	}
	return out, err
}
