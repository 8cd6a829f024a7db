package server

import (
	"context"
	"fmt"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/membership"
)

// Alarm gets, raises or clears alarms (cairn.MaintenanceOps).
func (s *Server) Alarm(ctx context.Context, action int32, am cairn.AlarmMember) ([]cairn.AlarmMember, error) {
	if am.Alarm < 0 || int(am.Alarm) >= len(cairn.AlarmTypeNames) {
		return nil, fmt.Errorf("unknown alarm type %d", am.Alarm)
	}
	var out []membership.Alarm
	switch action {
	case cairn.AlarmGet:
		out = s.cluster.AlarmList()
	case cairn.AlarmActivate, cairn.AlarmDeactivate:
		r, err := s.propose(ctx, &entry.Request{Alarm: &membership.AlarmRequest{Action: action, MemberID: am.MemberID, Type: am.Alarm}})
		if err != nil {
			return nil, err
		}
		out = r.alarms
	default:
		return nil, fmt.Errorf("unknown alarm action %d", action)
	}
	res := make([]cairn.AlarmMember, 0, len(out))
	for _, a := range out {
		res = append(res, cairn.AlarmMember{MemberID: a.MemberID, Alarm: membership.AlarmType(a.Type)})
	}
	return res, nil
}

// alarmErrors are the status "errors" of the raised alarms, as etcd prints
// them.
func (s *Server) alarmErrors() []string {
	var out []string
	for _, a := range s.cluster.AlarmList() {
		out = append(out, cairn.AlarmString(cairn.AlarmMember{MemberID: a.MemberID, Alarm: membership.AlarmType(a.Type)}))
	}
	return out
}

// checkSpace refuses a write that takes space while NOSPACE is raised, or
// that would take the store past the quota; the latter raises NOSPACE for
// this member (once; in the background).
func (s *Server) checkSpace(req *entry.Request, size int) error {
	if !req.TakesSpace() {
		return nil
	}
	if s.cluster.NoSpace() {
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
		if _, err := s.propose(ctx, &entry.Request{Alarm: &membership.AlarmRequest{Action: cairn.AlarmActivate, MemberID: s.memberID, Type: cairn.AlarmNoSpace}}); err != nil {
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
