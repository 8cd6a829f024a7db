package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cairnkv/cairn"
)

func TestWatchCreatedThenLiveEvents(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	MustPut(t, s, "foo", "old") // revision 2, before the watch
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("foo")})
	rs := next(t, st)
	if len(rs) != 1 || !rs[0].Created || rs[0].WatchID != 0 || rs[0].Header.Revision != 2 {
		t.Fatalf("first response %+v, want created watch 0 at revision 2", rs[0])
	}
	MustPut(t, s, "foo", "bar")   // 3
	MustPut(t, s, "food", "no")   // 4: another key
	MustDelete(t, s, "foo", "")   // 5
	MustPut(t, s, "foo", "again") // 6
	c := newCollector(t, st)
	c.until("three events", func() bool { return len(c.events(0)) >= 3 })
	got := receivedEvents(t, c.byID[0], false)
	want := []string{
		"PUT foo=bar c2 m3 v2 l0",
		"DELETE foo m5",
		"PUT foo=again c6 m6 v1 l0",
	}
	if d := diffEvents(got, want); d != "" {
		t.Fatal(d)
	}
}

func TestWatchRanges(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	specs := []watchSpec{
		{key: "a/", end: prefixEnd("a/")},
		{key: "a/b", end: "\x00"},
		{key: "", end: "\x00"},
		{key: "b"},
		{key: "a/", end: prefixEnd("a/"), prevKV: true},
		{key: "a/", end: prefixEnd("a/"), noPut: true, prevKV: true},
		{key: "a/", end: prefixEnd("a/"), noDel: true},
	}
	for _, sp := range specs {
		req := &cairn.WatchCreateRequest{Key: []byte(sp.key), RangeEnd: []byte(sp.end), PrevKV: sp.prevKV}
		if sp.noPut {
			req.Filters = append(req.Filters, cairn.FilterNoPut)
		}
		if sp.noDel {
			req.Filters = append(req.Filters, cairn.FilterNoDelete)
		}
		st.Create(req)
	}
	MustPut(t, s, "a/a", "1")
	MustPut(t, s, "a/b", "2")
	MustPut(t, s, "b", "3")
	MustPut(t, s, "c", "4")
	MustApply(t, s, func(b *Batch) { // a transaction touching three keys at one revision
		_, err := b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{Put: &cairn.PutRequest{Key: []byte("a/c"), Value: []byte("5")}},
			{Put: &cairn.PutRequest{Key: []byte("b"), Value: []byte("6")}},
			{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("a/a")}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	})
	MustDelete(t, s, "a/", prefixEnd("a/"))
	final := s.Rev()
	c := newCollector(t, st)
	st.RequestProgress()
	c.until("progress at the final revision", func() bool {
		return len(c.other) > 0 && c.other[len(c.other)-1].Header.Revision >= final
	})
	for i, sp := range specs {
		sp.start = 2
		got := receivedEvents(t, c.byID[int64(i)], sp.prevKV)
		want := expectedEvents(t, s, sp, final)
		if d := diffEvents(got, want); d != "" {
			t.Errorf("watcher %d %+v: %s", i, sp, d)
		}
		if len(want) == 0 && sp.key != "" {
			t.Errorf("watcher %d %+v: the test expects nothing", i, sp)
		}
	}
}

func TestWatchRefusedCreates(t *testing.T) {
	_, h := mustWatched(t, WatchOptions{MaxWatchersPerStream: 2})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("b"), RangeEnd: []byte("a")})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a"), RangeEnd: []byte("a")})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a"), WatchID: 7})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a"), WatchID: 7})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a")}) // auto id 0
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a")}) // a third
	var rs []*cairn.WatchResponse
	for len(rs) < 6 {
		rs = append(rs, next(t, st)...)
	}
	want := []struct {
		id     int64
		reason error
	}{{-1, cairn.ErrWatcherRangeEmpty}, {-1, cairn.ErrWatcherRangeEmpty}, {7, nil}, {-1, cairn.ErrWatcherDuplicateID}, {0, nil}, {-1, cairn.ErrTooManyWatchers}}
	for i, w := range want {
		r := rs[i]
		canceled := w.reason != nil
		if r.WatchID != w.id || !r.Created || r.Canceled != canceled || (canceled && r.CancelReason != w.reason.Error()) {
			t.Errorf("response %d: %+v, want id %d, reason %v", i, r, w.id, w.reason)
		}
	}
}

