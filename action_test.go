package cairn

import "testing"

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{
		ActionNone: "", ActionSet: "set", ActionCreate: "create", ActionUpdate: "update",
		ActionCompareAndSwap: "compareAndSwap", ActionDelete: "delete",
		ActionCompareAndDelete: "compareAndDelete", ActionExpire: "expire", ActionImplied: "implied", actionLimit: "unknown",
	} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", a, got, want)
		}
	}
}
