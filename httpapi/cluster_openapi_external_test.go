package httpapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
)

// specChecker validates requests and answers against openapi.yaml.
type specChecker struct {
	t      *testing.T
	router routers.Router
	base   string
}

func newSpecChecker(t *testing.T, base string) *specChecker {
	doc, err := openapi3.NewLoader().LoadFromData(cairn.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specChecker{t: t, router: router, base: base}
}

// do sends a request, checks the answer against the spec (and the request,
// when the member accepted it), and returns status and body.
func (c *specChecker) do(method, path, contentType, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	vreq, _ := http.NewRequest(method, "http://127.0.0.1:2379"+path, strings.NewReader(body))
	vreq.Header.Set("Content-Type", "application/json")
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		c.t.Fatalf("%s %s is not in openapi.yaml: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route}
	reqErr := httpapi.ValidateSpecRequest(context.Background(), in)
	h := http.Header{}
	h.Set("Content-Type", resp.Header.Get("Content-Type"))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: h,
		Body:    io.NopCloser(strings.NewReader(string(got))),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s %s: %d %s does not match openapi.yaml: %v", method, path, body, resp.StatusCode, got, err)
	}
	if resp.StatusCode/100 == 2 && reqErr != nil {
		c.t.Errorf("%s %s %s: accepted a request openapi.yaml forbids: %v", method, path, body, reqErr)
	}
	return resp.StatusCode, string(got)
}

// TestClusterAndMaintenanceOpenAPI sends the membership and maintenance
// requests (successes and refusals) to a real member and checks every
// answer against openapi.yaml.
func TestClusterAndMaintenanceOpenAPI(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	c := newSpecChecker(t, ts.URL)
	expect := func(status int, body string, wantStatus int, wantIn string) {
		t.Helper()
		if status != wantStatus || !strings.Contains(body, wantIn) {
			t.Errorf("got %d %s, want %d with %q", status, body, wantStatus, wantIn)
		}
	}
	st, body := c.do("POST", "/v3/cluster/member/list", "", `{"linearizable": true}`)
	expect(st, body, 200, `"members":[{"ID":"`)
	st, body = c.do("POST", "/v3/cluster/member/add", "", `{"peerURLs": ["http://127.0.0.1:1"], "isLearner": true}`)
	expect(st, body, 200, `"isLearner":true`)
	var added struct {
		Member struct {
			ID string `json:"ID"`
		} `json:"member"`
	}
	json.Unmarshal([]byte(body), &added)
	st, body = c.do("POST", "/v3/cluster/member/add", "", `{"peerURLs": ["http://127.0.0.1:1"]}`)
	expect(st, body, 412, "Peer URLs already exists")
	st, body = c.do("POST", "/v3/cluster/member/add", "", `{"peerURLs": ["x"]}`)
	expect(st, body, 400, "given member URLs are invalid")
	st, body = c.do("POST", "/v3/cluster/member/promote", "", `{"ID": "`+added.Member.ID+`"}`)
	expect(st, body, 412, "in sync with leader")
	st, body = c.do("POST", "/v3/cluster/member/update", "", `{"ID": "`+added.Member.ID+`", "peerURLs": ["http://127.0.0.1:2"]}`)
	expect(st, body, 200, "http://127.0.0.1:2")
	st, body = c.do("POST", "/v3/cluster/member/remove", "", `{"ID": "123"}`)
	expect(st, body, 404, "member not found")

	var id uint64
	fmt.Sscan(added.Member.ID, &id)
	hexID := fmt.Sprintf("%x", id)
	st, body = c.do("GET", "/v2/members", "", "")
	expect(st, body, 200, `"id":"`+hexID+`"`)
	st, body = c.do("PUT", "/v2/members/"+hexID, "application/json", `{"peerURLs": ["http://127.0.0.1:3"]}`)
	expect(st, body, 204, "")
	st, body = c.do("PUT", "/v2/members/"+hexID, "text/plain", `{"peerURLs": ["http://127.0.0.1:3"]}`)
	expect(st, body, 415, "Bad Content-Type")
	st, body = c.do("POST", "/v2/members", "application/json", `{"peerURLs": ["http://127.0.0.1:3"]}`)
	expect(st, body, 409, "membership: peerURL exists")
	st, body = c.do("DELETE", "/v2/members/"+hexID, "", "")
	expect(st, body, 204, "")
	st, body = c.do("DELETE", "/v2/members/"+hexID, "", "")
	expect(st, body, 410, "Member permanently removed: "+hexID)
	st, body = c.do("DELETE", "/v2/members/zz", "", "")
	expect(st, body, 404, "No such member: zz")

	st, body = c.do("POST", "/v3/maintenance/alarm", "", `{}`)
	expect(st, body, 200, `{}`)
	st, body = c.do("POST", "/v3/maintenance/alarm", "", `{"action": "ACTIVATE", "memberID": "1", "alarm": "NOSPACE"}`)
	expect(st, body, 200, `{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}`)
	st, body = c.do("POST", "/v3/kv/put", "", `{"key": "YQ==", "value": "Yg=="}`)
	expect(st, body, 429, "database space exceeded")
	st, body = c.do("POST", "/v3/maintenance/status", "", `{}`)
	expect(st, body, 200, `"errors":["memberID:1 alarm:NOSPACE "]`)
	st, body = c.do("POST", "/v3/maintenance/alarm", "", `{"action": "DEACTIVATE", "memberID": "1", "alarm": "NOSPACE"}`)
	expect(st, body, 200, `{"alarms":[{"memberID":"1","alarm":"NOSPACE"}]}`)
	st, body = c.do("POST", "/v3/maintenance/alarm", "", `{"action": "BOGUS"}`)
	expect(st, body, 400, "unknown value")
	st, body = c.do("POST", "/v3/kv/put", "", `{"key": "YQ==", "value": "Yg=="}`)
	expect(st, body, 200, `"revision":"2"`)
	st, body = c.do("POST", "/v3/maintenance/defragment", "", `{}`)
	expect(st, body, 200, `{}`)
	st, body = c.do("POST", "/v3/maintenance/hash", "", `{}`)
	expect(st, body, 200, `"hash":`)
	st, body = c.do("POST", "/v3/maintenance/hashkv", "", `{"revision": "0"}`)
	expect(st, body, 200, `"hash":`)
	st, body = c.do("POST", "/v3/maintenance/hashkv", "", `{"revision": "99"}`)
	expect(st, body, 400, "future revision")

	// The snapshot stream: 32 KiB blobs, then the SHA-256.
	resp, err := http.Post(ts.URL+"/v3/maintenance/snapshot", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var blobs [][]byte
	for sc.Scan() {
		var line struct {
			Result struct {
				Remaining string `json:"remaining_bytes"`
				Blob      string `json:"blob"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("snapshot line %q: %v", sc.Bytes(), err)
		}
		b, _ := base64.StdEncoding.DecodeString(line.Result.Blob)
		blobs = append(blobs, b)
	}
	if len(blobs) < 2 || len(blobs[len(blobs)-1]) != 32 || len(blobs[0]) == 0 || len(blobs[0]) > 32<<10 {
		t.Fatalf("snapshot stream: %d blobs", len(blobs))
	}
}
