package raftlog

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// A power loss keeps what an fdatasync made durable and, of what was
// written after the last one, any set of sectors: a sector that never
// reached the disk reads as it last did, the bytes up to some earlier write
// and zeroes after them. These tests damage real files that way.

// unsyncedLog is a WAL whose tail is a run of commit-only HardStates, each
// written without an fdatasync after a synced Save.
type unsyncedLog struct {
	dir, path string
	ents      []raftpb.Entry
	hsAt      map[int64]raftpb.HardState // each HardState record by offset
	synced    int64                      // the end of the last synced write
	run       []frameInfo                // the unsynced records
}

// writeUnsyncedLog writes one Save of run+1 entries and HardState {1, 1,
// 0}, then run commit-only Saves (commit 1, 2, ..., run), and closes the
// log. The unsynced run starts at an offset that is startMod modulo 512:
// the size of the last entry is chosen for it with a first, throwaway log.
func writeUnsyncedLog(t *testing.T, startMod int64, run int) *unsyncedLog {
	t.Helper()
	write := func(dir string, last int) *unsyncedLog {
		opts, _ := testOptions(recoverySegBytes)
		l := mustCreate(t, dir, []byte("md"), opts)
		u := &unsyncedLog{dir: dir, hsAt: map[int64]raftpb.HardState{}}
		u.ents = append(makeEntries(1, uint64(run), 1, 20), makeEntries(uint64(run+1), uint64(run+1), 1, last)...)
		mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1}, u.ents)
		u.synced = l.off
		for c := 1; c <= run; c++ {
			hs := raftpb.HardState{Term: 1, Vote: 1, Commit: uint64(c)}
			u.hsAt[l.off] = hs
			mustSave(t, l, hs, nil)
		}
		mustClose(t, l)
		return u
	}
	// Within 1000..1511 bytes a longer entry takes exactly as many more
	// bytes on disk (same varint lengths, same padding when a multiple of 8).
	const probe = 1000
	p := write(t.TempDir(), probe)
	u := write(t.TempDir(), probe+int(((startMod-p.synced)%sectorSize+sectorSize)%sectorSize))
	if u.synced%sectorSize != startMod {
		t.Fatalf("unsynced run starts at %d, want %d modulo %d", u.synced, startMod, sectorSize)
	}
	u.path = lastSegment(t, u.dir)
	for _, f := range framesOf(t, u.path) {
		if f.off >= u.synced {
			u.run = append(u.run, f)
		}
	}
	if len(u.run) != run {
		t.Fatalf("%d records after the synced write, want %d", len(u.run), run)
	}
	return u
}

// loseSector makes the sector at s read as it did when the file held only
// the bytes before from: zeroes from max(s, from) to the end of the sector.
func loseSector(t *testing.T, path string, s, from int64) {
	t.Helper()
	if s%sectorSize != 0 {
		t.Fatalf("%d is not a sector boundary", s)
	}
	lo := max(s, from)
	patchFile(t, path, lo, make([]byte, s+sectorSize-lo))
}

// firstAt returns the index in u.run of the first record that ends after off.
func (u *unsyncedLog) firstAt(t *testing.T, off int64) int {
	t.Helper()
	for i, f := range u.run {
		if f.off+f.size > off {
			return i
		}
	}
	t.Fatalf("no unsynced record ends after %d", off)
	return -1
}

// boundaryAfter returns the first sector boundary at or after off at which
// an unsynced record starts, with at least min records after it.
func (u *unsyncedLog) boundaryAfter(t *testing.T, off int64, min int) int {
	t.Helper()
	for i, f := range u.run {
		if f.off >= off && f.off%sectorSize == 0 && len(u.run)-i > min {
			return i
		}
	}
	t.Fatalf("no unsynced record starts on a sector boundary after %d", off)
	return -1
}

