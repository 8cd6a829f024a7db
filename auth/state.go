package auth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// State is one member's auth state: the enabled flag, the auth revision,
// the users and the roles, as the applied raft log left them. The applier
// changes it (Apply) in log order; every other method reads it and is safe
// for concurrent use. Tokens are a member's own (tokens.go), kept beside.
type State struct {
	mu       sync.RWMutex
	enabled  bool
	revision uint64
	users    map[string]*user
	roles    map[string]*role

	tokens TokenProvider
	// changed is closed, and replaced, at every change (AuthChanged).
	changed chan struct{}
}

// user is a user's record, as auth/doc.go shows its JSON.
type user struct {
	Name       string   `json:"name"`
	Hash       []byte   `json:"hash,omitempty"`
	Roles      []string `json:"roles,omitempty"` // sorted
	NoPassword bool     `json:"no_password,omitempty"`
	// PasswordRevision is the auth revision at which the user was added or
	// its password last changed: a token made before it is stale.
	PasswordRevision uint64 `json:"password_revision"`
}

// role is a role's record: its permissions, sorted by key then range end.
type role struct {
	Name  string             `json:"name"`
	Perms []cairn.Permission `json:"perms,omitempty"`
}

// Meta keys of the auth table store.AuthMeta.
var (
	metaEnabled  = []byte("enabled")
	metaRevision = []byte("revision")
)

// Writer is where Apply stages the records it changes: a store batch.
type Writer interface {
	StageAuth(table store.AuthTable, key, value []byte) error
}

// New returns an empty state (auth off, revision 0) whose tokens are
// tokens'.
func New(tokens TokenProvider) *State {
	return &State{users: map[string]*user{}, roles: map[string]*role{}, tokens: tokens, changed: make(chan struct{})}
}

// Load replaces the state with the records of st, a store just opened
// (store.ForEachAuth). Tokens issued before stay valid unless the users'
// records changed (Load compares nothing: a snapshot install is followed by
// InvalidateAll in package server).
func (s *State) Load(st *store.Store) error {
	users := map[string]*user{}
	roles := map[string]*role{}
	var enabled bool
	var rev uint64
	err := st.ForEachAuth(store.AuthMeta, func(k, v []byte) error {
		switch {
		case bytes.Equal(k, metaEnabled):
			enabled = len(v) == 1 && v[0] == 1
		case bytes.Equal(k, metaRevision):
			if len(v) != 8 {
				return fmt.Errorf("auth/revision: %d bytes", len(v))
			}
			rev = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err == nil {
		err = loadRecords(st, store.AuthUsers, users)
	}
	if err == nil {
		err = loadRecords(st, store.AuthRoles, roles)
	}
	if err != nil {
		return fmt.Errorf("auth: loading the state: %w", err)
	}
	s.mu.Lock()
	s.enabled, s.revision, s.users, s.roles = enabled, rev, users, roles
	s.notifyLocked()
	s.mu.Unlock()
	return nil
}

// AuthChanged implements cairn.Authorizer.AuthChanged.
func (s *State) AuthChanged() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

// notifyLocked wakes the waiters of AuthChanged; mu is held.
func (s *State) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// loadRecords decodes every JSON record of an auth table into m, by key.
func loadRecords[T any](st *store.Store, table store.AuthTable, m map[string]*T) error {
	return st.ForEachAuth(table, func(k, v []byte) error {
		rec := new(T)
		if err := json.Unmarshal(v, rec); err != nil {
			return fmt.Errorf("auth table %d, record %q: %w", table, k, err)
		}
		m[string(k)] = rec
		return nil
	})
}

// AuthEnabled reports whether auth is on (cairn.Authorizer).
func (s *State) AuthEnabled() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.enabled
}

// Revision is the auth revision: it grows by one with every change of the
// state (authenticate changes nothing).
func (s *State) Revision() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.revision
}

// Apply makes the change req asks for at raft index index, staging the
// records it changes in w. An error is the request's result: nothing
// changed. A failure of w (a broken batch) is returned wrapped, and the
// in-memory state is left as before.
func (s *State) Apply(w Writer, index uint64, req *Request) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res Result
	var changed []string // users whose tokens end
	var err error
	switch req.Op {
	case OpEnable:
		err = s.enable()
	case OpDisable:
		if s.enabled {
			s.enabled = false
			s.revision++
		}
	case OpAuthenticate:
		// The password was checked by the proposer; the user may have gone
		// since.
		if !s.enabled {
			return res, cairn.ErrAuthNotEnabled
		}
		if s.users[req.Name] == nil {
			return res, cairn.ErrAuthFailed
		}
		if s.tokens != nil {
			res.Token = s.tokens.Assign(req.Token, index, req.Name, s.revision)
		}
		return res, nil
	case OpUserAdd:
		err = s.userAdd(req)
	case OpUserDelete:
		err = s.userDelete(req.Name)
		changed = []string{req.Name}
	case OpUserChangePW:
		u := s.users[req.Name]
		if u == nil {
			return res, cairn.ErrUserNotFound
		}
		nu := *u
		nu.Hash = slices.Clone(req.Hash)
		s.revision++
		nu.PasswordRevision = s.revision
		s.users[u.Name] = &nu
		changed = []string{req.Name}
	case OpUserGrantRole:
		err = s.userGrant(req.Name, req.Role)
	case OpUserRevokeRole:
		err = s.userRevoke(req.Name, req.Role)
	case OpRoleAdd:
		err = s.roleAdd(req.Role)
	case OpRoleDelete:
		err = s.roleDelete(req.Role)
	case OpRoleGrantPerm:
		err = s.roleGrant(req.Role, req.Perm)
	case OpRoleRevokePerm:
		err = s.roleRevoke(req.Role, req.Perm)
	default:
		return res, fmt.Errorf("auth: unknown operation %q", req.Op)
	}
	if err != nil {
		return res, err
	}
	s.notifyLocked()
	for _, name := range changed {
		if s.tokens != nil {
			s.tokens.InvalidateUser(name)
		}
	}
	return res, s.stage(w, req)
}

// stage writes what req changed to w: the meta fields and the records of
// the user or role it named. Called with mu held, after the change.
func (s *State) stage(w Writer, req *Request) error {
	var en byte
	if s.enabled {
		en = 1
	}
	if err := w.StageAuth(store.AuthMeta, metaEnabled, []byte{en}); err != nil {
		return err
	}
	if err := w.StageAuth(store.AuthMeta, metaRevision, binary.BigEndian.AppendUint64(nil, s.revision)); err != nil {
		return err
	}
	switch req.Op {
	case OpUserAdd, OpUserDelete, OpUserChangePW, OpUserGrantRole, OpUserRevokeRole:
		return s.stageUser(w, req.Name)
	case OpRoleAdd, OpRoleGrantPerm, OpRoleRevokePerm:
		return s.stageRole(w, req.Role)
	case OpRoleDelete:
		if err := s.stageRole(w, req.Role); err != nil {
			return err
		}
		// The users that held the role lost it.
		for _, name := range slices.Sorted(maps.Keys(s.users)) {
			if err := s.stageUser(w, name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *State) stageUser(w Writer, name string) error {
	u := s.users[name]
	if u == nil {
		return w.StageAuth(store.AuthUsers, []byte(name), nil)
	}
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return w.StageAuth(store.AuthUsers, []byte(name), b)
}

func (s *State) stageRole(w Writer, name string) error {
	r := s.roles[name]
	if r == nil {
		return w.StageAuth(store.AuthRoles, []byte(name), nil)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return w.StageAuth(store.AuthRoles, []byte(name), b)
}
