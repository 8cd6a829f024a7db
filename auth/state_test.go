package auth

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// mustStore opens a real store in a temp dir.
func mustStore(tb testing.TB, path string) *store.Store {
	tb.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// applier applies requests to a state and a store, one batch each, at
// growing raft indexes.
type applier struct {
	tb    testing.TB
	st    *store.Store
	s     *State
	index uint64
}

func (a *applier) apply(req *Request) (Result, error) {
	a.tb.Helper()
	a.index++
	b := a.st.Begin()
	res, err := a.s.Apply(b, a.index, req)
	if cerr := b.Commit(a.index); cerr != nil {
		a.tb.Fatal(cerr)
	}
	return res, err
}

func (a *applier) must(req *Request) Result {
	a.tb.Helper()
	res, err := a.apply(req)
	if err != nil {
		a.tb.Fatalf("%s: %v", req.Op, err)
	}
	return res
}

func hash(tb testing.TB, pw string) []byte {
	h, err := HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// etcd 3.4's rules for the root user and role, observed side by side.
func TestRootRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	a := &applier{tb: t, st: mustStore(t, path), s: New(NewSimpleTokens(0, nil))}
	defer a.st.Close()
	if _, err := a.apply(&Request{Op: OpEnable}); !errors.Is(err, cairn.ErrRootUserNotExist) {
		t.Fatalf("enable without root: %v", err)
	}
	a.must(&Request{Op: OpUserAdd, Name: "root", Hash: hash(t, "pw")})
	if _, err := a.apply(&Request{Op: OpEnable}); !errors.Is(err, cairn.ErrRootRoleNotExist) {
		t.Fatalf("enable without the root role: %v", err)
	}
	// The root role is granted without being added.
	a.must(&Request{Op: OpUserGrantRole, Name: "root", Role: "root"})
	a.must(&Request{Op: OpEnable})
	a.must(&Request{Op: OpEnable}) // twice: no error
	for _, req := range []*Request{
		{Op: OpUserDelete, Name: "root"},
		{Op: OpUserRevokeRole, Name: "root", Role: "root"},
		{Op: OpRoleDelete, Role: "root"},
	} {
		if _, err := a.apply(req); !errors.Is(err, cairn.ErrInvalidAuthMgmt) {
			t.Errorf("%s while enabled: %v, want %v", req.Op, err, cairn.ErrInvalidAuthMgmt)
		}
	}
	if err := a.s.CheckAdmin(cairn.AuthInfo{User: "root"}); err != nil {
		t.Errorf("root is not admin: %v", err)
	}
	if err := a.s.CheckPermitted(cairn.AuthInfo{User: "root"}, cairn.PermWrite, []byte("any"), []byte("\x00")); err != nil {
		t.Errorf("root may not write everything: %v", err)
	}
	if err := a.s.CheckPermitted(cairn.AuthInfo{}, cairn.PermRead, []byte("k"), nil); !errors.Is(err, cairn.ErrUserEmpty) {
		t.Errorf("no user: %v", err)
	}
}

// Users and roles survive a restart: they are records of the store file,
// written with their batch.
func TestStateSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	a := &applier{tb: t, st: mustStore(t, path), s: New(nil)}
	a.must(&Request{Op: OpUserAdd, Name: "root", Hash: hash(t, "rootpw")})
	a.must(&Request{Op: OpUserGrantRole, Name: "root", Role: "root"})
	a.must(&Request{Op: OpUserAdd, Name: "alice", Hash: hash(t, "apw")})
	a.must(&Request{Op: OpRoleAdd, Role: "r1"})
	a.must(&Request{Op: OpRoleGrantPerm, Role: "r1", Perm: &cairn.Permission{PermType: cairn.PermRead, Key: []byte("a"), RangeEnd: []byte("b")}})
	a.must(&Request{Op: OpRoleGrantPerm, Role: "r1", Perm: &cairn.Permission{PermType: cairn.PermWrite, Key: []byte("a"), RangeEnd: []byte("b")}})
	a.must(&Request{Op: OpUserGrantRole, Name: "alice", Role: "r1"})
	a.must(&Request{Op: OpEnable})
	rev := a.s.Revision()
	if err := a.st.Close(); err != nil {
		t.Fatal(err)
	}

	st := mustStore(t, path)
	defer st.Close()
	s := New(nil)
	if err := s.Load(st); err != nil {
		t.Fatal(err)
	}
	if !s.AuthEnabled() || s.Revision() != rev {
		t.Errorf("after reopen: enabled %v revision %d, want true %d", s.AuthEnabled(), s.Revision(), rev)
	}
	if got := s.UserList(); !slices.Equal(got, []string{"alice", "root"}) {
		t.Errorf("users %v", got)
	}
	perms, err := s.RoleGet("r1")
	if err != nil || len(perms) != 1 || perms[0].PermType != cairn.PermWrite {
		t.Errorf("r1's permissions %+v, %v: want one WRITE on [a, b) (the second grant changed the type)", perms, err)
	}
	if err := s.CheckPassword("alice", "apw"); err != nil {
		t.Errorf("alice's password: %v", err)
	}
	if err := s.CheckPermitted(cairn.AuthInfo{User: "alice"}, cairn.PermWrite, []byte("a1"), nil); err != nil {
		t.Errorf("alice writing a1: %v", err)
	}
	if err := s.CheckPermitted(cairn.AuthInfo{User: "alice"}, cairn.PermRead, []byte("a1"), nil); !errors.Is(err, cairn.ErrPermissionDenied) {
		t.Errorf("alice reading a1: %v, want denied", err)
	}
}