func TestWatchAutoIDsSkipTakenOnes(t *testing.T) {
	_, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a"), WatchID: 1})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a")})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a")})
	var ids []int64
	for len(ids) < 3 {
		for _, r := range next(t, st) {
			ids = append(ids, r.WatchID)
		}
	}
	if fmt.Sprint(ids) != "[1 0 2]" {
		t.Fatalf("ids %v, want [1 0 2] (etcd: the smallest free id from a counter)", ids)
	}
}

func TestWatchFromHistory(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	for i := range 20 {
		MustPut(t, s, fmt.Sprintf("k%d", i%3), fmt.Sprint(i))
	}
	MustDelete(t, s, "k0", "")
	for _, start := range []int64{1, 2, 7, s.Rev()} {
		for _, prev := range []bool{false, true} {
			st := mustStream(t, h)
			st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l"), StartRevision: start, PrevKV: prev})
			st.Create(&cairn.WatchCreateRequest{Key: []byte("k1"), StartRevision: start, PrevKV: prev})
			c := newCollector(t, st)
			st.RequestProgress()
			c.until("caught up", func() bool { return len(c.other) > 0 })
			for id, sp := range []watchSpec{{key: "k", end: "l"}, {key: "k1"}} {
				sp.start, sp.prevKV = start, prev
				got := receivedEvents(t, c.byID[int64(id)], prev)
				want := expectedEvents(t, s, sp, s.Rev())
				if d := diffEvents(got, want); d != "" {
					t.Errorf("start %d prev %v watcher %+v: %s", start, prev, sp, d)
				}
			}
			if c.other[0].Header.Revision != s.Rev() {
				t.Errorf("progress at %d, want %d", c.other[0].Header.Revision, s.Rev())
			}
			st.Close()
		}
	}
}

// A start revision from before the hub's memory is read from the store; a
// recent one is served from memory; both give the same events.
func TestWatchHistoryFromStoreAndMemoryAgree(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{RecentBytes: 1})
	for i := range 30 {
		MustPut(t, s, "k", strings.Repeat("v", i))
	}
	before := h.Stats()
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 3, PrevKV: true})
	c := newCollector(t, st)
	c.until("caught up", func() bool { return c.lastRev(0) == s.Rev() })
	after := h.Stats()
	if after.StoreReads == before.StoreReads {
		t.Errorf("no history read from the store (stats %+v)", after)
	}
	want := expectedEvents(t, s, watchSpec{key: "k", start: 3, prevKV: true}, s.Rev())
	if d := diffEvents(receivedEvents(t, c.byID[0], true), want); d != "" {
		t.Fatal(d)
	}
}

func TestWatchFutureStartRevision(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 5})
	for range 6 {
		MustPut(t, s, "k", "v") // revisions 2..7
	}
	c := newCollector(t, st)
	c.until("revision 7", func() bool { return c.lastRev(0) == 7 })
	evs := c.events(0)
	if len(evs) != 3 || evs[0].Kv.ModRevision != 5 {
		t.Fatalf("events from revision %d, %d of them; want 5, 6, 7", evs[0].Kv.ModRevision, len(evs))
	}
}

func TestWatchCompactedStart(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: -3})
	rs := next(t, st)
	for len(rs) < 2 {
		rs = append(rs, next(t, st)...)
	}
	if !rs[0].Created || !rs[1].Canceled || rs[1].CompactRevision != -1 || rs[1].Header.Revision != 0 {
		t.Fatalf("negative start on a never compacted store: %+v %+v; etcd 3.4 answers created, then canceled with compact_revision -1", rs[0], rs[1])
	}
	for range 5 {
		MustPut(t, s, "k", "v") // 2..6
	}
	MustCompact(t, s, 4)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 3, WatchID: 5})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 4, WatchID: 6})
	c := newCollector(t, st)
	c.until("both answered", func() bool { return len(c.byID[5]) == 2 && c.lastRev(6) == 6 })
	if r := c.byID[5][1]; !r.Canceled || r.CompactRevision != 4 || len(r.Events) != 0 {
		t.Fatalf("start below the compacted revision: %+v, want canceled with compact_revision 4", r)
	}
	if evs := c.events(6); len(evs) != 3 || evs[0].Kv.ModRevision != 4 {
		t.Fatalf("start at the compacted revision: %d events from %d, want 3 from 4 (etcd serves it)", len(evs), evs[0].Kv.ModRevision)
	}
	st.Cancel(6)
	MustPut(t, s, "k", "after cancel")
	c.until("canceled", func() bool { return len(c.byID[6]) > 0 && c.byID[6][len(c.byID[6])-1].Canceled })
	if c.lastRev(6) != 6 {
		t.Fatal("an event after the cancel")
	}
}

