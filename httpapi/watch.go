package httpapi

import (
	"context"

	"github.com/cairnkv/cairn/store"
)

// Watcher is what POST /v3/watch (the HTTP stream and the websocket) needs
// from a member. New serves the watch routes when its Backend also
// implements Watcher.
type Watcher interface {
	// Watch opens a watch stream for one client connection. The caller
	// closes it when the client goes away. It fails with store.ErrStopped
	// when the member is stopping. ctx is not retained.
	Watch(ctx context.Context) (WatchStream, error)
}

// WatchStream is one client's watch stream, with the contract of
// store.WatchStream: requests go in through Create, Cancel and
// RequestProgress (safe for concurrent use with Next), responses come out
// of Next (one goroutine at a time) with complete headers (cluster, member,
// raft term; the revision as store.WatchResponse defines it). Next returns
// ctx.Err() when ctx is done and store.ErrStopped once the stream or the
// member stopped. Responses, and the events in them, are shared: read
// them, do not modify them.
type WatchStream interface {
	Create(req *store.WatchCreateRequest)
	Cancel(watchID int64)
	RequestProgress()
	Next(ctx context.Context, dst []*store.WatchResponse) ([]*store.WatchResponse, error)
	Close()
}
