package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/server"
)

// While a NOSPACE alarm stops every write, /health answers 503
// {"health":"false"}, unless ?exclude=NOSPACE leaves the alarm out: checked
// against etcd 3.4 and against a member, each with a small
// --quota-backend-bytes filled by puts.
func TestHealthUnderNoSpaceAlarm(t *testing.T) {
	const quota = 300000
	t.Run("etcd", func(t *testing.T) {
		checkHealthUnderNoSpace(t, httpapi.StartEtcd(t, "--quota-backend-bytes", fmt.Sprint(quota)))
	})
	t.Run("cairn", func(t *testing.T) {
		s := startMemberWith(t, func(c *server.Config) { c.QuotaBackendBytes = quota })
		checkHealthUnderNoSpace(t, httpapi.ServeBackend(t, s, httpapi.Config{}).URL)
	})
}

func checkHealthUnderNoSpace(t *testing.T, url string) {
	c := newSpecChecker(t, url)
	health := func(query string, wantStatus int, wantBody string) {
		t.Helper()
		if st, body := c.do("GET", "/health"+query, "", ""); st != wantStatus || body != wantBody {
			t.Errorf("GET /health%s: %d %q, want %d %q", query, st, body, wantStatus, wantBody)
		}
	}
	const healthy, unhealthy = `{"health":"true"}`, "{\"health\":\"false\"}\n"
	health("", 200, healthy)

	value := base64.StdEncoding.EncodeToString(make([]byte, 30000))
	for i := 0; ; i++ {
		key := base64.StdEncoding.EncodeToString([]byte(fmt.Sprint("k", i)))
		st, body := c.do("POST", "/v3/kv/put", "", fmt.Sprintf(`{"key":%q,"value":%q}`, key, value))
		if st == 429 && strings.Contains(body, "database space exceeded") {
			break
		}
		if st != 200 || i == 100 {
			t.Fatalf("put %d: %d %s", i, st, body)
		}
	}
	// The refusal raises the alarm through raft: wait until it is listed.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, body := c.do("POST", "/v3/maintenance/alarm", "", `{"action":"GET"}`)
		if strings.Contains(body, `"alarm":"NOSPACE"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no NOSPACE alarm listed: %s", body)
		}
	}
	health("", 503, unhealthy)
	health("?exclude=NOSPACE", 200, healthy)
	health("?exclude=CORRUPT", 503, unhealthy)
	health("?exclude=CORRUPT&exclude=NOSPACE", 200, healthy)
}
