package store

import "github.com/cairnkv/cairn"

// respBuilder turns one watcher's revisions into event responses: whole
// revisions merged up to max bytes, a response over max fragmented if the
// watcher asked.
//
// This file owns the shape and size of event responses: respBuilder
// merges, splits and fragments them, and eventSize, kvSize, embeddedSize
// and varintSize give the protobuf sizes that the builder, the hub's
// watchRev, Next's budget and MaxPendingBytes are counted in.
type respBuilder struct {
	w   *watcher
	max int
	// compacted is the compacted revision: an event whose previous
	// revision is below it goes without PrevKv, as etcd (which reads the
	// previous version at mod_revision-1 when it sends the event) and the
	// store's history reads do.
	compacted int64
	out       []*cairn.WatchResponse
	cur       *cairn.WatchResponse
	size      int   // of cur's events
	last      int64 // the revision cur covers up to
}

// addRev adds the events of a published revision that w wants.
func (b *respBuilder) addRev(wr *watchRev) {
	mark, markSize := b.begin()
	prevKV := b.w.prevKV && wr.rev-1 >= b.compacted
	for i := range wr.full {
		if !b.w.wants(&wr.full[i].Event) {
			continue
		}
		ev, n := wr.event(i, prevKV)
		b.cur.Events = append(b.cur.Events, ev)
		b.size += n
	}
	b.end(wr.rev, mark, markSize)
}

// addHistory adds the events of one revision read from the store (already
// in w's range, with PrevKv as w asked).
func (b *respBuilder) addHistory(evs []cairn.WatchEvent) {
	mark, markSize := b.begin()
	for i := range evs {
		if !b.w.wants(&evs[i].Event) {
			continue
		}
		b.cur.Events = append(b.cur.Events, &evs[i])
		b.size += embeddedSize(eventSize(&evs[i].Event))
	}
	b.end(evs[0].Kv.ModRevision, mark, markSize)
}

func (b *respBuilder) begin() (mark, markSize int) {
	if b.cur == nil {
		b.cur = &cairn.WatchResponse{WatchID: b.w.id}
	}
	return len(b.cur.Events), b.size
}

// end closes a revision: if it made the response too big, it starts the
// next response.
func (b *respBuilder) end(rev int64, mark, markSize int) {
	if markSize > 0 && b.size > b.max {
		moved := append([]*cairn.WatchEvent(nil), b.cur.Events[mark:]...)
		b.cur.Events = b.cur.Events[:mark]
		b.size = markSize
		b.emit()
		b.cur = &cairn.WatchResponse{WatchID: b.w.id, Events: moved}
		for _, ev := range moved {
			b.size += embeddedSize(eventSize(&ev.Event))
		}
	}
	b.last = rev
}

// finish emits the response in progress, whose header revision becomes
// through (the last revision considered, its events filtered out or not).
func (b *respBuilder) finish(through int64) []*cairn.WatchResponse {
	if b.cur != nil && len(b.cur.Events) > 0 {
		b.last = through
		b.emit()
	}
	return b.out
}

// emit appends cur to out, in fragments if it is over max and the watcher
// asked for them, and resets cur.
func (b *respBuilder) emit() {
	r := b.cur
	r.Header.Revision = b.last
	b.cur, b.size = nil, 0
	if len(r.Events) == 0 {
		return
	}
	total := 0
	for _, ev := range r.Events {
		total += embeddedSize(eventSize(&ev.Event))
	}
	if !b.w.fragment || total <= b.max || len(r.Events) < 2 {
		b.out = append(b.out, r)
		return
	}
	// etcd's fragments: each takes events while it stays under max (at
	// least one), all but the last marked Fragment.
	evs := r.Events
	for len(evs) > 0 {
		f := &cairn.WatchResponse{Header: r.Header, WatchID: r.WatchID, Fragment: true}
		size := 0
		for len(evs) > 0 {
			n := embeddedSize(eventSize(&evs[0].Event))
			if len(f.Events) > 0 && size+n >= b.max {
				break
			}
			f.Events = append(f.Events, evs[0])
			size += n
			evs = evs[1:]
		}
		if len(evs) == 0 {
			f.Fragment = false
		}
		b.out = append(b.out, f)
	}
}

// eventSize is the protobuf size of an mvccpb.Event.
func eventSize(e *cairn.Event) int { return e.ProtoSize() }

// embeddedSize is the protobuf size of a message of n bytes as a field of
// another (tag, length, body).
func embeddedSize(n int) int { return cairn.ProtoMessageField(1, n) }
