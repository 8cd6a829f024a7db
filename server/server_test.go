package server

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/cairnkv/cairn"
)

func TestPutThenReadBothConsistencies(t *testing.T) {
	s := mustStart(t, testConfig(t.TempDir()))
	put := mustPut(t, s, "foo", "bar")
	if put.Header.Revision != 2 {
		t.Fatalf("first put on a new member: revision %d, want 2", put.Header.Revision)
	}
	h := put.Header
	if h.ClusterID == 0 || h.MemberID != s.MemberID() || h.ClusterID != s.ClusterID() || h.RaftTerm == 0 {
		t.Fatalf("incomplete header %+v", h)
	}
	for _, serializable := range []bool{false, true} {
		resp, err := s.Range(context.Background(), &cairn.RangeRequest{Key: []byte("foo"), Serializable: serializable})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "bar" || resp.Kvs[0].ModRevision != 2 {
			t.Fatalf("serializable=%v: got %+v", serializable, resp.Kvs)
		}
		if resp.Header.Revision != 2 || resp.Header.MemberID != s.MemberID() {
			t.Fatalf("serializable=%v: header %+v", serializable, resp.Header)
		}
	}
}

func TestRestartKeepsDataRevisionAndIdentity(t *testing.T) {
	dir := t.TempDir()
	s := mustStart(t, testConfig(dir))
	for i := 0; i < 20; i++ {
		mustPut(t, s, key(i), "v")
	}
	member, cluster := s.MemberID(), s.ClusterID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustStart(t, testConfig(dir))
	if s.MemberID() != member || s.ClusterID() != cluster {
		t.Fatalf("identity changed across restart: %x/%x -> %x/%x", member, cluster, s.MemberID(), s.ClusterID())
	}
	if kv := mustGet(t, s, key(19)); kv.ModRevision != 21 {
		t.Fatalf("mod_revision after restart %d, want 21", kv.ModRevision)
	}
	if r := mustPut(t, s, "after", "x"); r.Header.Revision != 22 {
		t.Fatalf("first revision after restart %d, want 22", r.Header.Revision)
	}
}

// Concurrent writers each get a distinct revision, every revision from 2 up
// is used once, and every write is readable afterwards.
func TestConcurrentWritesGetDistinctRevisions(t *testing.T) {
	s := mustStart(t, testConfig(t.TempDir()))
	const writers, each = 32, 40
	revs := make(chan int64, writers*each)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte(key(w*each + i)), Value: []byte("v")})
				if err != nil {
					t.Error(err)
					return
				}
				revs <- r.Header.Revision
			}
		}(w)
	}
	wg.Wait()
	close(revs)
	seen := map[int64]bool{}
	for r := range revs {
		if seen[r] {
			t.Fatalf("revision %d acknowledged twice", r)
		}
		seen[r] = true
	}
	for r := int64(2); r < 2+writers*each; r++ {
		if !seen[r] {
			t.Fatalf("revision %d missing", r)
		}
	}
	resp, err := s.Range(context.Background(), &cairn.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l"), CountOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != writers*each {
		t.Fatalf("count %d, want %d", resp.Count, writers*each)
	}
}

// A linearizable read that starts after a write was acknowledged sees it,
// even while other writes and reads are in flight.
func TestLinearizableReadSeesAcknowledgedWrites(t *testing.T) {
	s := mustStart(t, testConfig(t.TempDir()))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			k := key(w)
			for i := 0; i < 50; i++ {
				put, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte(k), Value: []byte{byte(i)}})
				if err != nil {
					t.Error(err)
					return
				}
				got, err := s.Range(context.Background(), &cairn.RangeRequest{Key: []byte(k)})
				if err != nil {
					t.Error(err)
					return
				}
				if got.Header.Revision < put.Header.Revision || len(got.Kvs) != 1 || got.Kvs[0].ModRevision != put.Header.Revision {
					t.Errorf("read after write at %d saw header %d kvs %+v", put.Header.Revision, got.Header.Revision, got.Kvs)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}

