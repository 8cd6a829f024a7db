package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGRPCEtcdctlCluster drives a 3-member cluster of binaries with
// etcdctl v3 through all three endpoints: writes through one member read
// through the others, member list/add (a learner)/promote/remove, endpoint
// status and hashkv for the whole cluster.
func TestGRPCEtcdctlCluster(t *testing.T) {
	c := startCluster(t, 3)
	c.waitPublished(t)
	var urls []string
	for _, m := range c.members {
		urls = append(urls, m.url)
	}
	e := newEtcdctl3(t, urls...)
	for i, m := range c.members {
		one := newEtcdctl3(t, m.url)
		one.expect("OK", "put", fmt.Sprintf("/c/%d", i), "v")
	}
	for _, m := range c.members {
		newEtcdctl3(t, m.url).expect("/c/0\n\n/c/1\n\n/c/2", "get", "--prefix", "--keys-only", "/c/")
	}
	list := e.ok("member", "list")
	if n := len(strings.Split(list, "\n")); n != 3 {
		t.Fatalf("member list: %s", list)
	}
	for _, m := range c.members {
		if !strings.Contains(list, ", started, "+m.name+", "+m.peerURL+", "+m.url+", false") {
			t.Errorf("member list lacks %s: %s", m.name, list)
		}
	}
	status := e.ok("endpoint", "status", "--cluster")
	if n := strings.Count(status, ", 3.4.0, "); n != 3 || strings.Count(status, ", true, false, ") != 1 {
		t.Errorf("endpoint status --cluster (one leader of 3): %s", status)
	}
	hashes := regexp.MustCompile(`, (\d+)\n?`).FindAllStringSubmatch(e.ok("endpoint", "hashkv", "--cluster"), -1)
	if len(hashes) != 3 || hashes[0][1] != hashes[1][1] || hashes[1][1] != hashes[2][1] {
		t.Errorf("endpoint hashkv --cluster: %v, want 3 equal hashes", hashes)
	}

	// A learner joins, is promoted, and a founding member is removed.
	nm := &cmember{name: "m3", peerURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	var added string
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, errOut, code := e.run("", "member", "add", nm.name, "--learner", "--peer-urls", nm.peerURL)
		if code == 0 || time.Now().After(deadline) {
			added = out + errOut
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// etcdctl prints ids with %16x: a short one is padded with spaces.
	id := regexp.MustCompile(`^Member ([0-9a-f]+) added to cluster( *[0-9a-f]+)\n`).FindStringSubmatch(added)
	if id == nil {
		t.Fatalf("member add: %s", added)
	}
	initial := regexp.MustCompile(`ETCD_INITIAL_CLUSTER="([^"]+)"`).FindStringSubmatch(added)
	if initial == nil || !strings.Contains(added, `ETCD_INITIAL_CLUSTER_STATE="existing"`) {
		t.Fatalf("member add did not print the new member's settings: %s", added)
	}
	if !c.launch(nm, initial[1], "existing", t.TempDir()) {
		t.Skip("peer port taken")
	}
	c.members = append(c.members, nm)
	newEtcdctl3(t, nm.url).expect("Error: etcdserver: rpc not supported for learner", "get", "/c/0")
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, errOut, code := e.run("", "member", "promote", id[1])
		if code == 0 {
			if want := "Member " + id[1] + " promoted in cluster" + id[2]; out != want {
				t.Errorf("member promote: %q, want %q", out, want)
			}
			break
		}
		if !strings.Contains(errOut, "in sync with leader") || time.Now().After(deadline) {
			t.Fatalf("member promote: %s", errOut)
		}
		time.Sleep(100 * time.Millisecond)
	}
	nm.waitReady()
	newEtcdctl3(t, nm.url).expect("/c/0\nv", "get", "/c/0")

	st, err := c.members[0].status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id0, _ := strconv.ParseUint(st.Header.MemberID, 10, 64)
	rest := newEtcdctl3(t, c.members[1].url, c.members[2].url)
	rest.expect(fmt.Sprintf("Member %16x removed from cluster%s", id0, id[2]), "member", "remove", fmt.Sprintf("%x", id0))
	select {
	case <-c.members[0].exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the removed member is still running")
	}
	rest.expect("Error: etcdserver: member not found", "member", "remove", fmt.Sprintf("%x", id0))
	if list := rest.ok("member", "list"); len(strings.Split(list, "\n")) != 3 || strings.Contains(list, c.members[0].name+",") {
		t.Errorf("member list after the removal: %s", list)
	}
}

// TestGRPCOneStore: the three APIs see one store. A write through gRPC is
// read through the v3 JSON API and the v2 API at the same revision, a v2
// write through gRPC, and a v2 TTL is a lease that etcdctl lease list
// shows.
func TestGRPCOneStore(t *testing.T) {
	m := startMember(t, t.TempDir())
	e := newEtcdctl3(t, m.url)
	e.expect("OK", "put", "/one/grpc", "from-grpc")
	rev := m.revision(t)
	r, err := m.rangeKey(context.Background(), "/one/grpc")
	if err != nil || len(r.Kvs) != 1 || unb64(t, r.Kvs[0].Value) != "from-grpc" || r.Kvs[0].ModRevision != strconv.FormatInt(rev, 10) {
		t.Fatalf("JSON range of a gRPC write: %+v %v (revision %d)", r, err, rev)
	}
	code, hdr, body := do(t, http.MethodGet, m.url+"/v2/keys/one/grpc", "", "")
	if code != 200 || !strings.Contains(body, fmt.Sprintf(`"value":"from-grpc","modifiedIndex":%d,"createdIndex":%d`, rev, rev)) ||
		hdr.Get("X-Etcd-Index") != strconv.FormatInt(rev, 10) {
		t.Fatalf("v2 GET of a gRPC write: %d %s %v", code, body, hdr)
	}

	code, _, body = do(t, http.MethodPut, m.url+"/v2/keys/one/v2", "application/x-www-form-urlencoded", "value=from-v2")
	if code != 201 {
		t.Fatalf("v2 PUT: %d %s", code, body)
	}
	v2rev := m.revision(t)
	e.expect(fmt.Sprintf(`.*"mod_revision":%d,"version":1,"value":"ZnJvbS12Mg=="\}\].*`, v2rev), "get", "-w", "json", "/one/v2")
	rev, err = m.put(context.Background(), "/one/json", "from-json")
	if err != nil {
		t.Fatal(err)
	}
	e.expect(fmt.Sprintf(`.*"mod_revision":%d,"version":1,"value":"ZnJvbS1qc29u"\}\].*`, rev), "get", "-w", "json", "/one/json")

	code, _, body = do(t, http.MethodPut, m.url+"/v2/keys/one/ttl?ttl=100", "application/x-www-form-urlencoded", "value=t")
	if code != 201 {
		t.Fatalf("v2 PUT with a TTL: %d %s", code, body)
	}
	leases := e.ok("lease", "list")
	id := regexp.MustCompile(`^found 1 leases\n([0-9a-f]+)$`).FindStringSubmatch(leases)
	if id == nil {
		t.Fatalf("lease list after a v2 TTL: %q", leases)
	}
	e.expect("lease "+id[1]+` granted with TTL\(100s\), remaining\(\d+s\), attached keys\(\[/one/ttl\]\)`, "lease", "timetolive", "--keys", id[1])
	// Revoking it through gRPC expires the v2 node.
	e.expect("lease "+id[1]+" revoked", "lease", "revoke", id[1])
	if code, _, body := do(t, http.MethodGet, m.url+"/v2/keys/one/ttl", "", ""); code != 404 {
		t.Errorf("v2 GET after the lease's revoke: %d %s", code, body)
	}
}