// A watcher that falls behind while catching up, past a compaction, ends
// with compact_revision; its events before are all there.
func TestWatchCompactedWhileCatchingUp(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{RecentBytes: 1, MaxResponseBytes: 1})
	for range 10 {
		MustPut(t, s, "k", "v") // 2..11
	}
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 2})
	c := newCollector(t, st)
	c.until("a first chunk", func() bool { return c.lastRev(0) > 0 })
	got := c.lastRev(0)
	if got >= 11 {
		t.Fatalf("caught up in one chunk (%d); the test needs several", got)
	}
	MustCompact(t, s, 11)
	c.until("canceled", func() bool { rs := c.byID[0]; return rs[len(rs)-1].Canceled })
	rs := c.byID[0]
	if r := rs[len(rs)-1]; r.CompactRevision != 11 {
		t.Fatalf("cancel %+v, want compact_revision 11", r)
	}
	evs := c.events(0)
	for i, ev := range evs {
		if ev.Kv.ModRevision != int64(2+i) {
			t.Fatalf("event %d at revision %d: a gap", i, ev.Kv.ModRevision)
		}
	}
}

func TestWatchCancelAndClose(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k")})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k")})
	st.Cancel(0)
	st.Cancel(42) // unknown: ignored, as etcd
	MustPut(t, s, "k", "v")
	c := newCollector(t, st)
	c.until("an event for 1", func() bool { return len(c.events(1)) == 1 })
	if rs := c.byID[0]; len(rs) != 2 || !rs[1].Canceled || len(c.events(0)) != 0 {
		t.Fatalf("watcher 0: %+v", rs)
	}
	if len(c.byID[42]) != 0 {
		t.Fatal("a response for an unknown id")
	}
	st.Close()
	if _, err := st.Next(context.Background(), nil); !errors.Is(err, cairn.ErrStopped) {
		t.Fatalf("Next after Close: %v", err)
	}
	if got := h.Stats(); got.Streams != 0 || got.Watchers != 0 {
		t.Fatalf("after Close: %+v", got)
	}
	st2 := mustStream(t, h)
	h.Close()
	if _, err := st2.Next(context.Background(), nil); !errors.Is(err, cairn.ErrStopped) {
		t.Fatalf("Next after the hub closed: %v", err)
	}
	if _, err := h.NewStream(); !errors.Is(err, cairn.ErrStopped) {
		t.Fatalf("NewStream after the hub closed: %v", err)
	}
}

func TestWatchNextHonoursContext(t *testing.T) {
	_, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Next(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next: %v", err)
	}
}

func TestWatchProgressNotify(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{ProgressNotifyInterval: 5e6})
	MustPut(t, s, "x", "1")
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), ProgressNotify: true})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k")})
	c := newCollector(t, st)
	c.until("a progress response", func() bool {
		rs := c.byID[0]
		return len(rs) > 1 && !rs[len(rs)-1].Created
	})
	rs := c.byID[0]
	p := rs[len(rs)-1]
	if len(p.Events) != 0 || p.Canceled || p.Header.Revision != s.Rev() {
		t.Fatalf("progress response %+v, want an empty one at revision %d", p, s.Rev())
	}
	for _, r := range c.byID[1][1:] {
		t.Fatalf("a watcher without progress_notify got %+v", r)
	}
}