// checkCut opens the damaged log and checks that it starts with every entry
// and the HardState written just before the record at cut, that it says so
// in a warning, and that it goes on: a later commit-only HardState (written
// where the cut was) survives a reopen.
func (u *unsyncedLog) checkCut(t *testing.T, cut int64) {
	t.Helper()
	want := raftpb.HardState{Term: 1, Vote: 1}
	for off, hs := range u.hsAt {
		if off < cut && hs.Commit > want.Commit {
			want = hs
		}
	}
	opts, lb := testOptions(recoverySegBytes)
	l := mustOpen(t, u.dir, opts)
	checkEntries(t, l, u.ents)
	checkHardState(t, l, want)
	if logged := lb.String(); !strings.Contains(logged, "torn write") || !strings.Contains(logged, fmt.Sprintf("offset=%d", cut)) {
		t.Fatalf("no warning of a torn write cut at %d; log:\n%s", cut, logged)
	}
	next := raftpb.HardState{Term: 1, Vote: 1, Commit: uint64(len(u.ents))}
	mustSave(t, l, next, nil)
	mustClose(t, l)
	opts, lb = testOptions(recoverySegBytes)
	l = mustOpen(t, u.dir, opts)
	checkEntries(t, l, u.ents)
	checkHardState(t, l, next)
	if strings.Contains(lb.String(), "level=WARN") {
		t.Fatalf("second reopen warned:\n%s", lb)
	}
}

// Unsynced records lost while later unsynced records reached the disk: the
// log is cut where the loss begins, and opens.
func TestLostUnsyncedRecords(t *testing.T) {
	for _, tc := range []struct {
		name     string
		startMod int64
		// damage loses sectors and returns where the log must be cut.
		damage func(t *testing.T, u *unsyncedLog) (cut int64)
	}{
		{"lost first, kept later", 0, func(t *testing.T, u *unsyncedLog) int64 {
			// Two records back to back across a sector boundary; the
			// sector of the first never reached the disk after it was
			// written, the sector of the second did.
			b := u.boundaryAfter(t, u.synced+1, 2)
			first := u.run[b-1]
			loseSector(t, u.path, u.run[b].off-sectorSize, first.off)
			return first.off
		}},
		{"torn record across a sector, second part lost", sectorSize - 16, func(t *testing.T, u *unsyncedLog) int64 {
			// The first unsynced record straddles a sector boundary.
			torn := u.run[0]
			s := torn.off + 16
			loseSector(t, u.path, s, u.synced)
			return torn.off
		}},
		{"torn record across a sector, first part lost", sectorSize - 16, func(t *testing.T, u *unsyncedLog) int64 {
			torn := u.run[0]
			loseSector(t, u.path, torn.off+16-sectorSize, u.synced)
			return torn.off
		}},
		{"a lost sector in the middle of a long unsynced run", 200, func(t *testing.T, u *unsyncedLog) int64 {
			s := (u.synced/sectorSize + 4) * sectorSize
			loseSector(t, u.path, s, u.synced)
			return u.run[u.firstAt(t, s)].off
		}},
		{"sectors lost here and there", 200, func(t *testing.T, u *unsyncedLog) int64 {
			s := (u.synced/sectorSize + 2) * sectorSize
			for _, k := range []int64{0, 1, 3, 6} {
				loseSector(t, u.path, s+k*sectorSize, u.synced)
			}
			return u.run[u.firstAt(t, s)].off
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := writeUnsyncedLog(t, tc.startMod, 300)
			cut := tc.damage(t, u)
			u.checkCut(t, cut)
		})
	}
}

// Damage to what an fdatasync made durable is refused, also when only
// unsynced records follow it.
func TestSyncedDamageWithUnsyncedRecordsAfter(t *testing.T) {
	t.Run("entry of the synced write, unsynced records after", func(t *testing.T) {
		u := writeUnsyncedLog(t, 0, 40)
		frames := framesOf(t, u.path)
		victim := lastOfType(t, frames[:len(frames)-len(u.run)], typeEntry)
		flipByte(t, u.path, victim.off+victim.size-12)
		wantCorrupt(t, u.dir, u.path, victim.off, "later write")
	})
	t.Run("zeroed sector of the synced write, unsynced records after", func(t *testing.T) {
		u := writeUnsyncedLog(t, 0, 40)
		frames := framesOf(t, u.path)
		s := u.synced - sectorSize
		loseSector(t, u.path, s, s)
		var victim frameInfo // the first record the lost sector reaches
		for _, f := range frames {
			if f.off+f.size > s {
				victim = f
				break
			}
		}
		wantCorrupt(t, u.dir, u.path, victim.off, "later write")
	})
	t.Run("unsynced records that a later fdatasync made durable", func(t *testing.T) {
		// A commit-only HardState is not fsynced when written, but the
		// fdatasync of the next Save with entries covers it.
		u := writeUnsyncedLog(t, 0, 100)
		opts, _ := testOptions(recoverySegBytes)
		l := mustOpen(t, u.dir, opts)
		more := makeEntries(uint64(len(u.ents)+1), uint64(len(u.ents)+1), 1, 10)
		mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 100}, more)
		mustSave(t, l, raftpb.HardState{Term: 1, Vote: 1, Commit: 102}, nil)
		mustClose(t, l)
		b := u.boundaryAfter(t, u.synced+1, 2)
		loseSector(t, u.path, u.run[b].off-sectorSize, u.run[b-1].off)
		wantCorrupt(t, u.dir, u.path, u.run[b-1].off, "later write")
	})
	t.Run("unsynced record damaged without looking unwritten", func(t *testing.T) {
		// A flipped bit is not what a power loss leaves: whole unsynced
		// records follow, but the bytes were not lost, they were changed.
		u := writeUnsyncedLog(t, 0, 40)
		victim := u.run[10]
		flipByte(t, u.path, victim.off+headerSize+2)
		wantCorrupt(t, u.dir, u.path, victim.off, "do not look unwritten")
	})
}

