package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// The v3lock endpoints side by side with etcd 3.4: the same requests to a
// real etcd and to cairn over a store, both new, get the same status and
// body (cluster ids aside). A second lock of the same name answers only
// once the first is unlocked, with its own key.
func TestLockCompareWithEtcd(t *testing.T) {
	etcd := startEtcd(t)
	ts := newTestServer(t)
	for _, base := range []string{etcd, ts.URL} {
		for _, id := range []string{"4660", "4661"} {
			if r := etcdPost(t, base+"/v3/lease/grant", `{"TTL":"60","ID":"`+id+`"}`); r.status != 200 {
				t.Fatalf("%s: grant: %d %s", base, r.status, r.body)
			}
		}
	}
	same := func(path, body string) *reply {
		t.Helper()
		want := etcdPost(t, etcd+path, body)
		got := etcdPost(t, ts.URL+path, body)
		if got.status != want.status || normalize(got.body) != normalize(want.body) {
			t.Errorf("%s %s:\ncairn %d %s\netcd  %d %s", path, body, got.status, got.body, want.status, want.body)
		}
		return got
	}
	name := b64("mylock")
	first := same("/v3/lock/lock", `{"name":"`+name+`","lease":"4660"}`)
	var held struct {
		Key []byte `json:"key"`
	}
	if err := json.Unmarshal([]byte(first.body), &held); err != nil || string(held.Key) != "mylock/1234" {
		t.Fatalf("lock key %q (%v), want mylock/1234", held.Key, err)
	}
	// The same lease again: it holds the lock already.
	same("/v3/lock/lock", `{"name":"`+name+`","lease":"4660"}`)

	// A second holder waits on each side until the first unlocks.
	type answer struct {
		base string
		r    *reply
	}
	answers := make(chan answer, 2)
	for _, base := range []string{etcd, ts.URL} {
		go func() {
			answers <- answer{base, etcdPost(t, base+"/v3/lock/lock", `{"name":"`+name+`","lease":"4661"}`)}
		}()
	}
	// Once its key is in the queue on both sides, nobody has answered.
	for _, base := range []string{etcd, ts.URL} {
		for {
			r := etcdPost(t, base+"/v3/kv/range", `{"key":"`+name+`","range_end":"`+b64("mylock0")+`","count_only":true}`)
			if json.Valid([]byte(r.body)) && normalize(r.body) != "" && strings.Contains(r.body, `"count":"2"`) {
				break
			}
		}
	}
	select {
	case a := <-answers:
		t.Fatalf("%s: the second lock answered while the first is held: %d %s", a.base, a.r.status, a.r.body)
	default:
	}
	same("/v3/lock/unlock", `{"key":"`+b64("mylock/1234")+`"}`)
	got := map[string]*reply{}
	for range 2 {
		a := <-answers
		got[a.base] = a.r
	}
	if w, g := got[etcd], got[ts.URL]; g.status != 200 || g.status != w.status || normalize(g.body) != normalize(w.body) {
		t.Errorf("second lock:\ncairn %d %s\netcd  %d %s", g.status, g.body, w.status, w.body)
	}
	if !strings.Contains(got[ts.URL].body, `"key":"`+b64("mylock/1235")+`"`) {
		t.Errorf("second lock: %s, want key mylock/1235", got[ts.URL].body)
	}

	// Errors and edge cases.
	same("/v3/lock/lock", `{"name":"`+b64("other")+`","lease":"999"}`) // lease not granted
	same("/v3/lock/unlock", `{"key":"`+b64("nope")+`"}`)
	same("/v3/lock/unlock", `{"key":"`+b64("mylock/1235")+`"}`)
	same("/v3/lock/lock", `{"name":5}`)
	same("/v3/lock/lock", `{"name":"`+name+`","lease":"x"}`)
	same("/v3/lock/lock", `[`)
	same("/v3/lock/unlock", `{"key":"!"}`)
	same("/v3beta/lock/unlock", `{"key":"`+b64("nope")+`"}`)
}
