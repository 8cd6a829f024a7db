package membership

import (
	"fmt"
	"slices"

	"github.com/cairnkv/cairn"
)

// AlarmRequest is the raft entry of an alarm change.
type AlarmRequest struct {
	Action   int32  `json:"action"` // cairn.AlarmActivate or AlarmDeactivate
	MemberID uint64 `json:"member_id"`
	Type     int32  `json:"type"` // cairn.AlarmNoSpace...
}

// alarmName is the name of alarm type t, its number for an unknown type.
func alarmName(t int32) string {
	if t >= 0 && int(t) < len(cairn.AlarmTypeNames) {
		return cairn.AlarmTypeNames[t]
	}
	return fmt.Sprint(t)
}

// AlarmType returns the alarm type named name (cairn.AlarmTypeNames), NONE
// (0) for a name it does not know.
func AlarmType(name string) int32 {
	for i, n := range cairn.AlarmTypeNames {
		if n == name {
			return int32(i)
		}
	}
	return 0
}

// ApplyAlarm changes the alarm list and returns the alarm it changed (none
// if nothing changed), as etcd answers an activate or deactivate. Raising
// NONE changes nothing, as in etcd 3.5 (etcd 3.4 keeps it, and reports the
// member unhealthy for it); clearing NONE clears one kept before. Raising
// a type without a name (Server.Alarm refuses it; an older member's log
// may hold one) changes nothing either: it would read back as NONE.
func (c *Cluster) ApplyAlarm(index uint64, a *AlarmRequest) []Alarm {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index = max(c.index, index)
	x := Alarm{MemberID: a.MemberID, Type: alarmName(a.Type)}
	i := slices.Index(c.alarms, x)
	switch a.Action {
	case cairn.AlarmActivate:
		if i >= 0 || a.Type <= cairn.AlarmNone || int(a.Type) >= len(cairn.AlarmTypeNames) {
			return nil
		}
		c.alarms = append(c.alarms, x)
		return []Alarm{x}
	case cairn.AlarmDeactivate:
		if i < 0 {
			return nil
		}
		c.alarms = slices.Delete(slices.Clone(c.alarms), i, i+1)
		return []Alarm{x}
	}
	return nil
}

// AlarmList returns the raised alarms.
func (c *Cluster) AlarmList() []Alarm {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.alarms)
}

// NoSpace reports whether any member raised NOSPACE.
func (c *Cluster) NoSpace() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, a := range c.alarms {
		if a.Type == "NOSPACE" {
			return true
		}
	}
	return false
}
