package store

import (
	"fmt"
	"testing"

	"github.com/cairnkv/cairn"
)

// Benchmarks. Commit does not wait for bbolt: the flusher writes in the
// background, one fsynced transaction per FlushInterval or per 10000
// records. Each write benchmark ends with a Flush inside the timing, so the
// figures include the cost of getting everything to disk (on a machine with
// one core to spare, the flusher runs beside the loop).

const benchValueSize = 128

func benchKey(i int) []byte { return []byte(fmt.Sprintf("key/%08d", i)) }

func benchValue() []byte {
	v := make([]byte, benchValueSize)
	for i := range v {
		v[i] = byte('a' + i%26)
	}
	return v
}

func BenchmarkPut(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := MustNew(b)
			val := benchValue()
			b.SetBytes(benchValueSize)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				bt := s.Begin()
				for j := 0; j < size && i < b.N; j, i = j+1, i+1 {
					if _, err := bt.Put(&cairn.PutRequest{Key: benchKey(i % 10000), Value: val}); err != nil {
						b.Fatal(err)
					}
				}
				if err := bt.Commit(uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// loadRangeStore writes 10000 keys key/00000000.. in batches of 1000.
func loadRangeStore(b *testing.B) *Store {
	return loadStore(b, 10000, benchKey, benchValue())
}

// loadStore writes n revisions in batches of 1000, revision i (from 0) to
// keyOf(i), each with val, and flushes them.
func loadStore(b *testing.B, n int, keyOf func(i int) []byte, val []byte) *Store {
	s := MustNew(b)
	for i := 0; i < n; {
		bt := s.Begin()
		for j := 0; j < 1000 && i < n; j, i = j+1, i+1 {
			if _, err := bt.Put(&cairn.PutRequest{Key: keyOf(i), Value: val}); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.Commit(uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkRange(b *testing.B) {
	s := loadRangeStore(b)
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			resp, err := s.Range(&cairn.RangeRequest{Key: benchKey(i * 7919 % 10000)})
			if err != nil || len(resp.Kvs) != 1 {
				b.Fatal(resp, err)
			}
		}
	})
	b.Run("single-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				resp, err := s.Range(&cairn.RangeRequest{Key: benchKey(i * 7919 % 10000)})
				if err != nil || len(resp.Kvs) != 1 {
					b.Fatal(resp, err)
				}
			}
		})
	})
	b.Run("prefix100", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			// key/000NN000 .. key/000NN099 ... as a prefix: key/0000NN
			p := fmt.Sprintf("key/0000%02d", i%100)
			end := []byte(p)
			end[len(end)-1]++
			resp, err := s.Range(&cairn.RangeRequest{Key: []byte(p), RangeEnd: end})
			if err != nil || len(resp.Kvs) != 100 {
				b.Fatal(len(resp.Kvs), err)
			}
		}
	})
}

// BenchmarkTxn runs etcd's compare-and-swap shape: if the key's version is
// what we read, put it, else read it.
func BenchmarkTxn(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := loadRangeStore(b)
			val := benchValue()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				bt := s.Begin()
				for j := 0; j < size && i < b.N; j, i = j+1, i+1 {
					key := benchKey(i % 10000)
					resp, err := bt.Txn(&cairn.TxnRequest{
						Compare: []cairn.Compare{{Key: key, Target: cairn.CompareMod, Result: cairn.CompareGreater, ModRevision: 0}},
						Success: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: key, Value: val}}},
						Failure: []cairn.RequestOp{{Range: &cairn.RangeRequest{Key: key}}},
					})
					if err != nil || !resp.Succeeded {
						b.Fatal(resp, err)
					}
				}
				if err := bt.Commit(uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// historyRevisions is the size of the history BenchmarkHistory reads from.
const historyRevisions = 1_000_000

// loadHistoryStore writes historyRevisions revisions of 16-byte values, in
// batches of 1000: every tenth to the key "hot" (100,000 revisions), the
// others round-robin to 9,000 keys key/00000000.. (about 100 revisions
// each).
func loadHistoryStore(b *testing.B) *Store {
	return loadStore(b, historyRevisions, func(i int) []byte {
		if i%10 == 0 {
			return []byte("hot")
		}
		return benchKey(i % 9000)
	}, benchValue()[:16])
}

// BenchmarkHistory reads key histories from a store of 1M revisions
// through the key index (Store.History): a key's newest 10 changes, the
// newest and a deep page of 100 of a key with 100,000 changes. The last
// case reads the same page by scanning every revision, as a history without
// the index would, for comparison.
func BenchmarkHistory(b *testing.B) {
	s := loadHistoryStore(b)
	for _, c := range []struct {
		name string
		req  cairn.HistoryRequest
		want int
	}{
		{"key of about 100 revisions, limit 10", cairn.HistoryRequest{Key: benchKey(4321), Limit: 10}, 10},
		{"key of 100000 revisions, limit 100", cairn.HistoryRequest{Key: []byte("hot"), Limit: 100}, 100},
		{"key of 100000 revisions, limit 100 at revision 10000", cairn.HistoryRequest{Key: []byte("hot"), Limit: 100, Revision: 10000}, 100},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				resp, err := s.History(&c.req)
				if err != nil || len(resp.Events) != c.want {
					b.Fatalf("History: %v, %d events", err, len(resp.Events))
				}
			}
		})
	}
	all, err := s.History(&cairn.HistoryRequest{Key: benchKey(4321)})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scan of every revision (no index), key of about 100 revisions", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got := scanKeyHistory(b, s, string(benchKey(4321)), s.Rev()); got != historyString(all.Events) {
				b.Fatalf("scan: %s", got)
			}
		}
	})
}
