package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// This file owns the scan of watch responses: each event line is turned
// into a watcher's count, order check and latencies.

// Byte patterns of the gateway's watch lines.
var (
	patWatchID  = []byte(`"watch_id":"`)
	patEvents   = []byte(`"events":[`)
	patModRev   = []byte(`"mod_revision":"`)
	patValue    = []byte(`"value":"`)
	patCanceled = []byte(`"canceled":true`)
)

// events tallies the events of one response line received at now (since
// the run's start). It scans bytes rather than parsing JSON: the gateway's
// strings are base64 or decimal, so the patterns cannot appear inside them.
func (wr *watchRun) events(line []byte, now time.Duration, t *watchTally) {
	ev := bytes.Index(line, patEvents)
	if ev < 0 {
		if bytes.Contains(line, patCanceled) {
			t.errs["a watch was canceled: "+strings.TrimSpace(string(line))]++
		}
		return // progress and other responses carry no event
	}
	var id int64
	if i := bytes.Index(line[:ev], patWatchID); i >= 0 {
		id, _ = strconv.ParseInt(string(digits(line[i+len(patWatchID):])), 10, 64)
	}
	if id < 0 || id >= int64(len(t.last)) {
		t.errs[fmt.Sprintf("an event for unknown watch %d", id)]++
		return
	}
	rest := line[ev:]
	for {
		i := bytes.Index(rest, patModRev)
		if i < 0 {
			break
		}
		rest = rest[i+len(patModRev):]
		rev, err := strconv.ParseInt(string(digits(rest)), 10, 64)
		if err != nil {
			t.errs["an event without a revision"]++
			return
		}
		var sent time.Duration
		if j := bytes.Index(rest, patValue); j >= 0 && len(rest) >= j+len(patValue)+12 {
			var v [9]byte
			if _, err := base64.StdEncoding.Decode(v[:], rest[j+len(patValue):j+len(patValue)+12]); err == nil {
				sent = time.Duration(binary.LittleEndian.Uint64(v[:8]))
			}
			rest = rest[j+len(patValue):]
		}
		t.received++
		if last := t.last[id]; rev <= last {
			t.outOfOrder++
		} else {
			atomic.StoreInt64(&t.last[id], rev)
		}
		if s := wr.acks.slot(rev-wr.base, false); s != nil && s.Load() != 0 && now >= time.Duration(s.Load()) {
			t.ackLat.record(now - time.Duration(s.Load()))
		} else {
			t.ackLat.record(0)
			t.early++
		}
		if sent > 0 {
			t.sendLat.record(now - sent)
		}
	}
	storeMax(&wr.lastEvent, int64(now))
}
