package membership

import (
	"testing"

	"github.com/cairnkv/cairn"
)

// Raising an alarm type without a name (an older member's log may hold
// one) changes nothing: it would be kept as "7" and read back as NONE.
func TestApplyAlarmIgnoresTypesWithoutAName(t *testing.T) {
	c := New(t.TempDir())
	for _, typ := range []int32{cairn.AlarmNone, 7, -1} {
		if got := c.ApplyAlarm(1, &AlarmRequest{Action: cairn.AlarmActivate, MemberID: 1, Type: typ}); got != nil {
			t.Errorf("activate type %d: changed %v", typ, got)
		}
	}
	if got := c.AlarmList(); len(got) != 0 {
		t.Fatalf("alarms %v, want none", got)
	}
	got := c.ApplyAlarm(2, &AlarmRequest{Action: cairn.AlarmActivate, MemberID: 1, Type: cairn.AlarmNoSpace})
	if len(got) != 1 || got[0].Type != "NOSPACE" || !c.NoSpace() {
		t.Fatalf("activate NOSPACE: %v, list %v", got, c.AlarmList())
	}
}
