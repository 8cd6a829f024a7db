package server

import (
	"context"
	"fmt"
	"slices"

	"github.com/cairnkv/cairn"
)

// Alarms, as etcd's: a member raises NOSPACE when a write would take its
// store past --quota-backend-bytes; while any NOSPACE alarm is raised, every
// member refuses writes that take space (puts, transactions, lease grants)
// with cairn.ErrNoSpace, until an operator compacts, defragments and
// deactivates the alarm. Alarms live in the cluster state: raised and
// cleared through raft, so every member has the same list.

// alarmRequest is the raft entry of an alarm change.
type alarmRequest struct {
	Action   int32  `json:"action"` // cairn.AlarmActivate or AlarmDeactivate
	MemberID uint64 `json:"member_id"`
	Type     int32  `json:"type"` // cairn.AlarmNoSpace...
}

func alarmName(t int32) string {
	if t >= 0 && int(t) < len(cairn.AlarmTypeNames) {
		return cairn.AlarmTypeNames[t]
	}
	return fmt.Sprint(t)
}

func alarmType(name string) int32 {
	for i, n := range cairn.AlarmTypeNames {
		if n == name {
			return int32(i)
		}
	}
	return 0
}

// applyAlarm changes the alarm list and returns the alarm it changed (none
// if nothing changed), as etcd answers an activate or deactivate.
func (c *cluster) applyAlarm(index uint64, a *alarmRequest) []alarm {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index = max(c.index, index)
	x := alarm{MemberID: a.MemberID, Type: alarmName(a.Type)}
	i := slices.Index(c.alarms, x)
	switch a.Action {
	case cairn.AlarmActivate:
		if i >= 0 {
			return nil
		}
		c.alarms = append(c.alarms, x)
		return []alarm{x}
	case cairn.AlarmDeactivate:
		if i < 0 {
			return nil
		}
		c.alarms = slices.Delete(slices.Clone(c.alarms), i, i+1)
		return []alarm{x}
	}
	return nil
}

// alarmList returns the raised alarms.
func (c *cluster) alarmList() []alarm {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.alarms)
}

// noSpace reports whether any member raised NOSPACE.
func (c *cluster) noSpace() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, a := range c.alarms {
		if a.Type == "NOSPACE" {
			return true
		}
	}
	return false
}

// Alarm gets, raises or clears alarms (cairn.MaintenanceOps).
func (s *Server) Alarm(ctx context.Context, action int32, am cairn.AlarmMember) ([]cairn.AlarmMember, error) {
	var out []alarm
	switch action {
	case cairn.AlarmGet:
		out = s.cluster.alarmList()
	case cairn.AlarmActivate, cairn.AlarmDeactivate:
		r, err := s.propose(ctx, &request{Alarm: &alarmRequest{Action: action, MemberID: am.MemberID, Type: am.Alarm}})
		if err != nil {
			return nil, err
		}
		out = r.alarms
	default:
		return nil, fmt.Errorf("unknown alarm action %d", action)
	}
	res := make([]cairn.AlarmMember, 0, len(out))
	for _, a := range out {
		res = append(res, cairn.AlarmMember{MemberID: a.MemberID, Alarm: alarmType(a.Type)})
	}
	return res, nil
}

// alarmErrors are the status "errors" of the raised alarms, as etcd prints
// them.
func (s *Server) alarmErrors() []string {
	var out []string
	for _, a := range s.cluster.alarmList() {
		out = append(out, cairn.AlarmString(cairn.AlarmMember{MemberID: a.MemberID, Alarm: alarmType(a.Type)}))
	}
	return out
}

// checkSpace refuses a write that takes space while NOSPACE is raised, or
// that would take the store past the quota; the latter raises NOSPACE for
// this member (once; in the background).
func (s *Server) checkSpace(req *request, size int) error {
	if !req.takesSpace() {
		return nil
	}
	if s.cluster.noSpace() {
		return cairn.ErrNoSpace
	}
	if q := s.cfg.QuotaBackendBytes; q > 0 && s.storeSize()+int64(size) > q {
		s.raiseNoSpace()
		return cairn.ErrNoSpace
	}
	return nil
}

func (s *Server) raiseNoSpace() {
	if !s.raising.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.raising.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.requestTimeout())
		defer cancel()
		s.log.Warn("store over its quota; raising the NOSPACE alarm", "quota_bytes", s.cfg.QuotaBackendBytes, "size_bytes", s.storeSize())
		if _, err := s.propose(ctx, &request{Alarm: &alarmRequest{Action: cairn.AlarmActivate, MemberID: s.memberID, Type: cairn.AlarmNoSpace}}); err != nil {
			s.log.Warn("raising the NOSPACE alarm", "err", err)
		}
	}()
}

// storeSize is the store's Size (its file's high-water mark, as etcd's quota
// measures), read under storeMu.
func (s *Server) storeSize() int64 {
	s.storeMu.RLock()
	defer s.storeMu.RUnlock()
	return s.store.Size()
}
