package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The robustness watchers: each follows every event under rbPrefix from
// the scenario's first revision, through any member, and when its stream
// breaks (the member was killed, stopped, cut off, or said nothing for a
// while) it resumes from the revision after the last event it saw, on the
// next member. What each saw is checked afterwards (robustness_check_test.go).

// wevent is one event as a watcher saw it.
type wevent struct {
	rev   int64
	key   string
	value string // "" for a delete
	del   bool
}

// watchLog is what one watcher saw: the events of each response, in the
// order they came.
type watchLog struct {
	name     string
	mu       sync.Mutex
	resps    [][]wevent
	notes    []string       // anomalies on the wire: a canceled watch, an error answer
	failures map[string]int // failed requests and streams, by what went wrong
	connects int
	next     atomic.Int64 // the revision to resume from
}

func (l *watchLog) add(evs []wevent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resps = append(l.resps, evs)
	l.next.Store(evs[len(evs)-1].rev + 1)
}

// failure counts a failed request or stream by what went wrong (for the
// summary: a watcher that falls behind says why).
func (l *watchLog) failure(code int, err error) {
	why := "no answer"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		why = "nothing within " + watchIdle.String()
	case code != 0:
		why = fmt.Sprintf("HTTP %d %v", code, err)
	case err != nil:
		why = err.Error()
		if i := strings.LastIndex(why, ": "); i >= 0 {
			why = why[i+2:] // the cause, without URLs and ports
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string]int{}
	}
	if len(l.failures) < 10 {
		l.failures[why]++
	}
}

// catchUp waits until l has seen revision end, for as long as it makes
// progress (a v2 waiter makes one request per event, and may be far
// behind), at most a minute.
func (l *watchLog) catchUp(end int64) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		at := l.next.Load()
		if at > end || !waitFor(10*time.Second, func() bool { return l.next.Load() != at }) {
			return
		}
	}
}

func (l *watchLog) note(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.notes) < 20 {
		l.notes = append(l.notes, fmt.Sprintf(format, args...))
	}
}

// watchLine is one response of a v3 watch stream.
type watchLine struct {
	Result struct {
		Created         bool      `json:"created"`
		Canceled        bool      `json:"canceled"`
		CompactRevision string    `json:"compact_revision"`
		CancelReason    string    `json:"cancel_reason"`
		Events          []v3Event `json:"events"`
	} `json:"result"`
	Error json.RawMessage `json:"error"`
}

// events converts the line's events.
func (w *watchLine) events() ([]wevent, error) {
	out := make([]wevent, 0, len(w.Result.Events))
	for _, ev := range w.Result.Events {
		k, err := base64.StdEncoding.DecodeString(ev.Kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := base64.StdEncoding.DecodeString(ev.Kv.Value)
		if err != nil {
			return nil, err
		}
		rev, err := strconv.ParseInt(ev.Kv.ModRevision, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, wevent{rev: rev, key: string(k), value: string(v), del: ev.Type == "DELETE"})
	}
	return out, nil
}

// v3Stream opens one v3 watch on the robustness prefix from revision start
// at base (a member's client URL), over HTTP or a websocket, and hands
// each response to got until got returns false, ctx ends, the stream
// breaks or nothing came for idle.
func v3Stream(ctx context.Context, base string, start int64, ws bool, idle time.Duration, got func(*watchLine) bool) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(idle, func() { cancel(fmt.Errorf("nothing within %v", idle)) })
	defer watchdog.Stop()
	defer func() {
		if c := context.Cause(ctx); c != nil && err != nil {
			err = c // why the stream was cut
		}
	}()
	create := fmt.Sprintf(`{"create_request":{"key":%q,"range_end":%q,"start_revision":"%d"}}`,
		b64(rbPrefix), b64(prefixEnd(rbPrefix)), start)
	handle := func(b []byte) (bool, error) {
		watchdog.Reset(idle)
		var line watchLine
		if err := json.Unmarshal(b, &line); err != nil {
			return false, fmt.Errorf("watch line %q: %v", b, err)
		}
		return got(&line), nil
	}
	if ws {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v3/watch", nil)
		if err != nil {
			return err
		}
		defer c.CloseNow()
		c.SetReadLimit(16 << 20)
		if err := c.Write(ctx, websocket.MessageText, []byte(create)); err != nil {
			return err
		}
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return err
			}
			if more, err := handle(b); !more || err != nil {
				return err
			}
		}
	}
	resp, err := send(ctx, http.MethodPost, base+"/v3/watch", strings.NewReader(create))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("watch: HTTP %d", resp.StatusCode)
	}

	// Only whole lines are responses: a stream cut mid-line (by a kill or
	// by ctx) leaves a piece that is not.
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		b, err := br.ReadBytes('\n')
		if err != nil {
			return err
		}
		if more, err := handle(b); !more || err != nil {
			return err
		}
	}
}

