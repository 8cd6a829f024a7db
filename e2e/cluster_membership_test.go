package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// v3Member is one member as /v3/cluster/member/* prints it.
type v3Member struct {
	ID         string   `json:"ID"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
}

type v3MemberResponse struct {
	Header struct {
		ClusterID string `json:"cluster_id"`
		MemberID  string `json:"member_id"`
		Revision  string `json:"revision"`
	} `json:"header"`
	Member  *v3Member  `json:"member"`
	Members []v3Member `json:"members"`
}

func (m *member) members(t testing.TB, path string, body any) (*v3MemberResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out v3MemberResponse
	err := m.call(ctx, "/v3/cluster/member/"+path, body, &out)
	return &out, err
}

// do sends one HTTP request and returns status, headers and body.
func do(t testing.TB, method, url, contentType, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// A member added later as a learner joins with --initial-cluster-state
// existing, catches up, is promoted, and serves; another member is removed
// through /v2/members and stops saying why; the lists agree everywhere.
func TestClusterMembershipChanges(t *testing.T) {
	c := startCluster(t, 3)
	for i := 0; i < 200; i++ {
		c.members[i%3].putRetry(t, fmt.Sprintf("pre/%03d", i), "v")
	}
	list, err := c.members[0].members(t, "list", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Members) != 3 || list.Header.Revision != "" {
		t.Fatalf("member list: %+v", list)
	}
	for _, m := range list.Members {
		if m.Name == "" || len(m.ClientURLs) != 1 || !strings.HasPrefix(m.ClientURLs[0], "http://127.0.0.1:") || m.IsLearner {
			t.Fatalf("member as listed: %+v", m)
		}
	}

	// Add a learner; the cluster is healthy right after the start
	// (retry while it is not: streams take a moment).
	nm := &cmember{name: "m3", peerURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	var added *v3MemberResponse
	deadline := time.Now().Add(20 * time.Second)
	for {
		added, err = c.members[1].members(t, "add", map[string]any{"peerURLs": []string{nm.peerURL}, "isLearner": true})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("member add: %v", err)
	}
	if added.Member == nil || !added.Member.IsLearner || added.Member.Name != "" || len(added.Members) != 4 {
		t.Fatalf("add answered %+v", added)
	}
	var initial []string
	for _, m := range c.members {
		initial = append(initial, m.name+"="+m.peerURL)
	}
	initial = append(initial, nm.name+"="+nm.peerURL)
	if !c.launch(nm, strings.Join(initial, ","), "existing", t.TempDir()) {
		t.Skip("peer port taken")
	}
	c.members = append(c.members, nm)
	deadline = time.Now().Add(30 * time.Second)
	for {
		n, err := nm.countPrefix(context.Background(), "pre/", true)
		if err == nil && n == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the learner holds %d of 200 keys (err %v)", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := nm.rangeKey(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "rpc not supported for learner") {
		t.Fatalf("linearizable read on a learner: %v", err)
	}
	if st, err := nm.status(context.Background()); err != nil || !st.IsLearner {
		t.Fatalf("learner status: %+v %v", st, err)
	}
	// What else a learner serves, as etcd 3.4 answers on a learner: v3 only
	// status and serializable ranges (503 "rpc not supported for learner"
	// for the rest, streams included); the v2 API, writes included.
	const refused = `"message":"etcdserver: rpc not supported for learner","code":14`
	for _, rq := range []struct{ path, body string }{
		{"/v3/cluster/member/list", `{}`},
		{"/v3/lease/grant", `{"TTL":10}`},
		{"/v3/lease/leases", `{}`},
		{"/v3/kv/lease/timetolive", `{"ID":1}`},
		{"/v3/maintenance/hash", `{}`},
		{"/v3/maintenance/alarm", `{}`},
		{"/v3/kv/compaction", `{"revision":1}`},
		{"/v3/watch", `{"create_request":{"key":"YQ=="}}`},
	} {
		code, _, body := do(t, "POST", nm.url+rq.path, "application/json", rq.body)
		if code != 503 || !strings.Contains(body, "rpc not supported for learner") ||
			rq.path != "/v3/watch" && !strings.Contains(body, refused) {
			t.Errorf("%s on a learner: %d %s; want 503 rpc not supported for learner", rq.path, code, body)
		}
	}
	if code, _, body := do(t, "POST", nm.url+"/v3/kv/range", "application/json", `{"key":"cHJlLzAwMA==","serializable":true}`); code != 200 || !strings.Contains(body, `"count":"1"`) {
		t.Errorf("serializable range on a learner: %d %s", code, body)
	}
	if code, _, body := do(t, "PUT", nm.url+"/v2/keys/via-learner", "application/x-www-form-urlencoded", "value=1"); code != 201 {
		t.Errorf("v2 set through a learner: %d %s; want 201 (etcd 3.4 takes it to the leader)", code, body)
	}
	// Promote (through member 2), retrying while it is not in sync.
	deadline = time.Now().Add(20 * time.Second)
	for {
		_, err = c.members[2].members(t, "promote", map[string]any{"ID": added.Member.ID})
		if err == nil || !strings.Contains(err.Error(), "in sync") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	nm.waitReady()
	nm.putRetry(t, "from-new", "x")

	// Remove member 0 through the v2 API of member 1.
	st, err := c.members[0].status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var id uint64
	fmt.Sscan(st.Header.MemberID, &id)
	code, hdr, body := do(t, http.MethodDelete, c.members[1].url+fmt.Sprintf("/v2/members/%x", id), "", "")
	if code != http.StatusNoContent || hdr.Get("X-Etcd-Cluster-Id") == "" {
		t.Fatalf("DELETE /v2/members: %d %s", code, body)
	}
	select {
	case <-c.members[0].exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the removed member is still running")
	}
	if !strings.Contains(c.members[0].logs.String(), "the member has been permanently removed from the cluster") {
		t.Fatalf("the removed member did not say why it stopped:\n%s", c.members[0].logs)
	}
	code, _, body = do(t, http.MethodDelete, c.members[1].url+fmt.Sprintf("/v2/members/%x", id), "", "")
	if code != http.StatusGone || body != fmt.Sprintf(`{"message":"Member permanently removed: %x"}`, id) {
		t.Fatalf("second DELETE: %d %s", code, body)
	}
	// Every remaining member lists the same 3 voters, with their names
	// (published by each member through raft, so poll a moment).
	for _, m := range c.running() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, _, body := do(t, http.MethodGet, m.url+"/v2/members", "", "")
			var v2 struct {
				Members []struct {
					ID         string   `json:"id"`
					Name       string   `json:"name"`
					PeerURLs   []string `json:"peerURLs"`
					ClientURLs []string `json:"clientURLs"`
				} `json:"members"`
			}
			if code != 200 || json.Unmarshal([]byte(body), &v2) != nil {
				t.Fatalf("GET /v2/members on %s: %d %s", m.name, code, body)
			}
			named := len(v2.Members) == 3
			for _, x := range v2.Members {
				if x.Name == "" || len(x.ClientURLs) != 1 {
					named = false
				}
			}
			if named {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s lists %s", m.name, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		n, err := m.countPrefix(context.Background(), "pre/", false)
		if err != nil || n != 200 {
			t.Fatalf("%s: %d keys (%v)", m.name, n, err)
		}
	}
}

// The membership endpoints answer bad input as etcd 3.4 does and change
// nothing.
func TestClusterMembershipBadInput(t *testing.T) {
	c := startCluster(t, 3)
	m := c.members[0]
	v3 := []struct{ path, body, want string }{
		{"add", `{}`, `{"error":"etcdserver: given member URLs are invalid","message":"etcdserver: given member URLs are invalid","code":3}`},
		{"add", `{"peerURLs":"x"}`, `{"error":"json: cannot unmarshal string into Go value of type []json.RawMessage","message":"json: cannot unmarshal string into Go value of type []json.RawMessage","code":3}`},
		{"add", `{"peerURLs":[1]}`, `{"error":"json: cannot unmarshal number into Go value of type string","message":"json: cannot unmarshal number into Go value of type string","code":3}`},
		{"add", `{"peerURLs":["http://127.0.0.1:1/path"]}`, `{"error":"etcdserver: given member URLs are invalid","message":"etcdserver: given member URLs are invalid","code":3}`},
		{"add", `{"peerURLs":["` + c.members[1].peerURL + `"]}`, `{"error":"etcdserver: Peer URLs already exists","message":"etcdserver: Peer URLs already exists","code":9}`},
		{"remove", `{"ID":"abc"}`, `{"error":"invalid character 'a' looking for beginning of value","message":"invalid character 'a' looking for beginning of value","code":3}`},
		{"remove", `{"ID":-1}`, `{"error":"json: cannot unmarshal number -1 into Go value of type uint64","message":"json: cannot unmarshal number -1 into Go value of type uint64","code":3}`},
		{"remove", `{"ID":"18446744073709551615"}`, `{"error":"etcdserver: member not found","message":"etcdserver: member not found","code":5}`},
		{"remove", `{}`, `{"error":"etcdserver: member not found","message":"etcdserver: member not found","code":5}`},
		{"promote", `{"ID":"123"}`, `{"error":"etcdserver: member not found","message":"etcdserver: member not found","code":5}`},
		{"list", `[]`, `{"error":"json: cannot unmarshal array into Go value of type map[string]json.RawMessage","message":"json: cannot unmarshal array into Go value of type map[string]json.RawMessage","code":3}`},
		{"update", `{"ID":"1"}`, `{"error":"etcdserver: given member URLs are invalid","message":"etcdserver: given member URLs are invalid","code":3}`},
	}
	status := map[string]int{`"code":3`: 400, `"code":5`: 404, `"code":9`: 412}
	for _, tc := range v3 {
		code, _, body := do(t, http.MethodPost, m.url+"/v3/cluster/member/"+tc.path, "", tc.body)
		want := 0
		for k, v := range status {
			if strings.Contains(tc.want, k) {
				want = v
			}
		}
		if code != want || body != tc.want {
			t.Errorf("%s %s:\n got %d %s\nwant %d %s", tc.path, tc.body, code, body, want, tc.want)
		}
	}
	v2 := []struct {
		method, path, ct, body string
		code                   int
		want                   string
	}{
		{"POST", "/v2/members", "application/json", `{}`, 400, `{"message":"no valid URLs given"}`},
		{"POST", "/v2/members", "application/json", `{"peerURLs":["x"]}`, 400, `{"message":"URL scheme must be http, https, unix, or unixs: x"}`},
		{"POST", "/v2/members", "application/json", `notjson`, 400, `{"message":"invalid character 'o' in literal null (expecting 'u')"}`},
		{"POST", "/v2/members", "application/x-www-form-urlencoded", `{"peerURLs":["http://127.0.0.1:1"]}`, 415, `{"message":"Bad Content-Type application/x-www-form-urlencoded, accept application/json"}`},
		{"POST", "/v2/members", "application/json", `{"peerURLs":["` + c.members[1].peerURL + `"]}`, 409, `{"message":"membership: peerURL exists"}`},
		{"DELETE", "/v2/members/zzz", "", ``, 404, `{"message":"No such member: zzz"}`},
		{"DELETE", "/v2/members/123", "", ``, 404, `{"message":"No such member: 123"}`},
		{"PUT", "/v2/members/123", "application/json", `{"peerURLs":["http://127.0.0.1:1"]}`, 404, `{"message":"No such member: 123"}`},
		{"PATCH", "/v2/members", "", ``, 405, "Method Not Allowed\n"},
	}
	for _, tc := range v2 {
		code, hdr, body := do(t, tc.method, m.url+tc.path, tc.ct, tc.body)
		if code != tc.code || body != tc.want {
			t.Errorf("%s %s %s:\n got %d %q\nwant %d %q", tc.method, tc.path, tc.body, code, body, tc.code, tc.want)
		}
		if code != 405 && hdr.Get("X-Etcd-Cluster-Id") == "" {
			t.Errorf("%s %s: no X-Etcd-Cluster-ID", tc.method, tc.path)
		}
	}
	list, err := m.members(t, "list", map[string]any{"linearizable": true})
	if err != nil || len(list.Members) != 3 {
		t.Fatalf("after the bad requests: %+v %v", list, err)
	}
}
