package membership

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// Member is one member as the cluster records it. The same JSON is the
// Context of the raft configuration change that adds or updates the member.
type Member struct {
	ID         uint64   `json:"id"`
	Name       string   `json:"name,omitempty"`
	PeerURLs   []string `json:"peer_urls"`
	ClientURLs []string `json:"client_urls,omitempty"`
	IsLearner  bool     `json:"is_learner,omitempty"`
}

// Clone returns a deep copy of m.
func (m *Member) Clone() *Member {
	c := *m
	c.PeerURLs = slices.Clone(m.PeerURLs)
	c.ClientURLs = slices.Clone(m.ClientURLs)
	return &c
}

// File is the on-disk form of the cluster state, <data-dir>/cluster.json.
type File struct {
	// Index is the raft index of the newest change in the file.
	Index   uint64    `json:"index"`
	Members []*Member `json:"members"`
	// Removed lists the ids of removed members, which may never come back.
	Removed []uint64 `json:"removed,omitempty"`
	// Alarms lists the raised alarms.
	Alarms []Alarm `json:"alarms,omitempty"`
}

// Alarm is one raised alarm of one member (etcd's AlarmMember).
type Alarm struct {
	MemberID uint64 `json:"member_id"`
	Type     string `json:"alarm"`
}

// Cluster is the replicated cluster state that is not in the store: the
// members with their URLs, the removed ids and the alarms. The applier
// changes it, in log order, from configuration-change entries and from
// member-attribute and alarm requests; anyone may read it.
//
// Every change is idempotent given the changes after it, so the state may
// run ahead of the raft log's replay after a restart (it is saved when a
// change is applied, and raft re-delivers every entry after its latest
// snapshot): replaying the entries after the snapshot on top of a newer
// state ends in the same state.
type Cluster struct {
	mu      sync.RWMutex
	path    string
	index   uint64
	members map[uint64]*Member
	removed map[uint64]bool
	alarms  []Alarm
}

// FileName is the name of the cluster state's file in the data dir.
const FileName = "cluster.json"

// New returns an empty cluster state kept in dataDir/FileName; Load reads
// what is saved there.
func New(dataDir string) *Cluster {
	return &Cluster{
		path:    filepath.Join(dataDir, FileName),
		members: map[uint64]*Member{},
		removed: map[uint64]bool{},
	}
}

// Load reads the saved state; a missing file is an empty cluster.
func (c *Cluster) Load() error {
	data, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.Restore(data)
}

// Restore replaces the state with an encoded File.
func (c *Cluster) Restore(data []byte) error {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("cluster state %s: %w", c.path, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index = f.Index
	c.members = map[uint64]*Member{}
	for _, m := range f.Members {
		c.members[m.ID] = m
	}
	c.removed = map[uint64]bool{}
	for _, id := range f.Removed {
		c.removed[id] = true
	}
	c.alarms = f.Alarms
	return nil
}

// Encode returns the state as a File.
func (c *Cluster) Encode() []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	f := File{Index: c.index, Alarms: c.alarms}
	for _, m := range c.members {
		f.Members = append(f.Members, m)
	}
	sort.Slice(f.Members, func(i, j int) bool { return f.Members[i].ID < f.Members[j].ID })
	for id := range c.removed {
		f.Removed = append(f.Removed, id)
	}
	slices.Sort(f.Removed)
	data, _ := json.Marshal(&f)
	return data
}

// Save writes the state durably: a temporary file, fsynced, renamed over
// cluster.json, and the directory fsynced.
func (c *Cluster) Save() error {
	return fsutil.WriteFileAtomic(c.path, c.Encode(), 0o600)
}

// Get returns a copy of member id, or nil.
func (c *Cluster) Get(id uint64) *Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if m := c.members[id]; m != nil {
		return m.Clone()
	}
	return nil
}

// List returns copies of the members, by id.
func (c *Cluster) List() []*Member {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Member, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, m.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IsRemoved reports whether id belonged to a member that was removed (ids
// are never reused).
func (c *Cluster) IsRemoved(id uint64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.removed[id]
}

// ApplyConfChange records one committed configuration change at raft index
// index and reports what it did to whom. A change is applied as it is: the
// proposer validated it, and raft applies it unconditionally too.
func (c *Cluster) ApplyConfChange(index uint64, cc raftpb.ConfChange) (changed *Member, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index = max(c.index, index)
	switch cc.Type {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		m, err := DecodeMemberContext(cc)
		if err != nil {
			return nil, err
		}
		m.IsLearner = cc.Type == raftpb.ConfChangeAddLearnerNode
		if old := c.members[m.ID]; old != nil {
			// A learner's promotion, or a replay: keep what the member
			// published about itself.
			if m.Name == "" {
				m.Name = old.Name
			}
			m.ClientURLs = old.ClientURLs
		}
		delete(c.removed, m.ID)
		c.members[m.ID] = m
		return m.Clone(), nil
	case raftpb.ConfChangeRemoveNode:
		m := c.members[cc.NodeID]
		delete(c.members, cc.NodeID)
		c.removed[cc.NodeID] = true
		if m == nil {
			m = &Member{ID: cc.NodeID}
		}
		return m.Clone(), nil
	case raftpb.ConfChangeUpdateNode:
		u, err := DecodeMemberContext(cc)
		if err != nil {
			return nil, err
		}
		m := c.members[cc.NodeID]
		if m == nil {
			return nil, nil // removed since: nothing to update
		}
		m.PeerURLs = u.PeerURLs
		return m.Clone(), nil
	}
	return nil, fmt.Errorf("unknown configuration change type %v", cc.Type)
}

// DecodeMemberContext reads the member a configuration change carries; its
// id is the change's NodeID.
func DecodeMemberContext(cc raftpb.ConfChange) (*Member, error) {
	var m Member
	if len(cc.Context) > 0 {
		if err := json.Unmarshal(cc.Context, &m); err != nil {
			return nil, fmt.Errorf("configuration change for %x: bad context: %w", cc.NodeID, err)
		}
	}
	m.ID = cc.NodeID
	return &m, nil
}

// SetAttributes records what a member published about itself. A member
// that is gone is ignored.
func (c *Cluster) SetAttributes(index uint64, a *Attributes) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index = max(c.index, index)
	m := c.members[a.ID]
	if m == nil {
		return false
	}
	m.Name = a.Name
	m.ClientURLs = slices.Clone(a.ClientURLs)
	return true
}

// Ensure adds m if the cluster does not know it yet (a data dir from before
// the cluster state was saved knows only itself).
func (c *Cluster) Ensure(m *Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members[m.ID] == nil && !c.removed[m.ID] {
		c.members[m.ID] = m.Clone()
	}
}

// PeerURLs returns the peer URLs of member id, nil if unknown.
func (c *Cluster) PeerURLs(id uint64) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if m := c.members[id]; m != nil {
		return slices.Clone(m.PeerURLs)
	}
	return nil
}

// Attributes is what a member publishes about itself through raft
// after it starts (etcd's "publish"): its name and client URLs.
type Attributes struct {
	ID         uint64   `json:"id"`
	Name       string   `json:"name"`
	ClientURLs []string `json:"client_urls"`
}
