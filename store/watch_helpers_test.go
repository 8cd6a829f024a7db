package store

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// mustWatched opens a fresh store with a watch hub wired to it, as the
// server does, and closes both when the test ends.
func mustWatched(tb testing.TB, wopts WatchOptions) (*Store, *WatchHub) {
	tb.Helper()
	h := NewWatchHub(wopts)
	s := MustOpen(tb, testDB(tb), Options{OnCommit: h.Publish})
	h.Attach(s)
	tb.Cleanup(h.Close)
	return s, h
}

// mustStream opens a stream on h, closed when the test ends.
func mustStream(tb testing.TB, h *WatchHub) *WatchStream {
	tb.Helper()
	st, err := h.NewStream()
	if err != nil {
		tb.Fatalf("NewStream: %v", err)
	}
	tb.Cleanup(st.Close)
	return st
}

// next calls st.Next with a bound that only turns a hang into a failure.
func next(tb testing.TB, st *WatchStream) []*cairn.WatchResponse {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := st.Next(ctx, nil)
	if err != nil {
		tb.Fatalf("Next: %v", err)
	}
	return out
}

// collector gathers the responses of a stream, by watch id.
type collector struct {
	tb    testing.TB
	st    *WatchStream
	byID  map[int64][]*cairn.WatchResponse
	other []*cairn.WatchResponse // WatchID -1
}

func newCollector(tb testing.TB, st *WatchStream) *collector {
	return &collector{tb: tb, st: st, byID: map[int64][]*cairn.WatchResponse{}}
}

// pull reads one batch from the stream.
func (c *collector) pull() {
	c.tb.Helper()
	for _, r := range next(c.tb, c.st) {
		if r.WatchID == -1 {
			c.other = append(c.other, r)
		} else {
			c.byID[r.WatchID] = append(c.byID[r.WatchID], r)
		}
	}
}

// until pulls until cond holds.
func (c *collector) until(what string, cond func() bool) {
	c.tb.Helper()
	for !cond() {
		c.pull()
	}
}

// events returns the events received for id, in order.
func (c *collector) events(id int64) []*cairn.WatchEvent {
	var out []*cairn.WatchEvent
	for _, r := range c.byID[id] {
		out = append(out, r.Events...)
	}
	return out
}

// lastRev is the mod revision of the last event received for id (0 if
// none).
func (c *collector) lastRev(id int64) int64 {
	evs := c.events(id)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Kv.ModRevision
}

// evString renders an event for comparisons.
func evString(ev *cairn.Event, prev bool) string {
	s := fmt.Sprintf("%s %s", ev.Type, kvString(ev.Kv))
	if ev.Type == cairn.EventDelete {
		s = fmt.Sprintf("DELETE %s m%d", ev.Kv.Key, ev.Kv.ModRevision)
	}
	if prev {
		s += " prev=" + kvString(ev.PrevKv)
	}
	return s
}

// watchSpec is what a watcher asked for, for computing what it must see.
type watchSpec struct {
	key, end     string // etcd conventions; end "\x00": from key
	start        int64  // first revision it must see
	prevKV       bool
	noPut, noDel bool
}

func (w watchSpec) contains(k []byte) bool {
	key := w.key
	if key == "" {
		key = "\x00"
	}
	switch {
	case w.end == "":
		return string(k) == key
	case w.end == "\x00":
		return string(k) >= key
	}
	return string(k) >= key && string(k) < w.end
}

// expectedEvents derives, from range reads of the store's history alone
// (not from the hub), the events a watcher of spec must see in revisions
// spec.start..to: per revision, the keys of the range whose mod_revision is
// that revision (puts) and the keys present just before and absent at it
// (deletes), sorted as strings within a revision.
func expectedEvents(tb testing.TB, s *Store, spec watchSpec, to int64) []string {
	tb.Helper()
	read := func(rev int64) map[string]*cairn.KeyValue {
		m := map[string]*cairn.KeyValue{}
		if rev < 1 {
			return m
		}
		// Read everything and filter with the spec, so that the check does
		// not depend on the store's own range logic for odd ranges.
		resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
		if err != nil {
			tb.Fatalf("Range at %d: %v", rev, err)
		}
		for _, kv := range resp.Kvs {
			if spec.contains(kv.Key) {
				m[string(kv.Key)] = kv
			}
		}
		return m
	}
	var out []string
	before := read(spec.start - 1)
	for rev := max(spec.start, 2); rev <= to; rev++ {
		now := read(rev)
		var keys []string
		for k := range now {
			keys = append(keys, k)
		}
		for k := range before {
			if now[k] == nil {
				keys = append(keys, k)
			}
		}
		var group []string
		for _, k := range keys {
			kv, was := now[k], before[k]
			switch {
			case kv != nil && kv.ModRevision == rev:
				if !spec.noPut {
					group = append(group, evString(&cairn.Event{Type: cairn.EventPut, Kv: kv, PrevKv: was}, spec.prevKV))
				}
			case kv == nil && was != nil:
				if !spec.noDel {
					group = append(group, evString(&cairn.Event{Type: cairn.EventDelete, Kv: &cairn.KeyValue{Key: []byte(k), ModRevision: rev}, PrevKv: was}, spec.prevKV))
				}
			}
		}
		sort.Strings(group) // as receivedEvents orders a revision's events
		out = append(out, group...)
		before = now
	}
	return out
}

// receivedEvents renders what a watcher received, checking on the way
// etcd's guarantees: revisions never go down, and the events of one
// revision are all in one response (atomic) unless fragmented. Within a
// revision events are sorted as strings to compare with expectedEvents.
func receivedEvents(tb testing.TB, rs []*cairn.WatchResponse, prevKV bool) []string {
	tb.Helper()
	var (
		out      []string
		lastRev  int64
		fragment bool
	)
	var group []string
	flush := func() {
		sort.Strings(group)
		out = append(out, group...)
		group = group[:0]
	}
	for _, r := range rs {
		if r.Created || r.Canceled || len(r.Events) == 0 {
			continue
		}
		for i, ev := range r.Events {
			rev := ev.Kv.ModRevision
			if rev < lastRev {
				tb.Fatalf("revision %d after %d", rev, lastRev)
			}
			if rev == lastRev && i == 0 && !fragment {
				tb.Fatalf("revision %d split across responses", rev)
			}
			if rev != lastRev {
				flush()
			}
			lastRev = rev
			group = append(group, evString(&ev.Event, prevKV))
		}
		if r.Header.Revision < lastRev {
			tb.Fatalf("response header revision %d below its last event's %d", r.Header.Revision, lastRev)
		}
		fragment = r.Fragment
	}
	flush()
	return out
}

// diffEvents reports the first difference of two event lists.
func diffEvents(got, want []string) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("event %d (of %d got, %d want): got %q, want %q", i, len(got), len(want), g, w)
		}
	}
	return ""
}

func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00"
}

var _ = bytes.Equal
var _ = strings.Repeat