// RequestProgress waits for a watcher that is catching up: its revision
// vouches for every event up to it.
func TestWatchRequestProgressAfterCatchUp(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{RecentBytes: 1, MaxResponseBytes: 1})
	for range 10 {
		MustPut(t, s, "k", "v")
	}
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 2})
	st.RequestProgress()
	c := newCollector(t, st)
	c.until("progress", func() bool { return len(c.other) > 0 })
	if got := c.lastRev(0); got != s.Rev() || c.other[0].Header.Revision != s.Rev() {
		t.Fatalf("progress at %d after events up to %d; want both %d", c.other[0].Header.Revision, got, s.Rev())
	}
}

func TestWatchFragment(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{MaxResponseBytes: 100})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l"), Fragment: true})
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	MustApply(t, s, func(b *Batch) {
		var ops []cairn.RequestOp
		for i := range 5 {
			ops = append(ops, cairn.RequestOp{Put: &cairn.PutRequest{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(strings.Repeat("v", 40))}})
		}
		if _, err := b.Txn(&cairn.TxnRequest{Success: ops}); err != nil {
			t.Fatal(err)
		}
	})
	c := newCollector(t, st)
	c.until("both", func() bool { return len(c.events(0)) == 5 && len(c.events(1)) == 5 })
	frags := c.byID[0][1:]
	if len(frags) < 2 {
		t.Fatalf("%d responses for a revision of 5 events over the limit; want fragments", len(frags))
	}
	for i, r := range frags {
		if r.Fragment != (i < len(frags)-1) {
			t.Errorf("fragment %d of %d: Fragment %v", i, len(frags), r.Fragment)
		}
		if r.Header.Revision != 2 {
			t.Errorf("fragment %d at revision %d", i, r.Header.Revision)
		}
	}
	if whole := c.byID[1][1:]; len(whole) != 1 || whole[0].Fragment {
		t.Fatalf("a watcher without fragment got %d responses; want one whole", len(whole))
	}
}

// 10k watchers on one key, over 100 streams: every one gets every event.
func TestWatchTenThousandWatchersOnOneKey(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	const streams, per, puts = 100, 100, 20
	var sts []*WatchStream
	for range streams {
		st := mustStream(t, h)
		for range per {
			st.Create(&cairn.WatchCreateRequest{Key: []byte("hot")})
		}
		sts = append(sts, st)
	}
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for _, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := map[int64]int64{} // watch id -> last revision
			for done := 0; done < per; {
				rs, err := st.Next(context.Background(), nil)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range rs {
					for _, ev := range r.Events {
						if want := max(seen[r.WatchID]+1, 2); ev.Kv.ModRevision != want && seen[r.WatchID] != 0 {
							errs <- fmt.Errorf("watch %d: revision %d after %d", r.WatchID, ev.Kv.ModRevision, seen[r.WatchID])
							return
						}
						seen[r.WatchID] = ev.Kv.ModRevision
						if ev.Kv.ModRevision == puts+1 {
							done++
						}
					}
				}
			}
		}()
	}
	for i := range puts {
		MustPut(t, s, "hot", fmt.Sprint(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Watchers != streams*per {
		t.Fatalf("stats %+v", st)
	}
}

// A consumer that does not read while the writers write is switched to
// catching up (the writers never wait for it) and still gets every event
// once, in order.
func TestWatchSlowConsumer(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{MaxPendingBytes: 1024, RecentBytes: 4096})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), RangeEnd: []byte("l"), PrevKV: true})
	next(t, st) // created
	for i := range 300 {
		MustPut(t, s, fmt.Sprintf("k%d", i%7), strings.Repeat("x", 50))
	}
	if got := h.Stats(); got.SlowWatchers == 0 || got.Unsynced != 1 {
		t.Fatalf("the watcher was never switched to catching up: %+v", got)
	}
	c := newCollector(t, st)
	st.RequestProgress()
	c.until("caught up", func() bool { return len(c.other) > 0 })
	want := expectedEvents(t, s, watchSpec{key: "k", end: "l", prevKV: true, start: 2}, s.Rev())
	if d := diffEvents(receivedEvents(t, c.byID[0], true), want); d != "" {
		t.Fatal(d)
	}
	if got := h.Stats(); got.StoreReads == 0 {
		t.Errorf("no read from the store: %+v", got)
	}
}

