package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// v2Node and v2Event are a v2 keys answer as etcd 3.4 writes it.
type v2Node struct {
	Key           string   `json:"key"`
	Value         string   `json:"value"`
	Dir           bool     `json:"dir"`
	Nodes         []v2Node `json:"nodes"`
	CreatedIndex  int64    `json:"createdIndex"`
	ModifiedIndex int64    `json:"modifiedIndex"`
	TTL           int64    `json:"ttl"`
}

type v2Event struct {
	Action   string  `json:"action"`
	Node     v2Node  `json:"node"`
	PrevNode *v2Node `json:"prevNode"`
}

// v2Do sends a v2 keys request with a form body and decodes the answer.
func v2Do(t testing.TB, method, url, form string) (int, v2Event) {
	t.Helper()
	code, _, body := do(t, method, url, "application/x-www-form-urlencoded", form)
	var ev v2Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("%s %s: %d %q: %v", method, url, code, body, err)
	}
	return code, ev
}

// v2Wait opens a ?wait=true long poll; it returns once the headers came
// (cairn flushes them when the watch is registered), and the returned func
// reads the one event of the answer.
func v2Wait(t testing.TB, ctx context.Context, url string) func() v2Event {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return func() v2Event {
		t.Helper()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: reading the event: %v", url, err)
		}
		var ev v2Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("GET %s: %q: %v", url, b, err)
		}
		return ev
	}
}

// v3Event is one event of a /v3/watch stream.
type v3Event struct {
	Type string `json:"type"` // "" (PUT, the zero value, omitted) or "DELETE"
	Kv   kv     `json:"kv"`
}

// v3Watch opens a /v3/watch stream on [key, end) and waits for its created
// line; the returned func reads the events of the next response.
func v3Watch(t testing.TB, ctx context.Context, m *member, key, end string) func() []v3Event {
	t.Helper()
	body := fmt.Sprintf(`{"create_request":{"key":%q,"range_end":%q}}`, b64(key), b64(end))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.url+"/v3/watch", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() (created bool, evs []v3Event) {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("watch stream ended: %v", lines.Err())
		}
		var r struct {
			Result struct {
				Created bool      `json:"created"`
				Events  []v3Event `json:"events"`
			} `json:"result"`
		}
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("watch line %q: %v", lines.Text(), err)
		}
		return r.Result.Created, r.Result.Events
	}
	if created, _ := next(); !created {
		t.Fatalf("the watch stream's first line is not created: %s", lines.Text())
	}
	return func() []v3Event {
		t.Helper()
		_, evs := next()
		return evs
	}
}

