package cairn

import (
	"context"
	"errors"
	"sync/atomic"
)

// Watch: the requests and responses of a watch stream, which package
// store's watch hub serves (store/watch_*.go; store/doc.go, "Watch", tells
// how the hub works), and the interfaces the adapters call.

// WatchFilter is etcd's WatchCreateRequest.FilterType: a kind of event a
// watcher does not want.
type WatchFilter int32

// Watch filters, numbered as in etcd's rpc.proto.
const (
	// FilterNoPut drops put events.
	FilterNoPut WatchFilter = iota
	// FilterNoDelete drops delete events.
	FilterNoDelete
)

// WatchCreateRequest asks for a watcher, as etcd's WatchCreateRequest.
//
// Key and RangeEnd name the keys with RangeRequest's conventions: RangeEnd
// empty watches Key alone, RangeEnd "\x00" every key >= Key, otherwise
// [Key, RangeEnd). An empty Key means "\x00" (etcd's rule), so Key empty
// with RangeEnd "\x00" watches every key. A non-empty RangeEnd not above Key
// is refused (ErrWatcherRangeEmpty).
//
// StartRevision 0 starts after the current revision. A revision at or
// below the current one replays the history from there before the live
// events; one above it starts there (events below it are not sent). A
// start revision below the compacted revision (a negative one included)
// ends the watcher with a response carrying CompactRevision, as etcd.
//
// WatchID 0 lets the stream pick the smallest unused id >= 0; another value
// is taken as the id and must not be in use on the stream.
// ProgressNotify asks for the periodic progress responses
// (WatchOptions.ProgressNotifyInterval). PrevKV asks for each event's
// previous key-value. Fragment lets a response over the stream's
// MaxResponseBytes be split into fragments (WatchResponse.Fragment).
// Filters not in the enum are ignored, as etcd does.
type WatchCreateRequest struct {
	Key            []byte
	RangeEnd       []byte
	StartRevision  int64
	ProgressNotify bool
	Filters        []WatchFilter
	PrevKV         bool
	WatchID        int64
	Fragment       bool
	// Refuse, if set, is the adapter's refusal of the request (the user may
	// not read the range): the stream answers it as a refused request, its
	// text the cancel reason, and watches nothing.
	Refuse error
}

// WatchResponse is one message of a watch stream, as etcd's WatchResponse.
//
// Header.Revision is, in an event or progress response, a revision up to
// which every event of the watcher (of every watcher of the stream when
// WatchID is -1) has been sent; in a created or canceled response the
// revision the hub had reached; 0 in a compaction cancel (etcd's). The hub
// leaves the other header fields zero for the server to fill.
//
// Kinds, as etcd sends them:
//   - created: Created, WatchID (the new id). A request the stream refused
//     is answered Created and Canceled with WatchID -1 and CancelReason.
//   - events: WatchID and Events, in revision order; all events of one
//     revision are in one response unless it is a fragment (Fragment true on
//     every piece but the last, for watchers that asked).
//   - progress: no events; WatchID is the watcher's (periodic progress) or
//     -1 (the answer to WatchStream.RequestProgress).
//   - canceled: Canceled and WatchID, after WatchStream.Cancel; with
//     CompactRevision (the compacted revision) when the watcher's next
//     revision was compacted away.
type WatchResponse struct {
	Header          ResponseHeader
	WatchID         int64
	Created         bool
	Canceled        bool
	CompactRevision int64
	CancelReason    string
	Fragment        bool
	Events          []*WatchEvent
}

// WatchEventMemoSlots is the number of memo slots of a WatchEvent.
const WatchEventMemoSlots = 2

// WatchEvent is one event as the hub hands it out. Live events are shared
// by every watcher that receives them, so transports must treat them as
// read-only; PrevKv is set only for watchers that asked for it (the hub
// keeps one WatchEvent with PrevKv and one without per live event).
//
// Memo lets a transport encode a shared event once for all its watchers.
type WatchEvent struct {
	Event
	memo [WatchEventMemoSlots]atomic.Pointer[[]byte]
}

// Memo returns the bytes enc makes of the event, calling enc at most once
// per slot for the life of the event when callers do not race (when they
// do, one result wins and every caller gets it). A slot belongs by
// convention to one encoding (package httpapi uses slot 0 for the v3 JSON
// of an event); enc must be a pure function of the event. The returned
// slice is shared: do not modify it. slot must be in [0,
// WatchEventMemoSlots).
func (e *WatchEvent) Memo(slot int, enc func(ev *Event) []byte) []byte {
	if p := e.memo[slot].Load(); p != nil {
		return *p
	}
	b := enc(&e.Event)
	if e.memo[slot].CompareAndSwap(nil, &b) {
		return b
	}
	return *e.memo[slot].Load()
}

// Errors a watch stream answers in a refused create's CancelReason. The
// messages are etcd's where etcd has them.
var (
	// ErrWatcherRangeEmpty: a RangeEnd that is not above Key. etcd
	// mvcc.ErrEmptyWatcherRange.
	ErrWatcherRangeEmpty = errors.New("mvcc: watcher range is empty")
	// ErrWatcherDuplicateID: a WatchID already in use on the stream. etcd
	// mvcc.ErrWatcherDuplicateID.
	ErrWatcherDuplicateID = errors.New("mvcc: duplicate watch ID provided on the WatchStream")
	// ErrTooManyWatchers: the stream already has
	// WatchOptions.MaxWatchersPerStream watchers. etcd has no such limit.
	ErrTooManyWatchers = errors.New("cairn: too many watchers on this stream")
)

// Watcher is what POST /v3/watch (the HTTP stream and the websocket) needs
// from a member. New serves the watch routes when its Backend also
// implements Watcher.
type Watcher interface {
	// Watch opens a watch stream for one client connection. The caller
	// closes it when the client goes away. It fails with ErrStopped
	// when the member is stopping. ctx is not retained.
	Watch(ctx context.Context) (WatchStream, error)
}

// WatchStream is one client's watch stream, with the contract of
// store.WatchStream: requests go in through Create, Cancel and
// RequestProgress (safe for concurrent use with Next), responses come out
// of Next (one goroutine at a time) with complete headers (cluster, member,
// raft term; the revision as WatchResponse defines it). Next returns
// ctx.Err() when ctx is done and ErrStopped once the stream or the
// member stopped. Responses, and the events in them, are shared: read
// them, do not modify them.
type WatchStream interface {
	Create(req *WatchCreateRequest)
	Cancel(watchID int64)
	RequestProgress()
	Next(ctx context.Context, dst []*WatchResponse) ([]*WatchResponse, error)
	Close()
}
