package httpapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	client "go.etcd.io/etcd/client/v2"

	"github.com/cairnkv/cairn/httpapi"
)

// TestV2GoClient drives a real member with etcd's own Go v2 client
// (go.etcd.io/etcd/client/v2), unchanged: KeysAPI writes, reads, typed
// errors, dirs, in-order keys, TTL and refresh, a watcher, MembersAPI.
func TestV2GoClient(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	c, err := client.New(client.Config{Endpoints: []string{ts.URL}, Transport: client.DefaultTransport})
	if err != nil {
		t.Fatal(err)
	}
	kapi := client.NewKeysAPI(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := func(err error) int {
		var e client.Error
		if errors.As(err, &e) {
			return e.Code
		}
		return -1
	}

	resp, err := kapi.Set(ctx, "/app/db", "h1", nil)
	if err != nil || resp.Action != "set" || resp.Node.Value != "h1" || resp.Index != resp.Node.ModifiedIndex {
		t.Fatalf("Set: %+v %v", resp, err)
	}
	first := resp.Node.ModifiedIndex
	if _, err := kapi.Create(ctx, "/app/db", "again"); code(err) != client.ErrorCodeNodeExist {
		t.Fatalf("Create over a file: %v", err)
	}
	if resp, err = kapi.Update(ctx, "/app/db", "h2"); err != nil || resp.Action != "update" || resp.PrevNode.Value != "h1" {
		t.Fatalf("Update: %+v %v", resp, err)
	}
	if _, err := kapi.Set(ctx, "/app/db", "x", &client.SetOptions{PrevValue: "nope"}); code(err) != client.ErrorCodeTestFailed {
		t.Fatalf("Set with a wrong PrevValue: %v", err)
	}
	if resp, err = kapi.Set(ctx, "/app/db", "h3", &client.SetOptions{PrevIndex: resp.Node.ModifiedIndex}); err != nil || resp.Action != "compareAndSwap" {
		t.Fatalf("Set with PrevIndex: %+v %v", resp, err)
	}
	if _, err := kapi.Set(ctx, "/app/new", "v", &client.SetOptions{PrevExist: client.PrevExist}); code(err) != client.ErrorCodeKeyNotFound {
		t.Fatalf("Set PrevExist of a missing key: %v", err)
	}
	if _, err := kapi.Set(ctx, "/app/dir", "", &client.SetOptions{Dir: true}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"j1", "j2"} {
		if _, err := kapi.CreateInOrder(ctx, "/queue", v, nil); err != nil {
			t.Fatal(err)
		}
	}
	resp, err = kapi.Get(ctx, "/queue", &client.GetOptions{Sort: true})
	if err != nil || !resp.Node.Dir || len(resp.Node.Nodes) != 2 || resp.Node.Nodes[0].Value != "j1" || resp.Node.Nodes[1].Value != "j2" {
		t.Fatalf("Get of the queue: %+v %v", resp, err)
	}
	resp, err = kapi.Get(ctx, "/", &client.GetOptions{Recursive: true, Sort: true})
	if err != nil || len(resp.Node.Nodes) != 2 || resp.Node.Nodes[0].Key != "/app" || len(resp.Node.Nodes[0].Nodes) != 2 {
		t.Fatalf("Get / recursive: %+v %v", resp, err)
	}

	// TTL and refresh.
	if resp, err = kapi.Set(ctx, "/lock", "me", &client.SetOptions{TTL: 30 * time.Second}); err != nil || resp.Node.TTL < 29 || resp.Node.Expiration == nil {
		t.Fatalf("Set with TTL: %+v %v", resp.Node, err)
	}
	if resp, err = kapi.Set(ctx, "/lock", "", &client.SetOptions{TTL: 60 * time.Second, Refresh: true, PrevExist: client.PrevExist}); err != nil || resp.Node.Value != "me" || resp.Node.TTL < 59 {
		t.Fatalf("refresh: %+v %v", resp, err)
	}

	// A watcher after an index sees the history, then live changes.
	w := kapi.Watcher("/app", &client.WatcherOptions{AfterIndex: first - 1, Recursive: true})
	if resp, err = w.Next(ctx); err != nil || resp.Action != "set" || resp.Node.Key != "/app/db" || resp.Node.Value != "h1" {
		t.Fatalf("watch from history: %+v %v", resp, err)
	}
	live := kapi.Watcher("/app/db", nil)
	done := make(chan *client.Response, 1)
	go func() {
		r, err := live.Next(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	// The watcher's request is in flight or not yet sent; keep writing
	// until it sees a write (it sees the first one after it registered).
	var got *client.Response
	for got == nil {
		if _, err := kapi.Set(ctx, "/app/db", "live", nil); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-done:
		case <-time.After(50 * time.Millisecond): // then write again
		}
	}
	if got == nil || got.Action != "set" || got.Node.Value != "live" {
		t.Fatalf("live watch: %+v", got)
	}

	if _, err := kapi.Delete(ctx, "/app", &client.DeleteOptions{Dir: true}); code(err) != client.ErrorCodeDirNotEmpty {
		t.Fatalf("Delete of a non-empty dir: %v", err)
	}
	if resp, err = kapi.Delete(ctx, "/app", &client.DeleteOptions{Recursive: true}); err != nil || resp.Action != "delete" {
		t.Fatalf("Delete recursive: %+v %v", resp, err)
	}
	if _, err := kapi.Get(ctx, "/app/db", nil); !client.IsKeyNotFound(err) {
		t.Fatalf("Get after delete: %v", err)
	}

	ms, err := client.NewMembersAPI(c).List(ctx)
	if err != nil || len(ms) != 1 || ms[0].Name != "default" {
		t.Fatalf("MembersAPI.List: %+v %v", ms, err)
	}
}
