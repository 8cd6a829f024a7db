package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cluster is N real cairn processes on loopback, peers on ports reserved
// before any of them starts (every member must know every peer URL).
type cluster struct {
	t       testing.TB
	members []*cmember
	token   string
	extra   []string
	scheme  string       // of the peer URLs: http (startCluster) or https
	client  *http.Client // for the members' client URLs; nil means httpClient
	// memberArgs gives a member flags of its own (its certificates).
	memberArgs func(m *cmember) []string
	// front, if set, puts a proxy before each member's peer listener
	// (startClusterBehind).
	front func(i int, listenURL string) string
	// env is every member's environment on top of the test's.
	env []string
	// dataDir, if set, gives member i's data dir (else a new temp dir).
	dataDir func(i int) string
}

// cmember is one member of a cluster: the process and its identity.
type cmember struct {
	*member
	name      string
	peerURL   string // the URL the other members reach it at
	listenURL string // where it listens for peers; peerURL when empty
}

// e2eTiming makes elections quick enough for tests that kill leaders
// (etcd's defaults are 100ms and 1000ms).
var e2eTiming = []string{"--heartbeat-interval", "50", "--election-timeout", "500"}

// freePort returns a loopback port that was free a moment ago. Another
// process may take it before the member listens; startCluster retries.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts n members of a new cluster with extra flags and waits
// until each answers a linearizable read. The processes are killed when the
// test ends.
func startCluster(t testing.TB, n int, extra ...string) *cluster {
	t.Helper()
	return startClusterBehind(t, n, nil, extra...)
}

// startClusterBehind is startCluster with a front before each member's
// peer listener: front(i, listenURL) returns the URL the members reach
// member i at (a proxy forwarding to listenURL). It is called again for a
// member whose port was taken, with a new listenURL.
func startClusterBehind(t testing.TB, n int, front func(i int, listenURL string) string, extra ...string) *cluster {
	t.Helper()
	return startClusterWith(t, n, front, nil, extra...)
}

// startClusterWith is startClusterBehind with setup, if not nil, called
// on the cluster before it starts (to set env or dataDir).
func startClusterWith(t testing.TB, n int, front func(i int, listenURL string) string, setup func(c *cluster), extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, token: fmt.Sprintf("e2e-%d", time.Now().UnixNano()), extra: extra, scheme: "http", front: front}
	if setup != nil {
		setup(c)
	}
	c.start(n)
	return c
}

// start launches the n members of a new cluster and waits for them.
func (c *cluster) start(n int) {
	t := c.t
	t.Helper()
	for attempt := 0; ; attempt++ {
		var names []string
		c.members = nil
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("m%d", i)
			url := fmt.Sprintf("%s://127.0.0.1:%d", c.scheme, freePort(t))
			m := &cmember{name: name, peerURL: url}
			if c.front != nil {
				m.peerURL, m.listenURL = c.front(i, url), url
			}
			c.members = append(c.members, m)
			names = append(names, name+"="+m.peerURL)
		}
		initial := strings.Join(names, ",")
		ok := true
		for i, m := range c.members {
			dir := t.TempDir()
			if c.dataDir != nil {
				dir = c.dataDir(i)
			}
			if !c.launch(m, initial, "new", dir) {
				ok = false
				break
			}
		}
		if ok {
			break
		}
		for _, m := range c.members {
			if m.member != nil {
				m.kill9()
			}
		}
		if attempt == 3 {
			t.Fatal("could not start a cluster: peer ports kept being taken")
		}
	}
	for _, m := range c.members {
		m.waitReady()
	}
}

// launch starts member m's process; false means its peer port was taken.
func (c *cluster) launch(m *cmember, initialCluster, state, dataDir string) bool {
	c.t.Helper()
	listen := m.listenURL
	if listen == "" {
		listen = m.peerURL
	}
	args := append([]string{
		"--name", m.name,
		"--listen-peer-urls", listen,
		"--initial-advertise-peer-urls", m.peerURL,
		"--initial-cluster", initialCluster,
		"--initial-cluster-state", state,
		"--initial-cluster-token", c.token,
	}, e2eTiming...)
	args = append(args, c.extra...)
	if c.memberArgs != nil {
		args = append(args, c.memberArgs(m)...)
	}
	m.member = &member{t: c.t, dataDir: dataDir, args: args, client: c.client, env: c.env}
	c.t.Cleanup(func() { m.kill9() })
	if err := m.launch(); err != nil {
		if strings.Contains(m.logs.String(), "address already in use") {
			return false
		}
		c.t.Fatalf("%s: %v", m.name, err)
	}
	return true
}

// memberStatus is what /v3/maintenance/status tells about a member.
type memberStatus struct {
	Header struct {
		MemberID string `json:"member_id"`
		Revision string `json:"revision"`
	} `json:"header"`
	Leader           string   `json:"leader"`
	RaftIndex        string   `json:"raftIndex"`
	RaftAppliedIndex string   `json:"raftAppliedIndex"`
	RaftTerm         string   `json:"raftTerm"`
	IsLearner        bool     `json:"isLearner"`
	Errors           []string `json:"errors"`
}

func (m *member) status(ctx context.Context) (*memberStatus, error) {
	var st memberStatus
	err := m.call(ctx, "/v3/maintenance/status", map[string]string{}, &st)
	return &st, err
}

func (m *member) alive() bool {
	if m == nil || m.cmd == nil {
		return false
	}
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

// leader polls the running members until they agree on a leader, and
// returns it.
func (c *cluster) leader() *cmember {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var lead string
		agree := true
		ids := map[string]*cmember{}
		for _, m := range c.members {
			if !m.alive() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := m.status(ctx)
			cancel()
			if err != nil || st.Leader == "" || st.Leader == "0" || (lead != "" && st.Leader != lead) {
				agree = false
				break
			}
			lead = st.Leader
			ids[st.Header.MemberID] = m
		}
		if agree && ids[lead] != nil {
			return ids[lead]
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("the cluster agreed on no leader within 30s")
	return nil
}

// follower returns the first member that is not lead.
func (c *cluster) follower(lead *cmember) *cmember {
	for _, m := range c.members {
		if m != lead {
			return m
		}
	}
	c.t.Fatal("the cluster has no member but the leader")
	return nil
}

// running returns the members whose process is up.
func (c *cluster) running() []*cmember {
	var out []*cmember
	for _, m := range c.members {
		if m.alive() {
			out = append(out, m)
		}
	}
	return out
}

// putRetry writes through m, retrying failures (no leader yet, a forwarded
// proposal lost with a killed leader) until the deadline; it returns the
// revision of the write that was acknowledged.
func (m *member) putRetry(t testing.TB, key, value string) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		rev, err := m.put(ctx, key, value)
		cancel()
		if err == nil {
			return rev
		}
		if time.Now().After(deadline) {
			t.Fatalf("put %s: %v", key, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countPrefix counts keys under prefix with a read of the given consistency.
func (m *member) countPrefix(ctx context.Context, prefix string, serializable bool) (int64, error) {
	end := []byte(prefix)
	end[len(end)-1]++
	var out rangeResult
	err := m.call(ctx, "/v3/kv/range", map[string]any{"key": b64(prefix), "range_end": b64(string(end)),
		"count_only": true, "serializable": serializable}, &out)
	if err != nil {
		return 0, err
	}
	if out.Count == "" {
		return 0, nil
	}
	return strconv.ParseInt(out.Count, 10, 64)
}
