package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
)

// Over the quota a write fails with "database space exceeded" and raises
// NOSPACE; then every write fails, deletes and compaction still work; after
// compaction, defragmentation and deactivation writes work again.
func TestQuotaAlarmLifecycle(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.QuotaBackendBytes = 512 << 10
	s := mustStart(t, cfg)
	ctx := context.Background()
	big := strings.Repeat("x", 4096)
	var err error
	n := 0
	for ; n < 1000; n++ {
		_, err = s.Put(ctx, &cairn.PutRequest{Key: []byte(fmt.Sprintf("k%04d", n)), Value: []byte(big)})
		if err != nil {
			break
		}
	}
	if !errors.Is(err, cairn.ErrNoSpace) {
		t.Fatalf("after %d puts: %v, want ErrNoSpace", n, err)
	}
	waitFor(t, "the NOSPACE alarm", func() bool {
		st, _ := s.Status(ctx)
		return len(st.Errors) == 1 && st.Errors[0] == fmt.Sprintf("memberID:%d alarm:NOSPACE ", s.MemberID())
	})
	alarms, err := s.Alarm(ctx, cairn.AlarmGet, cairn.AlarmMember{})
	if err != nil || len(alarms) != 1 || alarms[0].Alarm != cairn.AlarmNoSpace || alarms[0].MemberID != s.MemberID() {
		t.Fatalf("alarm list: %+v %v", alarms, err)
	}
	// Even a tiny write fails while the alarm is raised.
	if _, err := s.Put(ctx, &cairn.PutRequest{Key: []byte("tiny"), Value: []byte("v")}); !errors.Is(err, cairn.ErrNoSpace) {
		t.Fatalf("tiny put under the alarm: %v", err)
	}
	// Free space: delete, compact, defragment.
	del, err := s.DeleteRange(ctx, &cairn.DeleteRangeRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	if err != nil || del.Deleted != int64(n) {
		t.Fatalf("delete under the alarm: %+v %v", del, err)
	}
	if _, err := s.Compact(ctx, &cairn.CompactionRequest{Revision: del.Header.Revision, Physical: true}); err != nil {
		t.Fatalf("compaction under the alarm: %v", err)
	}
	before := s.storeSize()
	if err := s.Defragment(ctx); err != nil {
		t.Fatalf("defragment: %v", err)
	}
	after := s.storeSize()
	if after >= before || after > cfg.QuotaBackendBytes/2 {
		t.Fatalf("defragment: %d bytes before, %d after", before, after)
	}
	// Still refused until the alarm is cleared.
	if _, err := s.Put(ctx, &cairn.PutRequest{Key: []byte("tiny"), Value: []byte("v")}); !errors.Is(err, cairn.ErrNoSpace) {
		t.Fatalf("put before the deactivation: %v", err)
	}
	got, err := s.Alarm(ctx, cairn.AlarmDeactivate, cairn.AlarmMember{MemberID: s.MemberID(), Alarm: cairn.AlarmNoSpace})
	if err != nil || len(got) != 1 {
		t.Fatalf("deactivate: %+v %v", got, err)
	}
	if got, _ := s.Alarm(ctx, cairn.AlarmDeactivate, cairn.AlarmMember{MemberID: s.MemberID(), Alarm: cairn.AlarmNoSpace}); len(got) != 0 {
		t.Fatalf("a second deactivate changed %+v", got)
	}
	r := mustPut(t, s, "tiny", "v")
	if kv := mustGet(t, s, "tiny"); kv.ModRevision != r.Header.Revision {
		t.Fatalf("after the recovery: %+v", kv)
	}
	if st, _ := s.Status(ctx); len(st.Errors) != 0 {
		t.Fatalf("status errors after the deactivation: %v", st.Errors)
	}
}

// Defragmentation keeps the data, the revision and open watches.
func TestDefragmentKeepsDataAndWatches(t *testing.T) {
	s := mustStart(t, testConfig(t.TempDir()))
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		mustPut(t, s, key(i), strings.Repeat("v", 512))
	}
	w, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Create(&cairn.WatchCreateRequest{Key: []byte("after-defrag")})
	rev := s.store.Rev()
	h1, _, _ := s.Hash(ctx)
	if err := s.Defragment(ctx); err != nil {
		t.Fatal(err)
	}
	if h2, _, _ := s.Hash(ctx); h2 != h1 || s.store.Rev() != rev {
		t.Fatalf("defragmentation changed the data: hash %x -> %x, revision %d -> %d", h1, h2, rev, s.store.Rev())
	}
	mustPut(t, s, "after-defrag", "x")
	resps, err := w.Next(ctx, nil)
	for err == nil && !hasEvent(resps) {
		resps, err = w.Next(ctx, resps[:0])
	}
	if err != nil {
		t.Fatalf("the watch opened before the defragmentation: %v", err)
	}
}

func hasEvent(rs []*cairn.WatchResponse) bool {
	for _, r := range rs {
		if len(r.Events) > 0 {
			return true
		}
	}
	return false
}

// HashKV agrees on every member at the same revision, a snapshot is the
// whole store, and alarms raised on one member are seen by all.
func TestClusterHashKVSnapshotAndAlarms(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	for i := 0; i < 100; i++ {
		c.put(c.members[i%3], key(i%30), fmt.Sprint(i))
	}
	lead := c.waitLeader()
	if _, err := lead.server().Compact(context.Background(), &cairn.CompactionRequest{Revision: 50}); err != nil {
		t.Fatal(err)
	}
	rev := c.put(lead, "last", "x").Header.Revision
	var hashes []uint32
	for _, m := range c.members {
		waitFor(t, "the member to apply the last write", func() bool { return m.server().storeNow().Rev() >= rev })
		r, err := m.server().HashKV(context.Background(), rev)
		if err != nil || r.CompactRevision != 50 {
			t.Fatalf("%s: %+v %v", m.name, r, err)
		}
		hashes = append(hashes, r.Hash)
	}
	if hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Fatalf("hashkv differs between members: %x", hashes)
	}
	sn, err := c.members[1].server().Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := sn.WriteTo(&buf); err != nil || n != sn.Size() || n == 0 {
		t.Fatalf("snapshot: %d of %d bytes: %v", n, sn.Size(), err)
	}
	sn.Close()
	id := c.members[2].server().MemberID()
	if _, err := c.members[0].server().Alarm(context.Background(), cairn.AlarmActivate, cairn.AlarmMember{MemberID: id, Alarm: cairn.AlarmNoSpace}); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.members {
		waitFor(t, "the alarm everywhere", func() bool { return m.server().cluster.NoSpace() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	if _, err := c.members[1].server().Put(ctx, &cairn.PutRequest{Key: []byte("k"), Value: []byte("v")}); !errors.Is(err, cairn.ErrNoSpace) {
		t.Fatalf("put on another member under NOSPACE: %v", err)
	}
}
