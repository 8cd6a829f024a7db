package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
)

// TestV2Etcdctl drives a real member with Debian's etcdctl in v2 mode
// (ETCDCTL_API=2), unchanged, and checks what its user sees.
func TestV2Etcdctl(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no etcdctl")
	}
	bin, err := exec.LookPath("etcdctl")
	if err != nil {
		t.Skip("etcdctl is not installed")
	}
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	run := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--no-sync", "--endpoints", ts.URL}, args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=2")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, st := range []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{[]string{"set", "/foo/bar", "hello"}, "hello", false},
		{[]string{"get", "/foo/bar"}, "hello", false},
		{[]string{"mk", "/foo/new", "v"}, "v", false},
		{[]string{"mk", "/foo/new", "v"}, "Error:  105: Key already exists (/foo/new) [3]", true},
		{[]string{"mkdir", "/dir"}, "", false},
		{[]string{"set", "/_hidden", "h"}, "h", false},
		{[]string{"ls", "-r", "--sort", "/"}, "/dir\n/foo\n/foo/bar\n/foo/new", false},
		{[]string{"update", "/foo/bar", "x"}, "x", false},
		{[]string{"update", "/foo/missing", "x"}, "Error:  100: Key not found (/foo/missing) [6]", true},
		{[]string{"rm", "/foo/bar"}, "PrevNode.Value: x", false},
		{[]string{"rmdir", "/foo"}, "Error:  108: Directory not empty (/foo) [7]", true},
		{[]string{"rmdir", "/dir"}, "", false},
		{[]string{"rm", "-r", "/foo"}, "", false},
		{[]string{"ls", "/"}, "", false},
		{[]string{"get", "/foo/new"}, "Error:  100: Key not found (/foo) [9]", true},
	} {
		out, err := run(st.args...)
		if (err != nil) != st.wantErr || out != st.want {
			t.Errorf("etcdctl %s: %q (err %v), want %q (error %v)", strings.Join(st.args, " "), out, err, st.want, st.wantErr)
		}
	}
	// set --ttl and watch of history. (cluster-health needs published
	// client URLs, which this in-process member does not have.)
	if out, err := run("set", "--ttl", "30", "/t", "v"); err != nil || out != "v" {
		t.Errorf("etcdctl set --ttl: %q %v", out, err)
	}
	if out, err := run("-o", "extended", "get", "/t"); err != nil || !strings.Contains(out, "TTL: 30") && !strings.Contains(out, "TTL: 29") {
		t.Errorf("etcdctl get of a ttl'd key: %q %v", out, err)
	}
	if out, err := run("watch", "--after-index", "1", "/foo/bar"); err != nil || out != "hello" {
		t.Errorf("etcdctl watch --after-index 1: %q %v", out, err)
	}
	out, err := run("member", "list")
	if err != nil || !strings.Contains(out, "name=default") || !strings.Contains(out, "isLeader=true") {
		t.Errorf("etcdctl member list: %q %v", out, err)
	}
}

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