// Reconnecting from the last revision seen + 1 gives no gap and no
// duplicate.
func TestWatchResumeFromLastPlusOne(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{})
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("k")})
	for i := range 10 {
		MustPut(t, s, "k", fmt.Sprint(i))
	}
	c := newCollector(t, st)
	c.until("some events", func() bool { return c.lastRev(0) >= 5 })
	last := c.lastRev(0)
	first := c.events(0)
	st.Close()
	for i := range 10 {
		MustPut(t, s, "k", fmt.Sprint(10+i))
	}
	st2 := mustStream(t, h)
	st2.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: last + 1})
	c2 := newCollector(t, st2)
	c2.until("everything", func() bool { return c2.lastRev(0) == s.Rev() })
	all := append(first, c2.events(0)...)
	for i, ev := range all {
		if ev.Kv.ModRevision != int64(2+i) {
			t.Fatalf("event %d at revision %d: gap or duplicate at the reconnect after %d", i, ev.Kv.ModRevision, last)
		}
	}
}

// The checker: under concurrent writers, watchers of every kind (live,
// historical, ranges, filters, prev_kv, slow, created mid-way) each receive
// exactly the events that the store's history says touched their range.
func TestWatchCheckerConcurrentWriters(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{MaxPendingBytes: 2048, RecentBytes: 16 << 10, MaxResponseBytes: 4096})
	var applyMu sync.Mutex // one batch at a time, as the server's applier
	keys := []string{"a/1", "a/2", "a/3", "a/4", "b/1", "b/2", "c", "d/x/1", "d/x/2"}
	write := func(rng *rand.Rand) {
		applyMu.Lock()
		defer applyMu.Unlock()
		b := s.Begin()
		for range 1 + rng.IntN(3) { // 1-3 requests per batch: several revisions per commit
			k := keys[rng.IntN(len(keys))]
			var err error
			switch rng.IntN(6) {
			case 0:
				p := k[:strings.IndexByte(k+"/", '/')]
				_, err = b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte(p), RangeEnd: []byte(prefixEnd(p))})
			case 1:
				k2 := keys[rng.IntN(len(keys))]
				if k2 == k {
					break
				}
				_, err = b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
					{Put: &cairn.PutRequest{Key: []byte(k), Value: []byte("t")}},
					{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte(k2)}},
				}})
			default:
				_, err = b.Put(&cairn.PutRequest{Key: []byte(k), Value: []byte(strings.Repeat("v", rng.IntN(40)))})
			}
			if err != nil {
				t.Error(err)
			}
		}
		if err := b.Commit(s.ConsistentIndex() + 1); err != nil {
			t.Error(err)
		}
	}
	for i := range 20 { // some history before the first watcher
		write(rand.New(rand.NewPCG(0, uint64(i))))
	}

	type watch struct {
		spec    watchSpec
		req     cairn.WatchCreateRequest
		st      *WatchStream
		c       *collector
		slow    bool
		created int64 // header revision of the created response
	}
	var (
		mu      sync.Mutex
		watches []*watch
	)
	newWatch := func(spec watchSpec, slow bool) *watch {
		w := &watch{spec: spec, slow: slow, st: mustStream(t, h)}
		w.req = cairn.WatchCreateRequest{Key: []byte(spec.key), RangeEnd: []byte(spec.end), StartRevision: spec.start, PrevKV: spec.prevKV}
		if spec.noPut {
			w.req.Filters = append(w.req.Filters, cairn.FilterNoPut)
		}
		if spec.noDel {
			w.req.Filters = append(w.req.Filters, cairn.FilterNoDelete)
		}
		w.c = newCollector(t, w.st)
		w.st.Create(&w.req)
		w.c.until("created", func() bool { return len(w.c.byID[0]) > 0 })
		w.created = w.c.byID[0][0].Header.Revision
		if w.spec.start == 0 {
			w.spec.start = w.created + 1
		}
		mu.Lock()
		watches = append(watches, w)
		mu.Unlock()
		return w
	}
	specs := []watchSpec{
		{key: "a/", end: "a0"},
		{key: "a/", end: "a0", prevKV: true},
		{key: "a/2"},
		{key: "b/", end: "\x00", prevKV: true},
		{key: "", end: "\x00"},
		{key: "d/", end: "d0", noPut: true, prevKV: true},
		{key: "a/", end: "a0", noDel: true},
		{key: "c", start: 3, prevKV: true},
		{key: "", end: "\x00", start: 10},
	}
	for i, sp := range specs {
		newWatch(sp, i%3 == 0)
	}

	var wg sync.WaitGroup
	for wi := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(1, uint64(wi)))
			for range 150 {
				write(rng)
			}
		}()
	}
	// Watchers created while the writers run: live ones, and historical
	// ones starting a few revisions back.
	for i := range 6 {
		sp := specs[i%len(specs)]
		sp.start = 0
		if i%2 == 1 {
			sp.start = max(s.Rev()-5, 2)
		}
		newWatch(sp, i%3 == 2)
	}
	// Fast consumers read while the writers write; slow ones only after.
	var rg sync.WaitGroup
	stop := make(chan struct{})
	for _, w := range watches {
		if w.slow {
			continue
		}
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					select {
					case <-stop:
					case <-ctx.Done():
					}
					cancel()
				}()
				rs, err := w.st.Next(ctx, nil)
				cancel()
				if err != nil {
					return
				}
				for _, r := range rs {
					if r.WatchID == -1 {
						w.c.other = append(w.c.other, r)
					} else {
						w.c.byID[r.WatchID] = append(w.c.byID[r.WatchID], r)
					}
				}
			}
		}()
	}
	wg.Wait()
	// A last batch that every watcher sees whenever it was created (the
	// writers may be done before the last watchers are): a put and then a
	// delete of every key.
	MustApply(t, s, func(b *Batch) {
		for _, k := range keys {
			if _, err := b.Put(&cairn.PutRequest{Key: []byte(k), Value: []byte("last")}); err != nil {
				t.Error(err)
			}
		}
		for _, k := range keys {
			if _, err := b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte(k)}); err != nil {
				t.Error(err)
			}
		}
	})
	close(stop)
	rg.Wait()
	final := s.Rev()
	for _, w := range watches {
		w.st.RequestProgress()
		w.c.until("progress", func() bool {
			return len(w.c.other) > 0 && w.c.other[len(w.c.other)-1].Header.Revision >= final
		})
		got := receivedEvents(t, w.c.byID[0], w.spec.prevKV)
		want := expectedEvents(t, s, w.spec, final)
		if d := diffEvents(got, want); d != "" {
			t.Errorf("watcher %+v (slow %v): %s", w.spec, w.slow, d)
		}
		if len(want) == 0 {
			t.Errorf("watcher %+v: nothing to check", w.spec)
		}
	}
	st := h.Stats()
	if st.SlowWatchers == 0 || st.StoreReads == 0 || st.RecentReads == 0 {
		t.Errorf("the run did not exercise every path: %+v", st)
	}
	t.Logf("revisions %d, stats %+v", final, st)
}

