package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// TestV2Members: /v2/members and /v2/members/leader list the member as
// etcd 3.4 does (hex id, name, URL lists), /v2/machines its client URLs.
func TestV2Members(t *testing.T) {
	s := startMember(t)
	ts := httpapi.ServeBackend(t, s, httpapi.Config{})
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b), resp.Header
	}
	id := strconv.FormatUint(s.MemberID(), 16)
	status, body, h := get("/v2/members")
	var ms struct {
		Members []struct {
			ID         string   `json:"id"`
			Name       string   `json:"name"`
			PeerURLs   []string `json:"peerURLs"`
			ClientURLs []string `json:"clientURLs"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(body), &ms); status != 200 || err != nil || len(ms.Members) != 1 ||
		ms.Members[0].ID != id || ms.Members[0].Name != "default" || ms.Members[0].ClientURLs == nil {
		t.Fatalf("/v2/members: %d %s (%v)", status, body, err)
	}
	if h.Get("X-Etcd-Cluster-Id") != strconv.FormatUint(s.ClusterID(), 16) {
		t.Errorf("/v2/members cluster id header %q", h.Get("X-Etcd-Cluster-Id"))
	}
	if status, body, _ := get("/v2/members/leader"); status != 200 || !strings.Contains(body, `"id":"`+id+`"`) {
		t.Errorf("/v2/members/leader: %d %s", status, body)
	}
	if status, body, h := get("/v2/machines"); status != 200 || body != "" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("/v2/machines: %d %q %v (the test member publishes no client URL)", status, body, h)
	}
}
