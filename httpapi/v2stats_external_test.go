package httpapi_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// TestV2Stats: /v2/stats/store counts the v2 requests by kind and outcome
// as etcd's, /v2/stats/self and /v2/stats/leader have etcd's shape.
func TestV2Stats(t *testing.T) {
	s := startMember(t)
	ts := httpapi.ServeBackend(t, s, httpapi.Config{})
	for _, st := range []struct{ method, target, form string }{
		{"PUT", "/v2/keys/a", "value=1"},                 // set ok
		{"PUT", "/v2/keys/a?prevExist=false", "value=1"}, // create fail
		{"PUT", "/v2/keys/a?prevValue=1", "value=2"},     // cas ok
		{"PUT", "/v2/keys/a?prevValue=1", "value=2"},     // cas fail
		{"GET", "/v2/keys/a", ""},                        // get ok
		{"GET", "/v2/keys/b", ""},                        // get fail
		{"PUT", "/v2/keys/a?prevExist=true", "value=3"},  // update ok
		{"DELETE", "/v2/keys/a?prevValue=3", ""},         // cad ok
		{"DELETE", "/v2/keys/a", ""},                     // delete fail
		{"POST", "/v2/keys/q", "value=1"},                // create ok
	} {
		v2Call(t, ts.URL, st.method, st.target, st.form)
	}
	r := v2Call(t, ts.URL, "GET", "/v2/stats/store", "")
	want := `{"getsSuccess":1,"getsFail":1,"setsSuccess":1,"setsFail":0,"deleteSuccess":0,"deleteFail":1,"updateSuccess":1,"updateFail":0,"createSuccess":1,"createFail":1,"compareAndSwapSuccess":1,"compareAndSwapFail":1,"compareAndDeleteSuccess":1,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}`
	if r.status != 200 || strings.TrimSpace(r.body) != want {
		t.Errorf("/v2/stats/store: %d %s\nwant %s", r.status, r.body, want)
	}

	id := strconv.FormatUint(s.MemberID(), 16)
	r = v2Call(t, ts.URL, "GET", "/v2/stats/self", "")
	var self map[string]any
	if err := json.Unmarshal([]byte(r.body), &self); err != nil || r.status != 200 {
		t.Fatalf("/v2/stats/self: %d %s", r.status, r.body)
	}
	li, _ := self["leaderInfo"].(map[string]any)
	if self["id"] != id || self["name"] != "default" || self["state"] != "StateLeader" || li["leader"] != id ||
		self["startTime"] == "" || self["recvAppendRequestCnt"] == nil {
		t.Errorf("/v2/stats/self: %s", r.body)
	}
	r = v2Call(t, ts.URL, "GET", "/v2/stats/leader", "")
	if want := `{"leader":"` + id + `","followers":{}}`; r.status != 200 || strings.TrimSpace(r.body) != want {
		t.Errorf("/v2/stats/leader: %d %s, want %s", r.status, r.body, want)
	}
}