// The two ways of reading history (through the key index for a narrow
// range, by scanning the revisions for a wide one) give what the store's
// history says, over records in bbolt and in the overlay alike.
func TestWatchHistoryIndexAndScan(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{RecentBytes: 1})
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 1200 { // many keys: a watcher of all of them is read by a scan
		MustPut(t, s, fmt.Sprintf("w/%04d", i), "x")
	}
	for i := range 300 {
		k := fmt.Sprintf("w/%04d", rng.IntN(40))
		if rng.IntN(4) == 0 {
			MustDelete(t, s, k, "")
		} else {
			MustPut(t, s, k, fmt.Sprint(i))
		}
		if i == 150 {
			if err := s.Flush(); err != nil { // half in bbolt, half in the overlay
				t.Fatal(err)
			}
		}
	}
	final := s.Rev()
	for _, sp := range []watchSpec{
		{key: "w/", end: "w0", start: final - 200, prevKV: true}, // scan
		{key: "", end: "\x00", start: final - 50},                // scan
		{key: "w/0001", end: "w/0010", start: final - 250, prevKV: true},
		{key: "w/0003", start: 2, prevKV: true},
	} {
		st := mustStream(t, h)
		st.Create(&cairn.WatchCreateRequest{Key: []byte(sp.key), RangeEnd: []byte(sp.end), StartRevision: sp.start, PrevKV: sp.prevKV})
		c := newCollector(t, st)
		st.RequestProgress()
		c.until("caught up", func() bool { return len(c.other) > 0 })
		if d := diffEvents(receivedEvents(t, c.byID[0], sp.prevKV), expectedEvents(t, s, sp, final)); d != "" {
			t.Errorf("%+v: %s", sp, d)
		}
	}
}

