package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
)

// A member that was away while users and roles changed, and catches up
// through a snapshot, has them: they live in the store file that the
// snapshot is. A token made by the leader after that works on it.
func TestClusterAuthAfterSnapshotCatchUp(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotCount = 50
		cfg.SnapshotCatchUpEntries = 10
		cfg.Auth.BcryptCost = 4
	})
	ctx := context.Background()
	lead := c.waitLeader()
	lag := c.followerOf(lead)
	lag.stop()

	s := lead.server()
	steps := []func() (*cairn.AuthResponse, error){
		func() (*cairn.AuthResponse, error) { return s.UserAdd(ctx, "root", "rootpw", cairn.UserAddOptions{}) },
		func() (*cairn.AuthResponse, error) { return s.UserGrantRole(ctx, "root", "root") },
		func() (*cairn.AuthResponse, error) { return s.UserAdd(ctx, "alice", "apw", cairn.UserAddOptions{}) },
		func() (*cairn.AuthResponse, error) { return s.RoleAdd(ctx, "app") },
		func() (*cairn.AuthResponse, error) {
			return s.RoleGrantPermission(ctx, "app", &cairn.Permission{PermType: cairn.PermRead, Key: []byte("/app/"), RangeEnd: []byte("/app0")})
		},
		func() (*cairn.AuthResponse, error) { return s.UserGrantRole(ctx, "alice", "app") },
		func() (*cairn.AuthResponse, error) { return s.AuthEnable(ctx) },
	}
	for i, step := range steps {
		if _, err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	for i := 0; i < 300; i++ {
		c.put(lead, fmt.Sprintf("k%03d", i), "v")
	}
	waitFor(t, "the leader to compact its log", func() bool {
		first, _ := s.wal.FirstIndex()
		return first > 100
	})
	lag.start(nil, "new")
	waitFor(t, "the member to catch up through a snapshot", func() bool {
		r, err := lag.server().Range(ctx, &cairn.RangeRequest{Key: []byte("k299"), Serializable: true})
		return err == nil && len(r.Kvs) == 1 && strings.Contains(lag.logs.String(), "snapshot installed")
	})
	ls := lag.server()
	if !ls.AuthEnabled() {
		t.Fatal("auth is off on the member that caught up")
	}
	if users, _ := ls.UserList(ctx); !slices.Equal(users.Users, []string{"alice", "root"}) {
		t.Errorf("users %v", users.Users)
	}
	alice, err := ls.AuthInfoFromPassword("alice", "apw")
	if err != nil {
		t.Fatalf("alice's password on the member that caught up: %v", err)
	}
	if err := ls.CheckPermitted(alice, cairn.PermRead, []byte("/app/x"), nil); err != nil {
		t.Errorf("alice reading /app/x: %v", err)
	}
	if err := ls.CheckPermitted(alice, cairn.PermWrite, []byte("/app/x"), nil); err == nil {
		t.Error("alice may write /app/x, which her role only lets her read")
	}
	tok, err := s.Authenticate(ctx, "alice", "apw")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the leader's token to work on the member that caught up", func() bool {
		info, err := ls.AuthInfoFromToken(tok.Token)
		return err == nil && info.User == "alice"
	})
}