// TestV2CrossAPI: the v2 and v3 APIs of the binary share one store. A v2
// write is a v3 key (and its directories are keys with empty values) that
// v3 range and watch see at the same revision; a v3 write is a v2 file that
// v2 get and wait see; a v2 TTL's expiry is a DELETE to v3 watchers and an
// "expire" to v2 waiters.
func TestV2CrossAPI(t *testing.T) {
	m := startMember(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// v2 write -> v3 watch and range.
	watch := v3Watch(t, ctx, m, "/x", "/y")
	code, set := v2Do(t, http.MethodPut, m.url+"/v2/keys/x/y", "value=1")
	if code != http.StatusCreated || set.Action != "set" {
		t.Fatalf("v2 PUT /x/y: %d %+v", code, set)
	}
	rev := set.Node.ModifiedIndex
	var got []string
	for len(got) < 2 {
		for _, e := range watch() {
			got = append(got, fmt.Sprintf("%s %s=%q @%s", e.Type, unb64(t, e.Kv.Key), unb64(t, e.Kv.Value), e.Kv.ModRevision))
		}
	}
	slices.Sort(got)
	r := strconv.FormatInt(rev, 10)
	if want := []string{` /x/y="1" @` + r, ` /x="" @` + r}; !slices.Equal(got, want) {
		t.Fatalf("v3 watch of a v2 PUT /x/y:\n got %q\nwant %q (the file and its new directory, one revision)", got, want)
	}
	rr, err := m.rangeKey(ctx, "/x/y")
	if err != nil || len(rr.Kvs) != 1 || unb64(t, rr.Kvs[0].Value) != "1" || atoi(t, rr.Kvs[0].ModRevision) != rev ||
		atoi(t, rr.Kvs[0].CreateRevision) != set.Node.CreatedIndex {
		t.Fatalf("v3 range of the v2 file /x/y: %+v %v", rr, err)
	}

	// v3 write -> v2 wait (live and from history) and v2 get.
	wait := v2Wait(t, ctx, m.url+"/v2/keys/x/z?wait=true")
	put, err := m.put(ctx, "/x/z", "3")
	if err != nil {
		t.Fatal(err)
	}
	want := v2Event{Action: "set", Node: v2Node{Key: "/x/z", Value: "3", CreatedIndex: put, ModifiedIndex: put}}
	if ev := wait(); !equalEvent(ev, want) {
		t.Fatalf("v2 wait of a v3 put:\n got %+v\nwant %+v", ev, want)
	}
	if ev := v2Wait(t, ctx, m.url+"/v2/keys/x/z?wait=true&waitIndex="+strconv.FormatInt(put, 10))(); !equalEvent(ev, want) {
		t.Fatalf("v2 wait from history of a v3 put:\n got %+v\nwant %+v", ev, want)
	}
	if code, ev := v2Do(t, http.MethodGet, m.url+"/v2/keys/x?sorted=true", ""); code != http.StatusOK || !ev.Node.Dir ||
		len(ev.Node.Nodes) != 2 || ev.Node.Nodes[0].Key != "/x/y" || ev.Node.Nodes[1].Key != "/x/z" || ev.Node.Nodes[1].Value != "3" {
		t.Fatalf("v2 GET /x after a v3 put of /x/z: %d %+v", code, ev)
	}
	var del struct {
		Header header `json:"header"`
	}
	if err := m.call(ctx, "/v3/kv/deleterange", map[string]string{"key": b64("/x/z")}, &del); err != nil {
		t.Fatal(err)
	}
	delRev := atoi(t, del.Header.Revision)
	ev := v2Wait(t, ctx, m.url+"/v2/keys/x?wait=true&recursive=true&waitIndex="+strconv.FormatInt(put+1, 10))()
	if ev.Action != "delete" || ev.Node.Key != "/x/z" || ev.Node.ModifiedIndex != delRev || ev.PrevNode == nil || ev.PrevNode.Value != "3" {
		t.Fatalf("v2 recursive wait of a v3 delete: %+v", ev)
	}
	if code, ev := v2Do(t, http.MethodGet, m.url+"/v2/keys/x/z", ""); code != http.StatusNotFound {
		t.Fatalf("v2 GET of a key v3 deleted: %d %+v", code, ev)
	}

	// A v2 TTL: the key holds a lease v3 sees; its expiry is a DELETE to
	// v3 watchers and an expire to v2 waiters.
	watch = v3Watch(t, ctx, m, "/t", "/t\x00")
	code, set = v2Do(t, http.MethodPut, m.url+"/v2/keys/t", "value=v&ttl=1")
	if code != http.StatusCreated || set.Node.TTL < 1 {
		t.Fatalf("v2 PUT with ttl=1: %d %+v", code, set)
	}
	rev = set.Node.ModifiedIndex
	wait = v2Wait(t, ctx, m.url+"/v2/keys/t?wait=true&waitIndex="+strconv.FormatInt(rev+1, 10))
	if rr, err := m.rangeKey(ctx, "/t"); err != nil || len(rr.Kvs) != 1 {
		t.Fatalf("v3 range of the TTL'd v2 key: %+v %v", rr, err)
	}
	var lease struct {
		Kvs []struct {
			Lease string `json:"lease"`
		} `json:"kvs"`
	}
	if err := m.call(ctx, "/v3/kv/range", map[string]string{"key": b64("/t")}, &lease); err != nil || len(lease.Kvs) != 1 || atoi(t, lease.Kvs[0].Lease) == 0 {
		t.Fatalf("v3 range of the TTL'd v2 key shows no lease: %+v %v", lease, err)
	}
	evs := watch()
	if len(evs) != 1 || evs[0].Type != "" || unb64(t, evs[0].Kv.Key) != "/t" || atoi(t, evs[0].Kv.ModRevision) != rev {
		t.Fatalf("v3 watch of the v2 PUT /t: %+v", evs)
	}
	evs = watch() // blocks until the lease expires
	if len(evs) != 1 || evs[0].Type != "DELETE" || unb64(t, evs[0].Kv.Key) != "/t" {
		t.Fatalf("v3 watch of the expiry of /t: %+v, want one DELETE", evs)
	}
	expRev := atoi(t, evs[0].Kv.ModRevision)
	ev = wait()
	if ev.Action != "expire" || ev.Node.Key != "/t" || ev.Node.ModifiedIndex != expRev || ev.Node.CreatedIndex != rev ||
		ev.PrevNode == nil || ev.PrevNode.Value != "v" || ev.PrevNode.ModifiedIndex != rev {
		t.Fatalf("v2 wait of the expiry of /t: %+v (prevNode %+v), want expire at %d", ev, ev.PrevNode, expRev)
	}
	if code, ev := v2Do(t, http.MethodGet, m.url+"/v2/keys/t", ""); code != http.StatusNotFound {
		t.Fatalf("v2 GET of an expired key: %d %+v", code, ev)
	}
}

// equalEvent compares the fields a v2 wait test checks (no prevNode).
func equalEvent(a, b v2Event) bool {
	return a.Action == b.Action && a.PrevNode == nil && b.PrevNode == nil && a.Node.Key == b.Node.Key &&
		a.Node.Value == b.Node.Value && a.Node.Dir == b.Node.Dir && a.Node.CreatedIndex == b.Node.CreatedIndex &&
		a.Node.ModifiedIndex == b.Node.ModifiedIndex
}
