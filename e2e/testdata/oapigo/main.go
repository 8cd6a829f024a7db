// Command oapigo drives a cairn member through a client that oapi-codegen
// generated (default settings) from the member's GET /openapi.yaml, as a
// new user would: e2e/oapiclient_test.go generates the client into
// ./client, builds this program and runs it with the member's client URL.
// It prints one line per step and exits 1 at the first surprise.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"example.com/oapigo/client"
)

func ptr[T any](v T) *T { return &v }

func fail(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

// check fails unless the call succeeded with want.
func check(step string, err error, resp *http.Response, body []byte, want int) {
	if err != nil {
		fail("%s: %v", step, err)
	}
	if resp.StatusCode != want {
		fail("%s: status %d, want %d: %s", step, resp.StatusCode, want, body)
	}
	fmt.Println("ok", step)
}

func main() {
	ctx := context.Background()
	c, err := client.NewClientWithResponses(os.Args[1])
	if err != nil {
		fail("client: %v", err)
	}

	// KV: put, range with a prefix.
	var rev string
	for _, k := range []string{"app/a", "app/b", "other"} {
		r, err := c.KVPutWithResponse(ctx, client.EtcdserverpbPutRequest{Key: ptr([]byte(k)), Value: ptr([]byte("v-" + k))})
		check("put "+k, err, r.HTTPResponse, r.Body, 200)
		rev = *r.JSON200.Header.Revision
	}
	rr, err := c.KVRangeWithResponse(ctx, client.EtcdserverpbRangeRequest{Key: ptr([]byte("app/")), RangeEnd: ptr([]byte("app0")),
		SortOrder: ptr(client.EtcdserverpbRangeRequestSortOrderDESCEND), SortTarget: ptr(client.EtcdserverpbRangeRequestSortTargetKEY)})
	check("range prefix", err, rr.HTTPResponse, rr.Body, 200)
	if kvs := *rr.JSON200.Kvs; len(kvs) != 2 || string(*kvs[0].Value) != "v-app/b" || *rr.JSON200.Count != "2" || *rr.JSON200.Header.Revision != rev {
		fail("range prefix: %s", rr.Body)
	}
	modB := *(*rr.JSON200.Kvs)[0].ModRevision

	// Txn: compare-and-swap, both branches.
	cas := func(mod string) *client.KVTxnResponse {
		r, err := c.KVTxnWithResponse(ctx, client.EtcdserverpbTxnRequest{
			Compare: &[]client.EtcdserverpbCompare{{Key: ptr([]byte("app/b")), Target: ptr(client.EtcdserverpbCompareCompareTargetMOD),
				Result: ptr(client.EQUAL), ModRevision: ptr(mod)}},
			Success: &[]client.EtcdserverpbRequestOp{{RequestPut: &client.EtcdserverpbPutRequest{Key: ptr([]byte("app/b")), Value: ptr([]byte("swapped"))}}},
			Failure: &[]client.EtcdserverpbRequestOp{{RequestRange: &client.EtcdserverpbRangeRequest{Key: ptr([]byte("app/b"))}}},
		})
		check("txn mod_revision="+mod, err, r.HTTPResponse, r.Body, 200)
		return r
	}
	if r := cas(modB); r.JSON200.Succeeded == nil || !*r.JSON200.Succeeded {
		fail("txn success branch: %s", r.Body)
	}
	if r := cas(modB); r.JSON200.Succeeded != nil || string(*(*(*r.JSON200.Responses)[0].ResponseRange.Kvs)[0].Value) != "swapped" {
		fail("txn failure branch: %s", r.Body)
	}

	// Key history: app/b's two changes, newest first.
	hr, err := c.KVHistoryWithResponse(ctx, client.CairnHistoryRequest{Key: ptr([]byte("app/b"))})
	check("history", err, hr.HTTPResponse, hr.Body, 200)
	if evs := *hr.JSON200.Events; len(evs) != 2 || string(*evs[0].Kv.Value) != "swapped" || *evs[1].Kv.ModRevision != modB {
		fail("history: %s", hr.Body)
	}

	// Compaction, then a read below it is refused with etcd's error.
	cr, err := c.KVCompactWithResponse(ctx, client.EtcdserverpbCompactionRequest{Revision: ptr(rev), Physical: ptr(true)})
	check("compaction", err, cr.HTTPResponse, cr.Body, 200)
	old, err := c.KVRangeWithResponse(ctx, client.EtcdserverpbRangeRequest{Key: ptr([]byte("app/a")), Revision: ptr("1")})
	check("range compacted revision", err, old.HTTPResponse, old.Body, 400)
	if old.JSON400 == nil || old.JSON400.Message != "etcdserver: mvcc: required revision has been compacted" || old.JSON400.Code != 11 {
		fail("range compacted revision: %s", old.Body)
	}

	// Leases: grant, put with the lease, timetolive with keys, revoke.
	gr, err := c.LeaseLeaseGrantWithResponse(ctx, client.EtcdserverpbLeaseGrantRequest{TTL: ptr("60")})
	check("lease grant", err, gr.HTTPResponse, gr.Body, 200)
	id := *gr.JSON200.ID
	pr, err := c.KVPutWithResponse(ctx, client.EtcdserverpbPutRequest{Key: ptr([]byte("leased")), Value: ptr([]byte("x")), Lease: ptr(id)})
	check("put with lease", err, pr.HTTPResponse, pr.Body, 200)
	tr, err := c.LeaseLeaseTimeToLiveWithResponse(ctx, client.EtcdserverpbLeaseTimeToLiveRequest{ID: ptr(id), Keys: ptr(true)})
	check("lease timetolive", err, tr.HTTPResponse, tr.Body, 200)
	if *tr.JSON200.GrantedTTL != "60" || tr.JSON200.Keys == nil || string((*tr.JSON200.Keys)[0]) != "leased" {
		fail("lease timetolive: %s", tr.Body)
	}
	vr, err := c.LeaseLeaseRevokeWithResponse(ctx, client.CairnLeaseIDRequest{ID: ptr(id)})
	check("lease revoke", err, vr.HTTPResponse, vr.Body, 200)
	gone, err := c.KVRangeWithResponse(ctx, client.EtcdserverpbRangeRequest{Key: ptr([]byte("leased"))})
	check("range revoked key", err, gone.HTTPResponse, gone.Body, 200)
	if gone.JSON200.Kvs != nil {
		fail("the leased key outlived its lease: %s", gone.Body)
	}
	again, err := c.LeaseLeaseRevokeWithResponse(ctx, client.CairnLeaseIDRequest{ID: ptr(id)})
	check("lease revoke again", err, again.HTTPResponse, again.Body, 404)

	// Cluster and maintenance.
	ml, err := c.ClusterMemberListWithResponse(ctx, client.ClusterMemberListJSONRequestBody{Linearizable: ptr(true)})
	check("member list", err, ml.HTTPResponse, ml.Body, 200)
	if ml.JSON200.Members == nil || len(*ml.JSON200.Members) != 1 {
		fail("member list: %s", ml.Body)
	}
	st, err := c.MaintenanceStatusWithResponse(ctx, client.MaintenanceStatusJSONRequestBody{})
	check("status", err, st.HTTPResponse, st.Body, 200)
	if st.JSON200.Leader == nil || *st.JSON200.Leader != *st.JSON200.Header.MemberId {
		fail("status: %s", st.Body)
	}

	// v2: PUT with a TTL (form body), GET, a directory listing, DELETE.
	p, err := c.V2KeysPutWithFormdataBodyWithResponse(ctx, "dir/f1", nil, client.V2KeysPutFormdataRequestBody{Value: ptr("one"), Ttl: ptr("100")})
	check("v2 put with ttl", err, p.HTTPResponse, p.Body, 201)
	if *p.JSON201.Node.Ttl != 100 || p.JSON201.Node.Expiration == nil {
		fail("v2 put with ttl: %s", p.Body)
	}
	p, err = c.V2KeysPutWithFormdataBodyWithResponse(ctx, "dir/f2", nil, client.V2KeysPutFormdataRequestBody{Value: ptr("two")})
	check("v2 put", err, p.HTTPResponse, p.Body, 201)
	g, err := c.V2KeysGetWithResponse(ctx, "dir/f1", nil)
	check("v2 get", err, g.HTTPResponse, g.Body, 200)
	if *g.JSON200.Node.Value != "one" {
		fail("v2 get: %s", g.Body)
	}
	l, err := c.V2KeysGetWithResponse(ctx, "dir", &client.V2KeysGetParams{Recursive: ptr(true), Sorted: ptr(true)})
	check("v2 directory listing", err, l.HTTPResponse, l.Body, 200)
	var names []string
	for _, n := range *l.JSON200.Node.Nodes {
		names = append(names, *n.Key)
	}
	if strings.Join(names, ",") != "/dir/f1,/dir/f2" {
		fail("v2 directory listing: %s", l.Body)
	}
	cs, err := c.V2KeysPutWithFormdataBodyWithResponse(ctx, "dir/f2", nil, client.V2KeysPutFormdataRequestBody{Value: ptr("x"), PrevExist: ptr(false)})
	check("v2 create existing", err, cs.HTTPResponse, cs.Body, 412)
	if cs.JSON412.ErrorCode != 105 {
		fail("v2 create existing: %s", cs.Body)
	}
	d, err := c.V2KeysDeleteWithResponse(ctx, "dir/f1", nil)
	check("v2 delete", err, d.HTTPResponse, d.Body, 200)
	if d.JSON200.Action != "delete" || *d.JSON200.PrevNode.Value != "one" {
		fail("v2 delete: %s", d.Body)
	}
	nf, err := c.V2KeysGetWithResponse(ctx, "dir/f1", nil)
	check("v2 get deleted", err, nf.HTTPResponse, nf.Body, 404)
	if nf.JSON404.ErrorCode != 100 {
		fail("v2 get deleted: %s", nf.Body)
	}
	fmt.Println("PASS")
}