// Random histories of synced and unsynced Saves, then a power loss that
// keeps everything up to the last fdatasync and a random set of the sectors
// written after it, each as it was when some of the unsynced writes had
// reached it: Open always starts, with every entry and the HardState of the
// last unsynced write before the first damaged byte.
func TestPowerLossAfterUnsyncedWrites(t *testing.T) {
	holes := 0 // histories where whole records followed the first loss
	defer func() {
		if !t.Failed() && holes < 20 {
			t.Errorf("only %d of the histories lost a sector with whole records after it", holes)
		}
	}()
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			dir := t.TempDir()
			opts, _ := testOptions(recoverySegBytes)
			l := mustCreate(t, dir, []byte("md"), opts)
			var ents []raftpb.Entry
			hs := raftpb.HardState{Term: 1, Vote: 1}
			var synced int64              // end of the last synced write
			var syncedHS raftpb.HardState // the HardState durable at synced
			var starts []int64            // the unsynced writes after synced
			hsAt := map[int64]raftpb.HardState{}
			// A random history, then a long run of commit-only Saves after
			// a synced one of many entries, as a follower catching up has.
			steps := 50 + rng.IntN(200)
			for step := range steps + 100 {
				last := uint64(len(ents))
				switch op := rng.IntN(10); {
				case step == steps:
					e := makeEntries(last+1, last+200, hs.Term, rng.IntN(50))
					ents = append(ents, e...)
					mustSave(t, l, hs, e)
				case step < steps && (op < 3 || hs.Commit == last): // entries: synced
					e := makeEntries(last+1, last+1+uint64(rng.IntN(4)), hs.Term, rng.IntN(300))
					ents = append(ents, e...)
					mustSave(t, l, hs, e)
				case step < steps && op < 4: // a new term: synced
					hs = raftpb.HardState{Term: hs.Term + 1, Commit: hs.Commit}
					mustSave(t, l, hs, nil)
				default: // the commit index only: not synced
					hs.Commit += 1 + uint64(rng.IntN(int(min(last-hs.Commit, 2))))
					starts = append(starts, l.off)
					hsAt[l.off] = hs
					mustSave(t, l, hs, nil)
					continue
				}
				synced, syncedHS, starts = l.off, hs, nil
			}
			mustClose(t, l)
			path := lastSegment(t, dir)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			end := l.off
			for s := synced - synced%sectorSize; s < end; s += sectorSize {
				if rng.IntN(3) > 0 {
					continue
				}
				from := synced
				if i := rng.IntN(len(starts) + 1); i > 0 && starts[i-1] < s+sectorSize {
					from = starts[i-1]
				}
				loseSector(t, path, s, from)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := hs
			for i := synced; i < end; i++ {
				if before[i] != after[i] {
					// Byte i is in the first damaged write; the writes
					// that end before it stay.
					want = syncedHS
					for k, st := range starts {
						if k+1 < len(starts) && starts[k+1] <= i {
							want = hsAt[st]
						}
					}
					break
				}
			}
			opts, lb := testOptions(recoverySegBytes)
			l = mustOpen(t, dir, opts)
			checkEntries(t, l, ents)
			checkHardState(t, l, want)
			if strings.Contains(lb.String(), "torn write") && !strings.Contains(lb.String(), "complete_records_dropped=0") {
				holes++
			}
		})
	}
}
