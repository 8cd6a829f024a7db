package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
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

// Raising the alarm NONE changes nothing: etcd 3.4 keeps it (listed without
// a type, and /health false for it) and crashes when it comes without a
// member ID; cairn ignores it as etcd 3.5 does.
func TestAlarmNoneIsIgnored(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	c := newSpecChecker(t, ts.URL)
	_, body := c.do("POST", "/v3/maintenance/status", "", `{}`)
	var st struct {
		Header struct {
			MemberID string `json:"member_id"`
		} `json:"header"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Header.MemberID == "" {
		t.Fatalf("status: %s (%v)", body, err)
	}
	for _, req := range []string{
		fmt.Sprintf(`{"action":"ACTIVATE","memberID":%q,"alarm":"NONE"}`, st.Header.MemberID),
		fmt.Sprintf(`{"action":"ACTIVATE","memberID":%q}`, st.Header.MemberID),
		`{"action":"ACTIVATE"}`,
	} {
		if code, body := c.do("POST", "/v3/maintenance/alarm", "", req); code != 200 || body != `{}` {
			t.Errorf("%s: %d %s, want 200 {}", req, code, body)
		}
	}
	if code, body := c.do("POST", "/v3/maintenance/alarm", "", `{"action":"GET"}`); code != 200 || body != `{}` {
		t.Errorf("alarms listed: %d %s, want 200 {}", code, body)
	}
	if code, body := c.do("GET", "/health", "", ""); code != 200 {
		t.Errorf("health: %d %s, want 200", code, body)
	}
}
