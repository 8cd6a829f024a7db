package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A write sent through a follower right after the leader is killed -9 is
// answered with success once a new leader is elected (the follower proposes
// it again to the new leader), where etcd 3.4 lets it time out (7 s) with
// "etcdserver: request timed out"; v2 writes the same, through the v2 API.
// It is applied once. How long it takes: scripts/bench-cluster.sh inflight.
func TestInFlightWriteSurvivesLeaderKill(t *testing.T) {
	c := startCluster(t, 3)
	for round, api := range []string{"v3", "v2"} {
		lead := c.leader()
		f := c.pickOther(lead)
		lead.kill9()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var err error
		key := "inflight-" + api
		switch api {
		case "v3":
			_, err = f.put(ctx, key, "x")
		case "v2":
			key = "/" + key
			err = v2Set(ctx, f.member, key, "x")
		}
		cancel()
		if err != nil {
			t.Fatalf("round %d (%s): the write sent after the leader's kill failed after %v: %v", round, api, time.Since(start), err)
		}
		t.Logf("%s write answered %v after the leader's kill", api, time.Since(start))
		lead.restart()
		c.leader()
		for _, m := range c.members {
			out, err := m.rangePrefix(context.Background(), key)
			if err != nil {
				t.Fatalf("range on %s: %v", m.name, err)
			}
			if len(out.Kvs) != 1 || out.Kvs[0].Version != "1" {
				t.Fatalf("%s: %s reads %+v, want one version", m.name, key, out.Kvs)
			}
		}
	}
}

// v2Set sets the v2 file p to value through m's /v2/keys.
func v2Set(ctx context.Context, m *member, p, value string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.url+"/v2/keys"+p,
		strings.NewReader(url.Values{"value": {value}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("v2 PUT %s: HTTP %d: %s", p, resp.StatusCode, body)
	}
	return nil
}