// prefixEnd is the range end of every key starting with prefix.
func prefixEnd(prefix string) string {
	end := []byte(prefix)
	end[len(end)-1]++
	return string(end)
}

// watchIdle is how long a watcher waits for a response before it tries
// the next member: the clients write all the time, so a silent stream is
// one on a stopped or cut-off member.
const watchIdle = 3 * time.Second

// followV3 keeps a v3 watch going into l until ctx ends, starting on
// member first and moving to the next member whenever the stream breaks.
// It also breaks each stream itself after a random 0.5-3s, so that resuming
// (on another member, maybe one behind) happens often.
func (s *scenario) followV3(ctx context.Context, l *watchLog, first int, ws bool) {
	for i := first; i < first+10000 && ctx.Err() == nil; i++ {
		l.mu.Lock()
		l.connects++
		l.mu.Unlock()
		sctx, cancel := context.WithTimeout(ctx, time.Duration(500+rand.IntN(2500))*time.Millisecond)
		err := v3Stream(sctx, s.clientURL(i), l.next.Load(), ws, watchIdle, func(line *watchLine) bool {
			switch {
			case len(line.Error) > 0:
				l.note("error answer: %s", line.Error)
				return false
			case line.Result.Canceled:
				l.note("watch canceled (compact revision %s): %s", line.Result.CompactRevision, line.Result.CancelReason)
				return false
			}
			evs, err := line.events()
			if err != nil {
				l.note("%v", err)
				return false
			}
			if len(evs) > 0 {
				l.add(evs)
			}
			return true
		})
		expired := sctx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err != nil && strings.Contains(err.Error(), "watch line"):
			l.note("%v", err)
		case err != nil && !expired && ctx.Err() == nil:
			l.failure(0, err)
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// v2Dir is the directory the v2 waiter watches (recursively): the
// multi-key transactions' keys. One request per event is slower than the
// clients write all keys, so the waiter follows this share of them.
var v2Dir = strings.TrimSuffix(rbMulti[0], "/0")

// followV2 keeps v2 long polls going into l: each answers the first event
// under v2Dir at or after its waitIndex, the next asks from the revision
// after it.
func (s *scenario) followV2(ctx context.Context, l *watchLog, first int) {
	ep := first
	for i := 0; i < 1000000 && ctx.Err() == nil; i++ {
		ev, code, err := v2WaitOnce(ctx, s.clientURL(ep), l.next.Load())
		switch {
		case err != nil || code != http.StatusOK:
			if code == http.StatusUnauthorized {
				l.note("waitIndex %d: 401 (history cleared)", l.next.Load())
			}
			if ctx.Err() == nil {
				l.failure(code, err)
			}
			ep++
			l.mu.Lock()
			l.connects++
			l.mu.Unlock()
			sleepCtx(ctx, 50*time.Millisecond)
		default:
			del := ev.Action == "delete" || ev.Action == "expire" || ev.Action == "compareAndDelete"
			w := wevent{rev: ev.Node.ModifiedIndex, key: ev.Node.Key, del: del}
			if !del {
				w.value = ev.Node.Value
			}
			l.add([]wevent{w})
		}
	}
}

// v2WaitOnce makes one v2 long poll from waitIndex, bounded by watchIdle.
func v2WaitOnce(ctx context.Context, base string, waitIndex int64) (v2Event, int, error) {
	ctx, cancel := context.WithTimeout(ctx, watchIdle)
	defer cancel()
	var ev v2Event
	url := fmt.Sprintf("%s/v2/keys%s?wait=true&recursive=true&waitIndex=%d", base, v2Dir, waitIndex)
	resp, err := send(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ev, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return ev, resp.StatusCode, fmt.Errorf("%s", b)
	}
	return ev, resp.StatusCode, json.NewDecoder(resp.Body).Decode(&ev)
}

// memberHistory reads the events from..end of one member's own store in
// one stream (no reconnection: a member that cannot serve it fails).
func memberHistory(ctx context.Context, base string, from, end int64) ([]wevent, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var out []wevent
	var bad error
	err := v3Stream(ctx, base, from, false, 10*time.Second, func(line *watchLine) bool {
		evs, err := line.events()
		if err != nil || line.Result.Canceled || len(line.Error) > 0 {
			bad = fmt.Errorf("history stream: %v %s %s", err, line.Result.CancelReason, line.Error)
			return false
		}
		out = append(out, evs...)
		return len(out) == 0 || out[len(out)-1].rev < end
	})
	switch {
	case bad != nil:
		return nil, bad
	case len(out) > 0 && out[len(out)-1].rev >= end:
		return out, nil
	case err == nil:
		err = fmt.Errorf("the stream ended")
	}
	return nil, fmt.Errorf("history %d..%d from %s: %d events, %v", from, end, base, len(out), err)
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