// An event whose previous version is compacted goes without prev_kv, as
// etcd sends it, whether the hub serves it from memory or from the store.
func TestWatchPrevKVBelowCompaction(t *testing.T) {
	for _, recent := range []int{1, 1 << 20} {
		s, h := mustWatched(t, WatchOptions{RecentBytes: recent})
		for i := range 3 {
			MustPut(t, s, "k", fmt.Sprint(i)) // 2, 3, 4
		}
		MustCompact(t, s, 3)
		st := mustStream(t, h)
		st.Create(&cairn.WatchCreateRequest{Key: []byte("k"), StartRevision: 3, PrevKV: true})
		c := newCollector(t, st)
		c.until("caught up", func() bool { return c.lastRev(0) == 4 })
		got := receivedEvents(t, c.byID[0], true)
		want := []string{"PUT k=1 c2 m3 v2 l0 prev=<nil>", "PUT k=2 c2 m4 v3 l0 prev=k=1 c2 m3 v2 l0"}
		if d := diffEvents(got, want); d != "" {
			t.Errorf("recent bytes %d: %s", recent, d)
		}
	}
}

// What one Next returns is bounded (about MaxResponseBytes of events, at
// least one watcher's) however many watchers share the stream; the others
// follow in the next calls, and every watcher gets everything.
func TestWatchNextIsBounded(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{MaxResponseBytes: 4096})
	st := mustStream(t, h)
	const watchers, puts = 50, 10
	for range watchers {
		st.Create(&cairn.WatchCreateRequest{Key: []byte("k")})
	}
	c := newCollector(t, st)
	c.until("created", func() bool { return len(c.byID) == watchers })
	for i := range puts {
		MustPut(t, s, "k", strings.Repeat("v", 100+i)) // ~1.3 KB per watcher in all
	}
	calls := 0
	for done := 0; done < watchers; {
		rs := next(t, st)
		calls++
		size, perWatcher := 0, map[int64]int{}
		for _, r := range rs {
			for _, ev := range r.Events {
				n := embeddedSize(eventSize(&ev.Event))
				size += n
				perWatcher[r.WatchID] += n
			}
			c.byID[r.WatchID] = append(c.byID[r.WatchID], r)
		}
		largest := 0
		for _, n := range perWatcher {
			largest = max(largest, n)
		}
		if size > 4096+largest {
			t.Fatalf("one Next returned %d bytes of events, over the 4096 bound plus one watcher's %d", size, largest)
		}
		done = 0
		for id := range int64(watchers) {
			if c.lastRev(id) == puts+1 {
				done++
			}
		}
	}
	if calls < 10 {
		t.Fatalf("%d calls for %d watchers' 1.3 KB each under a 4 KB bound", calls, watchers)
	}
	for id := range int64(watchers) {
		if evs := c.events(id); len(evs) != puts {
			t.Fatalf("watcher %d: %d events", id, len(evs))
		}
	}
}

// A watcher whose catch-up ends with a chunk of history its filters drop
// entirely (nothing to send) still lets a pending progress request through:
// it was lost until the next write or progress tick.
func TestWatchProgressAfterFilteredCatchUp(t *testing.T) {
	s, h := mustWatched(t, WatchOptions{RecentBytes: 1, MaxResponseBytes: 1})
	for range 3 {
		MustPut(t, s, "a", "v")
	}
	st := mustStream(t, h)
	st.Create(&cairn.WatchCreateRequest{Key: []byte("a"), StartRevision: 2, Filters: []cairn.WatchFilter{cairn.FilterNoPut}})
	st.RequestProgress()
	c := newCollector(t, st)
	c.until("progress", func() bool { return len(c.other) > 0 })
	if got := c.other[0].Header.Revision; got != s.Rev() {
		t.Fatalf("progress at %d, want %d", got, s.Rev())
	}
	if evs := c.events(0); len(evs) != 0 {
		t.Fatalf("a NoPut watcher got %d events of puts", len(evs))
	}
}
