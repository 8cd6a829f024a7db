package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"time"
)

// This file owns watch-latency's put side: the writers, whose puts carry
// their send time and whose answers record each revision's ack time.

// write is one writer: puts at the runner's pace, each value starting with
// the send time, each answer's revision recorded with its time.
func (wr *watchRun) write(r *runner, ep *endpoint, rng *rand.Rand, value []byte, rec *recorder) {
	var (
		timer *time.Timer
		key   []byte
		buf   bytes.Buffer
		val   = append([]byte(nil), value...)
		head  = []byte(`{"key":"`)
	)
	for {
		n, ok := r.next(&timer)
		if !ok {
			return
		}
		key = r.keys.appendKey(key[:0], r.keys.pick(n, rng))
		sent := time.Now()
		binary.LittleEndian.PutUint64(val, uint64(sent.Sub(wr.start)))
		body := make([]byte, 0, len(head)+base64.StdEncoding.EncodedLen(len(key))+len(val)*2+16)
		body = append(body, head...)
		body = base64.StdEncoding.AppendEncode(body, key)
		body = append(body, `","value":"`...)
		body = base64.StdEncoding.AppendEncode(body, val)
		body = append(body, `"}`...)
		status, answer, err := ep.do(r.ctx, request{path: "/v3/kv/put", body: body}, &buf)
		acked := time.Now()
		switch {
		case err != nil && r.ctx.Err() != nil:
			return
		case err != nil:
			rec.fail(errorMessage(err))
			continue
		case status != 200:
			rec.fail(statusMessage(status, answer))
			continue
		}
		rev, perr := strconv.ParseInt(string(unquote(jsonField(answer, []byte(`"revision"`)))), 10, 64)
		if perr != nil {
			rec.fail("put answer without a revision")
			continue
		}
		rec.succeed(acked.Sub(sent), "")
		wr.puts.Add(1)
		if s := wr.acks.slot(rev-wr.base, true); s != nil {
			s.Store(int64(acked.Sub(wr.start)))
		}
		storeMax(&wr.lastAcked, rev)
	}
}
