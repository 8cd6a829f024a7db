package httpapi

import (
	"strings"
	"testing"
)

// TestKeyHistory: POST /v3/kv/history, newest first with deletions, paging
// backwards with limit and revision, after compaction, and bad input; every
// exchange checked against openapi.yaml.
func TestKeyHistory(t *testing.T) {
	ts := newTestServer(t)
	k, v1, v2 := b64("k"), b64("v1"), b64("v2")
	ts.post("/v3/kv/put", `{"key":"`+k+`","value":"`+v1+`"}`)            // 2
	ts.post("/v3/kv/put", `{"key":"`+b64("other")+`","value":"`+v1+`"}`) // 3
	ts.post("/v3/kv/put", `{"key":"`+k+`","value":"`+v2+`"}`)            // 4
	ts.post("/v3/kv/deleterange", `{"key":"`+k+`"}`)                     // 5
	ts.post("/v3/kv/put", `{"key":"`+k+`","value":"`+v1+`"}`)            // 6

	put6 := `{"kv":{"key":"` + k + `","create_revision":"6","mod_revision":"6","version":"1","value":"` + v1 + `"}}`
	del5 := `{"type":"DELETE","kv":{"key":"` + k + `","mod_revision":"5"}}`
	put4 := `{"kv":{"key":"` + k + `","create_revision":"2","mod_revision":"4","version":"2","value":"` + v2 + `"}}`
	put2 := `{"kv":{"key":"` + k + `","create_revision":"2","mod_revision":"2","version":"1","value":"` + v1 + `"}}`
	expect(t, ts.post("/v3/kv/history", `{"key":"`+k+`"}`), 200, `{`+hdr(6)+`,"events":[`+put6+`,`+del5+`,`+put4+`,`+put2+`]}`)
	expect(t, ts.post("/v3/kv/history", `{"key":"`+k+`","limit":"2"}`), 200, `{`+hdr(6)+`,"events":[`+put6+`,`+del5+`],"more":true}`)
	expect(t, ts.post("/v3/kv/history", `{"key":"`+k+`","limit":2,"revision":"4"}`), 200, `{`+hdr(6)+`,"events":[`+put4+`,`+put2+`]}`)
	// A key never written has an empty history.
	expect(t, ts.post("/v3/kv/history", `{"key":"`+b64("never")+`"}`), 200, `{`+hdr(6)+`}`)

	ts.post("/v3/kv/compaction", `{"revision":"4"}`)
	expect(t, ts.post("/v3/kv/history", `{"key":"`+k+`"}`), 200, `{`+hdr(6)+`,"events":[`+put6+`,`+del5+`,`+put4+`],"compact_revision":"4"}`)

	// Bad input: etcd's errors, as Range gives them.
	const compacted = "etcdserver: mvcc: required revision has been compacted"
	const future = "etcdserver: mvcc: required revision is a future revision"
	expect(t, ts.post("/v3/kv/history", `{"key":"`+k+`","revision":"3"}`), 400, `{"error":"`+compacted+`","message":"`+compacted+`","code":11}`)
	expect(t, ts.post("/v3/kv/history", `{"key":"`+k+`","revision":"7"}`), 400, `{"error":"`+future+`","message":"`+future+`","code":11}`)
	expect(t, ts.post("/v3/kv/history", `{}`), 400, `{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}`)
	if r := ts.post("/v3/kv/history", `{"key":"!!"}`); r.status != 400 || !strings.Contains(r.body, `"code":3`) {
		t.Errorf("bad base64 key: %d %s", r.status, r.body)
	}
}