// A password change or a deletion ends the user's tokens; the token's TTL
// is renewed by each use.
func TestTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "db")
	a := &applier{tb: t, st: mustStore(t, path), s: New(NewSimpleTokens(10*time.Second, clock))}
	defer a.st.Close()
	a.must(&Request{Op: OpUserAdd, Name: "root", Hash: hash(t, "rootpw")})
	a.must(&Request{Op: OpUserGrantRole, Name: "root", Role: "root"})
	a.must(&Request{Op: OpUserAdd, Name: "alice", Hash: hash(t, "apw")})
	if _, err := a.apply(&Request{Op: OpAuthenticate, Name: "alice", Token: "x"}); !errors.Is(err, cairn.ErrAuthNotEnabled) {
		t.Fatalf("authenticate while off: %v", err)
	}
	a.must(&Request{Op: OpEnable})
	tok := a.must(&Request{Op: OpAuthenticate, Name: "alice", Token: "abcdefghijklmnop"}).Token
	if want := "abcdefghijklmnop.6"; tok != want {
		t.Fatalf("token %q, want %q (etcd's <random>.<raft index>)", tok, want)
	}
	for range 3 {
		now = now.Add(8 * time.Second) // within the TTL of the last use
		if info, err := a.s.AuthInfoFromToken(tok); err != nil || info.User != "alice" {
			t.Fatalf("token after 8s: %+v %v", info, err)
		}
	}
	now = now.Add(11 * time.Second)
	if _, err := a.s.AuthInfoFromToken(tok); !errors.Is(err, cairn.ErrInvalidAuthToken) {
		t.Fatalf("expired token: %v", err)
	}
	tok = a.must(&Request{Op: OpAuthenticate, Name: "alice", Token: "bbbbbbbbbbbbbbbb"}).Token
	rootTok := a.must(&Request{Op: OpAuthenticate, Name: "root", Token: "cccccccccccccccc"}).Token
	a.must(&Request{Op: OpUserChangePW, Name: "alice", Hash: hash(t, "new")})
	if _, err := a.s.AuthInfoFromToken(tok); !errors.Is(err, cairn.ErrInvalidAuthToken) {
		t.Errorf("token after a password change: %v", err)
	}
	if _, err := a.s.AuthInfoFromToken(rootTok); err != nil {
		t.Errorf("another user's token after alice's password change: %v", err)
	}
	tok = a.must(&Request{Op: OpAuthenticate, Name: "alice", Token: "dddddddddddddddd"}).Token
	a.must(&Request{Op: OpUserDelete, Name: "alice"})
	if _, err := a.s.AuthInfoFromToken(tok); !errors.Is(err, cairn.ErrInvalidAuthToken) {
		t.Errorf("token after the user's deletion: %v", err)
	}
	for _, bad := range []string{"", "garbage", rootTok + "x", string(make([]byte, 1<<20))} {
		if _, err := a.s.AuthInfoFromToken(bad); !errors.Is(err, cairn.ErrInvalidAuthToken) {
			t.Errorf("token %.20q: %v", bad, err)
		}
	}
}
