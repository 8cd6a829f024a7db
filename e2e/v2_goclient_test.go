package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"slices"
	"strconv"
	"testing"
	"time"

	client "go.etcd.io/etcd/client/v2"
)

// v2Client is etcd's Go v2 client, unchanged, on the given endpoints.
func v2Client(t testing.TB, mode client.EndpointSelectionMode, endpoints ...string) client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: endpoints, Transport: client.DefaultTransport, SelectionMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// v2Code is the v2 errorCode of a client.Error, -1 for any other error or none.
func v2Code(err error) int {
	var e client.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// v2Member is one member as GET /v2/members lists it.
type v2Member struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
}

// waitPublished polls /v2/members on every member until each lists every
// member with its client URL. A member serves clients only once its own
// name and client URLs are committed (as etcd 3.4), but a member that
// started serving earlier may not have applied a later member's
// publication yet when startCluster returns.
func (c *cluster) waitPublished(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range c.members {
		for {
			code, _, body := do(t, http.MethodGet, m.url+"/v2/members", "", "")
			var got struct {
				Members []v2Member `json:"members"`
			}
			published := 0
			if code == http.StatusOK && json.Unmarshal([]byte(body), &got) == nil {
				for _, cm := range c.members {
					if slices.ContainsFunc(got.Members, func(x v2Member) bool {
						return x.Name == cm.name && slices.Equal(x.ClientURLs, []string{cm.url})
					}) {
						published++
					}
				}
			}
			if published == len(c.members) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's /v2/members never listed every member's client URL: %d %s", m.name, code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestV2GoClient drives the cairn binary with etcd's Go v2 client
// (go.etcd.io/etcd/client/v2) as a user would: KeysAPI writes and reads,
// compare-and-swap and its typed errors, dirs, in-order keys, TTL and
// refresh, watchers from history and live, NoValueOnSuccess, MembersAPI.
func TestV2GoClient(t *testing.T) {
	m := startMember(t, t.TempDir())
	c := v2Client(t, client.EndpointSelectionRandom, m.url)
	kapi := client.NewKeysAPI(c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Set, Create, Update and the compare-and-swap options.
	resp, err := kapi.Set(ctx, "/app/db", "h1", nil)
	if err != nil || resp.Action != "set" || resp.Node.Key != "/app/db" || resp.Node.Value != "h1" ||
		resp.Index != resp.Node.ModifiedIndex || resp.Node.CreatedIndex != resp.Node.ModifiedIndex {
		t.Fatalf("Set: %+v %v", resp, err)
	}
	first := resp.Node.ModifiedIndex
	_, err = kapi.Create(ctx, "/app/db", "again")
	var ce client.Error
	if !errors.As(err, &ce) || ce.Code != client.ErrorCodeNodeExist || ce.Message != "Key already exists" ||
		ce.Cause != "/app/db" || ce.Index != first {
		t.Fatalf("Create over a file: %#v", err)
	}
	if resp, err = kapi.Create(ctx, "/app/new", "n"); err != nil || resp.Action != "create" || resp.Node.Value != "n" {
		t.Fatalf("Create: %+v %v", resp, err)
	}
	if resp, err = kapi.Update(ctx, "/app/db", "h2"); err != nil || resp.Action != "update" || resp.Node.Value != "h2" ||
		resp.PrevNode == nil || resp.PrevNode.Value != "h1" || resp.Node.CreatedIndex != first {
		t.Fatalf("Update: %+v %v", resp, err)
	}
	if _, err := kapi.Update(ctx, "/app/missing", "x"); !client.IsKeyNotFound(err) {
		t.Fatalf("Update of a missing key: %v", err)
	}
	if _, err := kapi.Set(ctx, "/app/db", "x", &client.SetOptions{PrevValue: "nope"}); v2Code(err) != client.ErrorCodeTestFailed {
		t.Fatalf("Set with a wrong PrevValue: %v", err)
	}
	if _, err := kapi.Set(ctx, "/app/db", "x", &client.SetOptions{PrevIndex: first}); v2Code(err) != client.ErrorCodeTestFailed {
		t.Fatalf("Set with a stale PrevIndex: %v", err)
	}
	if resp, err = kapi.Set(ctx, "/app/db", "h3", &client.SetOptions{PrevValue: "h2"}); err != nil || resp.Action != "compareAndSwap" {
		t.Fatalf("Set with PrevValue: %+v %v", resp, err)
	}
	if resp, err = kapi.Set(ctx, "/app/db", "h4", &client.SetOptions{PrevIndex: resp.Node.ModifiedIndex}); err != nil ||
		resp.Action != "compareAndSwap" || resp.PrevNode.Value != "h3" {
		t.Fatalf("Set with PrevIndex: %+v %v", resp, err)
	}
	if _, err := kapi.Set(ctx, "/app/nokey", "v", &client.SetOptions{PrevExist: client.PrevExist}); !client.IsKeyNotFound(err) {
		t.Fatalf("Set PrevExist of a missing key: %v", err)
	}
	if _, err := kapi.Set(ctx, "/app/db", "v", &client.SetOptions{PrevExist: client.PrevNoExist}); v2Code(err) != client.ErrorCodeNodeExist {
		t.Fatalf("Set PrevNoExist of a file: %v", err)
	}
	if _, err := kapi.Delete(ctx, "/app/db", &client.DeleteOptions{PrevValue: "nope"}); v2Code(err) != client.ErrorCodeTestFailed {
		t.Fatalf("Delete with a wrong PrevValue: %v", err)
	}
	if resp, err = kapi.Get(ctx, "/app/db", nil); err != nil || resp.Action != "get" || resp.Node.Value != "h4" {
		t.Fatalf("Get after the failed writes: %+v %v", resp, err)
	}

	// Directories: a file is not a directory and the other way round.
	if resp, err = kapi.Set(ctx, "/app/dir", "", &client.SetOptions{Dir: true}); err != nil || !resp.Node.Dir {
		t.Fatalf("Set Dir: %+v %v", resp, err)
	}
	if _, err := kapi.Set(ctx, "/app/dir", "v", nil); v2Code(err) != client.ErrorCodeNotFile {
		t.Fatalf("Set of a directory: %v", err)
	}
	if _, err := kapi.Set(ctx, "/app/db/under", "v", nil); v2Code(err) != client.ErrorCodeNotDir {
		t.Fatalf("Set under a file: %v", err)
	}
	if _, err := kapi.Set(ctx, "/app/dir/f", "in dir", nil); err != nil {
		t.Fatal(err)
	}

	// In-order keys: 20-digit zero-padded names, increasing.
	var queue []string
	for _, v := range []string{"j1", "j2", "j3"} {
		resp, err := kapi.CreateInOrder(ctx, "/queue", v, nil)
		if err != nil || resp.Action != "create" {
			t.Fatalf("CreateInOrder: %+v %v", resp, err)
		}
		name := path.Base(resp.Node.Key)
		if n, err := strconv.ParseUint(name, 10, 64); len(name) != 20 || err != nil || n != resp.Node.CreatedIndex {
			t.Fatalf("in-order key %q: want the 20-digit zero-padded createdIndex %d", resp.Node.Key, resp.Node.CreatedIndex)
		}
		queue = append(queue, resp.Node.Key)
	}
	if !slices.IsSorted(queue) {
		t.Fatalf("in-order keys not increasing: %q", queue)
	}
	resp, err = kapi.Get(ctx, "/queue", &client.GetOptions{Sort: true})
	if err != nil || !resp.Node.Dir || len(resp.Node.Nodes) != 3 {
		t.Fatalf("Get of the queue: %+v %v", resp, err)
	}
	for i, n := range resp.Node.Nodes {
		if n.Key != queue[i] || n.Value != "j"+strconv.Itoa(i+1) {
			t.Fatalf("queue[%d] = %s=%s, want %s=j%d", i, n.Key, n.Value, queue[i], i+1)
		}
	}

	// A recursive, sorted Get of the whole tree.
	resp, err = kapi.Get(ctx, "/", &client.GetOptions{Recursive: true, Sort: true})
	if err != nil {
		t.Fatal(err)
	}
	var tree []string
	var walk func(ns client.Nodes)
	walk = func(ns client.Nodes) {
		for _, n := range ns {
			if n.Dir {
				tree = append(tree, n.Key+"/")
			} else {
				tree = append(tree, n.Key+"="+n.Value)
			}
			walk(n.Nodes)
		}
	}
	walk(resp.Node.Nodes)
	want := []string{"/app/", "/app/db=h4", "/app/dir/", "/app/dir/f=in dir", "/app/new=n",
		"/queue/", queue[0] + "=j1", queue[1] + "=j2", queue[2] + "=j3"}
	if !slices.Equal(tree, want) {
		t.Fatalf("Get / recursive sorted:\n got %q\nwant %q", tree, want)
	}

	// TTL: Get shows ttl and expiration; Refresh renews it without a
	// watch event and keeps the value.
	resp, err = kapi.Set(ctx, "/lock", "me", &client.SetOptions{TTL: 30 * time.Second})
	if err != nil || resp.Node.TTL < 1 || resp.Node.TTL > 30 || resp.Node.Expiration == nil {
		t.Fatalf("Set with TTL: %+v %v", resp, err)
	}
	lockSet := resp.Index
	resp, err = kapi.Get(ctx, "/lock", nil)
	if err != nil || resp.Node.Value != "me" || resp.Node.TTL < 1 || resp.Node.TTL > 30 || resp.Node.Expiration == nil ||
		resp.Node.Expiration.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("Get of a TTL'd key: %+v %v", resp.Node, err)
	}
	resp, err = kapi.Set(ctx, "/lock", "", &client.SetOptions{TTL: 600 * time.Second, Refresh: true, PrevExist: client.PrevExist})
	if err != nil || resp.Node.Value != "me" || resp.Node.TTL <= 30 || resp.Node.TTL > 600 {
		t.Fatalf("Refresh: %+v %v", resp, err)
	}
	if resp, err = kapi.Get(ctx, "/lock", nil); err != nil || resp.Node.TTL <= 30 {
		t.Fatalf("Get after Refresh: %+v %v", resp, err)
	}
	// A watcher from just after the TTL'd set: its first event must be the
	// write below, not the refresh.
	w := kapi.Watcher("/lock", &client.WatcherOptions{AfterIndex: lockSet})
	if _, err := kapi.Set(ctx, "/lock", "you", nil); err != nil {
		t.Fatal(err)
	}
	if resp, err = w.Next(ctx); err != nil || resp.Action != "set" || resp.Node.Value != "you" {
		t.Fatalf("watch after a refresh: %+v %v, want the set of \"you\"", resp, err)
	}
	if resp, err = kapi.Get(ctx, "/lock", nil); err != nil || resp.Node.TTL != 0 || resp.Node.Expiration != nil {
		t.Fatalf("Set without TTL leaves the key permanent: %+v %v", resp.Node, err)
	}

	// A recursive watcher from history sees the first write, then the
	// following ones under /app in order; a live one sees the next write.
	w = kapi.Watcher("/app", &client.WatcherOptions{AfterIndex: first - 1, Recursive: true})
	for _, want := range []struct{ action, key, value string }{
		{"set", "/app/db", "h1"}, {"create", "/app/new", "n"}, {"update", "/app/db", "h2"},
	} {
		resp, err := w.Next(ctx)
		if err != nil || resp.Action != want.action || resp.Node.Key != want.key || resp.Node.Value != want.value {
			t.Fatalf("recursive watch from history: %+v %v, want %v", resp, err, want)
		}
	}
	now, err := kapi.Get(ctx, "/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	live := kapi.Watcher("/app", &client.WatcherOptions{AfterIndex: now.Index, Recursive: true})
	got := make(chan *client.Response, 1)
	go func() {
		r, err := live.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	if _, err := kapi.Set(ctx, "/elsewhere", "x", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := kapi.Delete(ctx, "/app/new", nil); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r == nil || r.Action != "delete" || r.Node.Key != "/app/new" || r.PrevNode == nil || r.PrevNode.Value != "n" {
		t.Fatalf("live recursive watch: %+v", r)
	}

	// Deletes: a non-empty dir needs Recursive; an empty one goes with Dir.
	if _, err := kapi.Delete(ctx, "/app/dir", &client.DeleteOptions{Dir: true}); v2Code(err) != client.ErrorCodeDirNotEmpty {
		t.Fatalf("Delete of a non-empty dir: %v", err)
	}
	if _, err := kapi.Delete(ctx, "/app/dir/f", nil); err != nil {
		t.Fatal(err)
	}
	if resp, err = kapi.Delete(ctx, "/app/dir", &client.DeleteOptions{Dir: true}); err != nil || resp.Action != "delete" || !resp.Node.Dir {
		t.Fatalf("Delete of an empty dir: %+v %v", resp, err)
	}
	if resp, err = kapi.Delete(ctx, "/app/db", &client.DeleteOptions{PrevValue: "h4"}); err != nil || resp.Action != "compareAndDelete" {
		t.Fatalf("Delete with PrevValue: %+v %v", resp, err)
	}
	if resp, err = kapi.Delete(ctx, "/queue", &client.DeleteOptions{Recursive: true}); err != nil || resp.Action != "delete" {
		t.Fatalf("Delete recursive: %+v %v", resp, err)
	}
	if _, err := kapi.Get(ctx, queue[0], nil); !client.IsKeyNotFound(err) {
		t.Fatalf("Get under a recursively deleted dir: %v", err)
	}

	// NoValueOnSuccess: the answer is the event without its nodes (an
	// empty body made the client fail with "response body is empty").
	nv := &client.SetOptions{NoValueOnSuccess: true}
	if resp, err = kapi.Set(ctx, "/app/nv", "v1", nv); err != nil || resp.Action != "set" || resp.Node != nil || resp.Index == 0 {
		t.Fatalf("Set with NoValueOnSuccess: %+v %v", resp, err)
	}
	nv.PrevValue = "v1"
	if resp, err = kapi.Set(ctx, "/app/nv", "v2", nv); err != nil || resp.Action != "compareAndSwap" || resp.Node != nil || resp.PrevNode != nil {
		t.Fatalf("compare-and-swap with NoValueOnSuccess: %+v %v", resp, err)
	}
	if resp, err = kapi.Get(ctx, "/app/nv", nil); err != nil || resp.Node.Value != "v2" {
		t.Fatalf("Get after NoValueOnSuccess sets: %+v %v", resp, err)
	}
	ms, err := client.NewMembersAPI(c).List(ctx)
	if err != nil || len(ms) != 1 || ms[0].Name != "default" || !slices.Equal(ms[0].ClientURLs, []string{m.url}) {
		t.Fatalf("MembersAPI.List: %+v %v (want one member named default at %s)", ms, err, m.url)
	}
}

// TestV2GoClientCluster: the Go v2 client against a 3-member cluster of
// binaries. Sync discovers every member's published client URL from one
// endpoint; a write through one member is read and watched through another;
// the client with every endpoint survives a member's death.
func TestV2GoClientCluster(t *testing.T) {
	c := startCluster(t, 3)
	c.waitPublished(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var urls []string
	for _, m := range c.members {
		urls = append(urls, m.url)
	}
	slices.Sort(urls)

	// Member discovery from one endpoint, both selection modes (the
	// leader-first one asks /v2/members/leader too).
	for _, mode := range []client.EndpointSelectionMode{client.EndpointSelectionRandom, client.EndpointSelectionPrioritizeLeader} {
		one := v2Client(t, mode, c.members[2].url)
		if err := one.Sync(ctx); err != nil {
			t.Fatalf("Sync (mode %d): %v", mode, err)
		}
		if eps := slices.Sorted(slices.Values(one.Endpoints())); !slices.Equal(eps, urls) {
			t.Fatalf("endpoints after Sync (mode %d): %q, want the members' client URLs %q", mode, eps, urls)
		}
	}

	ms, err := client.NewMembersAPI(v2Client(t, client.EndpointSelectionRandom, urls...)).List(ctx)
	if err != nil || len(ms) != 3 {
		t.Fatalf("MembersAPI.List: %+v %v", ms, err)
	}
	for _, cm := range c.members {
		i := slices.IndexFunc(ms, func(x client.Member) bool { return x.Name == cm.name })
		if i < 0 || !slices.Equal(ms[i].ClientURLs, []string{cm.url}) || !slices.Equal(ms[i].PeerURLs, []string{cm.peerURL}) {
			t.Fatalf("MembersAPI.List: %+v, want %s with client URL %s and peer URL %s", ms, cm.name, cm.url, cm.peerURL)
		}
	}

	writer := client.NewKeysAPI(v2Client(t, client.EndpointSelectionRandom, c.members[0].url))
	reader := client.NewKeysAPI(v2Client(t, client.EndpointSelectionRandom, c.members[1].url))
	set, err := writer.Set(ctx, "/svc/a", "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := reader.Get(ctx, "/svc/a", &client.GetOptions{Quorum: true}); err != nil || r.Node.Value != "1" ||
		r.Node.ModifiedIndex != set.Node.ModifiedIndex {
		t.Fatalf("quorum Get through another member: %+v %v", r, err)
	}
	w := reader.Watcher("/svc", &client.WatcherOptions{AfterIndex: set.Index - 1, Recursive: true})
	if r, err := w.Next(ctx); err != nil || r.Action != "set" || r.Node.Key != "/svc/a" || r.Node.ModifiedIndex != set.Index {
		t.Fatalf("watch from history through another member: %+v %v", r, err)
	}
	upd, err := writer.Update(ctx, "/svc/a", "2")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := w.Next(ctx); err != nil || r.Action != "update" || r.Node.Value != "2" || r.Node.ModifiedIndex != upd.Index {
		t.Fatalf("watch of a write through another member: %+v %v", r, err)
	}

	// Every endpoint: a killed follower is skipped.
	all := client.NewKeysAPI(v2Client(t, client.EndpointSelectionRandom, urls...))
	lead := c.leader()
	victim := c.pickOther(lead)
	victim.kill9()
	for i := 0; i < 6; i++ { // whichever endpoint the client pinned
		v := strconv.Itoa(i)
		if _, err := all.Set(ctx, "/svc/b", v, nil); err != nil {
			t.Fatalf("Set with %s dead: %v", victim.name, err)
		}
		if r, err := all.Get(ctx, "/svc/b", &client.GetOptions{Quorum: true}); err != nil || r.Node.Value != v {
			t.Fatalf("Get with %s dead: %+v %v", victim.name, r, err)
		}
	}
}