func TestRejectedRequestsChangeNothing(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.MaxRequestBytes = 1024
	s := mustStart(t, cfg)
	mustPut(t, s, "a", "1")
	ctx := context.Background()
	cases := []struct {
		name string
		do   func() error
		want error
	}{
		{"empty key", func() error {
			_, err := s.Put(ctx, &cairn.PutRequest{Value: []byte("x")})
			return err
		}, cairn.ErrEmptyKey},
		{"too large", func() error {
			_, err := s.Put(ctx, &cairn.PutRequest{Key: []byte("big"), Value: make([]byte, maxEntryBytes(1024))})
			return err
		}, cairn.ErrRequestTooLarge},
		{"duplicate key in txn", func() error {
			put := cairn.RequestOp{Put: &cairn.PutRequest{Key: []byte("d"), Value: []byte("x")}}
			_, err := s.Txn(ctx, &cairn.TxnRequest{Success: []cairn.RequestOp{put, put}})
			return err
		}, cairn.ErrDuplicateKey},
		{"compaction at a future revision", func() error {
			_, err := s.Compact(ctx, &cairn.CompactionRequest{Revision: 100})
			return err
		}, cairn.ErrFutureRev},
		{"range at a future revision", func() error {
			_, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte("a"), Revision: 100})
			return err
		}, cairn.ErrFutureRev},
		{"ignore_value on a missing key", func() error {
			_, err := s.Put(ctx, &cairn.PutRequest{Key: []byte("missing"), IgnoreValue: true})
			return err
		}, cairn.ErrKeyNotFound},
		{"lease that does not exist", func() error {
			_, err := s.Put(ctx, &cairn.PutRequest{Key: []byte("l"), Value: []byte("x"), Lease: 42})
			return err
		}, cairn.ErrLeaseNotFound},
	}
	for _, c := range cases {
		if err := c.do(); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	resp, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Revision != 2 || resp.Count != 1 {
		t.Fatalf("after rejected requests: revision %d, %d keys; want revision 2, 1 key", resp.Header.Revision, resp.Count)
	}
}

func TestCompactionThenReadOldRevision(t *testing.T) {
	s := mustStart(t, testConfig(t.TempDir()))
	for i := 0; i < 5; i++ {
		mustPut(t, s, "k", string(rune('a'+i)))
	}
	ctx := context.Background()
	if _, err := s.Compact(ctx, &cairn.CompactionRequest{Revision: 4, Physical: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte("k"), Revision: 3}); !errors.Is(err, cairn.ErrCompacted) {
		t.Fatalf("range below the compaction: %v, want ErrCompacted", err)
	}
	resp, err := s.Range(ctx, &cairn.RangeRequest{Key: []byte("k"), Revision: 4})
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "c" {
		t.Fatalf("range at the compaction: %+v %v", resp, err)
	}
	if _, err := s.Compact(ctx, &cairn.CompactionRequest{Revision: 4}); !errors.Is(err, cairn.ErrCompacted) {
		t.Fatalf("compacting again at 4: %v, want ErrCompacted", err)
	}
}

func TestStoppedMemberRefusesRequests(t *testing.T) {
	s := mustStart(t, testConfig(t.TempDir()))
	mustPut(t, s, "a", "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte("b"), Value: []byte("2")}); !errors.Is(err, cairn.ErrStopped) {
		t.Fatalf("put after Close: %v, want ErrStopped", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestQuotaRefusesWritesButNotCompaction(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.QuotaBackendBytes = 1 // any write would exceed it
	s := mustStart(t, cfg)
	_, err := s.Put(context.Background(), &cairn.PutRequest{Key: []byte("a"), Value: []byte("1")})
	if !errors.Is(err, cairn.ErrNoSpace) {
		t.Fatalf("put over quota: %v, want ErrNoSpace", err)
	}
	if rev := s.store.Rev(); rev != 1 {
		t.Fatalf("revision %d after a refused write, want 1", rev)
	}
}

// With a small snapshot count the member takes raft snapshots, drops old
// log entries, and restarts from snapshot + log with everything intact.
func TestSnapshotsCompactTheLogAndRestartWorks(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.SnapshotCount = 50
	cfg.SnapshotCatchUpEntries = 10
	s := mustStart(t, cfg)
	for i := 0; i < 300; i++ {
		mustPut(t, s, key(i), "v")
	}
	first, err := s.wal.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	if first < 100 {
		t.Fatalf("raft log still starts at %d after 300 entries with --snapshot-count 50", first)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustStart(t, cfg)
	for _, i := range []int{0, 150, 299} {
		if kv := mustGet(t, s, key(i)); kv.ModRevision != int64(i+2) {
			t.Fatalf("%s mod_revision %d, want %d", key(i), kv.ModRevision, i+2)
		}
	}
	mustPut(t, s, "after", "x")
}
