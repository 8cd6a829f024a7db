package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// TestV2EtcdctlCluster drives a 3-member cluster of binaries with Debian's
// etcdctl in v2 mode (ETCDCTL_API=2), unchanged: the key commands through one
// endpoint (etcdctl syncs to the members' published client URLs first),
// member list, and cluster-health before and after a member is killed, with
// the output etcd 3.4 gives in both cases.
func TestV2EtcdctlCluster(t *testing.T) {
	bin := testbin.Need(t, "etcdctl")
	c := startCluster(t, 3)
	c.waitPublished(t)
	// run runs etcdctl with the given endpoint and returns its combined
	// output, trimmed, and its exit code.
	run := func(endpoint string, args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoints", endpoint}, args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=2")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("etcdctl %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), cmd.ProcessState.ExitCode()
	}
	ep := c.members[1].url

	// The key commands. Reads ask for quorum: etcdctl may have synced to
	// any member. The indexes in errors are store revisions (1 on a new
	// cluster, one more per write).
	for _, st := range []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{[]string{"set", "/foo/bar", "hello"}, "hello", false},
		{[]string{"get", "--quorum", "/foo/bar"}, "hello", false},
		{[]string{"mk", "/foo/new", "v"}, "v", false},
		{[]string{"mk", "/foo/new", "v"}, "Error:  105: Key already exists (/foo/new) [3]", true},
		{[]string{"mkdir", "/dir"}, "", false},
		{[]string{"mkdir", "/dir"}, "Error:  105: Key already exists (/dir) [4]", true},
		{[]string{"set", "/_hidden", "h"}, "h", false},
		{[]string{"ls", "-r", "--sort", "--quorum", "/"}, "/dir\n/foo\n/foo/bar\n/foo/new", false},
		{[]string{"ls", "--sort", "--quorum", "-p", "/foo"}, "/foo/bar\n/foo/new", false},
		{[]string{"update", "/foo/bar", "x"}, "x", false},
		{[]string{"update", "/foo/missing", "x"}, "Error:  100: Key not found (/foo/missing) [6]", true},
		{[]string{"get", "--quorum", "/foo/bar"}, "x", false},
		{[]string{"rm", "/foo/bar"}, "PrevNode.Value: x", false},
		{[]string{"rmdir", "/foo"}, "Error:  108: Directory not empty (/foo) [7]", true},
		{[]string{"rmdir", "/dir"}, "", false},
		{[]string{"rm", "-r", "/foo"}, "", false},
		{[]string{"ls", "--quorum", "/"}, "", false},
		{[]string{"get", "--quorum", "/foo/new"}, "Error:  100: Key not found (/foo) [9]", true},
		{[]string{"get", "--quorum", "/_hidden"}, "h", false},
	} {
		out, code := run(ep, st.args...)
		if (code != 0) != st.wantErr || out != st.want {
			t.Errorf("etcdctl %s: %q (exit %d), want %q (error %v)", strings.Join(st.args, " "), out, code, st.want, st.wantErr)
		}
	}
	if out, code := run(ep, "set", "--ttl", "30", "/t", "v"); code != 0 || out != "v" {
		t.Errorf("etcdctl set --ttl: %q (exit %d)", out, code)
	}
	if out, code := run(ep, "-o", "extended", "get", "--quorum", "/t"); code != 0 ||
		!strings.Contains(out, "Key: /t\n") || !strings.Contains(out, "TTL: 30\n") && !strings.Contains(out, "TTL: 29\n") {
		t.Errorf("etcdctl -o extended get of a TTL'd key: %q (exit %d)", out, code)
	}
	if out, code := run(ep, "watch", "--after-index", "1", "/foo/bar"); code != 0 || out != "hello" {
		t.Errorf("etcdctl watch --after-index 1 /foo/bar: %q (exit %d), want the first set", out, code)
	}
	if out, code := run(ep, "watch", "--after-index", "2", "-r", "/foo"); code != 0 || out != "[create] /foo/new\nv" {
		t.Errorf("etcdctl watch --after-index 2 -r /foo: %q (exit %d), want the mk of /foo/new", out, code)
	}

	// The members' ids, as /v2/members shows them.
	code, _, body := do(t, http.MethodGet, ep+"/v2/members", "", "")
	var list struct {
		Members []v2Member `json:"members"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list.Members) != 3 {
		t.Fatalf("/v2/members: %d %s", code, body)
	}
	id := map[string]string{} // name -> hex id
	for _, m := range list.Members {
		id[m.Name] = m.ID
	}

	// member list: every member, exactly one leader: the one the members agree on.
	lead := c.leader()
	var want []string
	for _, m := range c.members {
		want = append(want, fmt.Sprintf("%s: name=%s peerURLs=%s clientURLs=%s isLeader=%v", id[m.name], m.name, m.peerURL, m.url, m == lead))
	}
	slices.Sort(want)
	out, code := run(ep, "member", "list")
	if got := strings.Split(out, "\n"); code != 0 || !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("etcdctl member list: (exit %d)\n%s\nwant (any order)\n%s", code, out, strings.Join(want, "\n"))
	}

	// cluster-health: every member healthy through its published URL.
	health := func(down *cmember) (want []string) {
		for _, m := range c.members {
			if m == down {
				host := strings.TrimPrefix(m.url, "http://")
				want = append(want,
					fmt.Sprintf(`failed to check the health of member %s on %s: Get "%s/health": dial tcp %s: connect: connection refused`, id[m.name], m.url, m.url, host),
					fmt.Sprintf("member %s is unreachable: [%s] are all unreachable", id[m.name], m.url))
			} else {
				want = append(want, fmt.Sprintf("member %s is healthy: got healthy result from %s", id[m.name], m.url))
			}
		}
		return want
	}
	wantHealthy := append(health(nil), "cluster is healthy")
	out, code = run(ep, "cluster-health")
	if got := sortedHealth(strings.Split(out, "\n")); code != 0 || !slices.Equal(got, sortedHealth(wantHealthy)) {
		t.Fatalf("etcdctl cluster-health: (exit %d)\n%s\nwant\n%s", code, out, strings.Join(sortedHealth(wantHealthy), "\n"))
	}

	// kill -9 a follower: etcdctl says it is unreachable and the cluster
	// degraded, with exit code 5, as for etcd 3.4. The others may answer
	// unhealthy for a moment; poll until they are healthy again.
	victim := c.pickOther(lead)
	victim.kill9()
	wantDegraded := sortedHealth(append(health(victim), "cluster is degraded"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, code = run(lead.url, "cluster-health")
		if code != 5 || !strings.HasSuffix(out, "cluster is degraded") {
			t.Fatalf("etcdctl cluster-health with %s killed: (exit %d)\n%s\nwant exit 5 and cluster is degraded", victim.name, code, out)
		}
		if slices.Equal(sortedHealth(strings.Split(out, "\n")), wantDegraded) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcdctl cluster-health with %s killed:\n%s\nwant\n%s", victim.name, out, strings.Join(wantDegraded, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// memberOf is the member id a cluster-health line is about ("" for none).
func memberOf(line string) string {
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "member" {
			return f[i+1]
		}
	}
	return ""
}

// sortedHealth orders cluster-health lines by member id (etcdctl prints
// members in /v2/members order), the verdict kept last.
func sortedHealth(lines []string) []string {
	lines = slices.Clone(lines)
	last := len(lines) - 1
	slices.SortStableFunc(lines[:last], func(a, b string) int { return strings.Compare(memberOf(a), memberOf(b)) })
	return lines
}
