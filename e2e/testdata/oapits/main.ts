// Drives a cairn member through openapi-fetch over the types that
// openapi-typescript generated (default settings) from the member's
// GET /openapi.yaml into schema.d.ts, as a new user would:
// e2e/oapiclient_test.go generates them, compiles this file with
// tsc --strict and runs it with node and the member's client URL. It prints
// one line per step and exits 1 at the first surprise.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const client = createClient<paths>({ baseUrl: process.argv[2] });
const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString();

function fail(msg: string): never {
  console.log("FAIL " + msg);
  process.exit(1);
}

function check(step: string, status: number, want: number, body: unknown) {
  if (status !== want) fail(`${step}: status ${status}, want ${want}: ${JSON.stringify(body)}`);
  console.log("ok " + step);
}

async function main() {
  // KV: put, range with a prefix.
  let rev = "";
  for (const k of ["app/a", "app/b", "other"]) {
    const r = await client.POST("/v3/kv/put", { body: { key: b64(k), value: b64("v-" + k) } });
    check("put " + k, r.response.status, 200, r.error);
    rev = r.data?.header.revision ?? "";
  }
  const rr = await client.POST("/v3/kv/range", {
    body: { key: b64("app/"), range_end: b64("app0"), sort_order: "DESCEND", sort_target: "KEY" },
  });
  check("range prefix", rr.response.status, 200, rr.error);
  const kvs = rr.data?.kvs ?? [];
  if (kvs.length !== 2 || unb64(kvs[0].value) !== "v-app/b" || rr.data?.count !== "2" || rr.data?.header.revision !== rev) {
    fail("range prefix: " + JSON.stringify(rr.data));
  }
  const modB = kvs[0].mod_revision ?? "";

  // Txn: compare-and-swap, both branches.
  const cas = async (mod: string) => {
    const r = await client.POST("/v3/kv/txn", {
      body: {
        compare: [{ key: b64("app/b"), target: "MOD", result: "EQUAL", mod_revision: mod }],
        success: [{ request_put: { key: b64("app/b"), value: b64("swapped") } }],
        failure: [{ request_range: { key: b64("app/b") } }],
      },
    });
    check("txn mod_revision=" + mod, r.response.status, 200, r.error);
    return r.data;
  };
  if ((await cas(modB))?.succeeded !== true) fail("txn success branch");
  const lost = await cas(modB);
  if (lost?.succeeded || unb64(lost?.responses?.[0].response_range?.kvs?.[0].value) !== "swapped") {
    fail("txn failure branch: " + JSON.stringify(lost));
  }

  // Key history: app/b's two changes, newest first.
  const hr = await client.POST("/v3/kv/history", { body: { key: b64("app/b") } });
  check("history", hr.response.status, 200, hr.error);
  const evs = hr.data?.events ?? [];
  if (evs.length !== 2 || unb64(evs[0].kv.value) !== "swapped" || evs[1].kv.mod_revision !== modB) {
    fail("history: " + JSON.stringify(hr.data));
  }

  // Compaction, then a read below it is refused with etcd's error.
  const cr = await client.POST("/v3/kv/compaction", { body: { revision: rev, physical: true } });
  check("compaction", cr.response.status, 200, cr.error);
  const old = await client.POST("/v3/kv/range", { body: { key: b64("app/a"), revision: "1" } });
  check("range compacted revision", old.response.status, 400, old.data);
  if (old.error?.message !== "etcdserver: mvcc: required revision has been compacted" || old.error.code !== 11) {
    fail("range compacted revision: " + JSON.stringify(old.error));
  }

  // Leases: grant, put with the lease, timetolive with keys, revoke.
  const gr = await client.POST("/v3/lease/grant", { body: { TTL: "60" } });
  check("lease grant", gr.response.status, 200, gr.error);
  const id = gr.data?.ID ?? "";
  const pr = await client.POST("/v3/kv/put", { body: { key: b64("leased"), value: b64("x"), lease: id } });
  check("put with lease", pr.response.status, 200, pr.error);
  const tr = await client.POST("/v3/lease/timetolive", { body: { ID: id, keys: true } });
  check("lease timetolive", tr.response.status, 200, tr.error);
  if (tr.data?.grantedTTL !== "60" || unb64(tr.data?.keys?.[0]) !== "leased") fail("lease timetolive: " + JSON.stringify(tr.data));
  const vr = await client.POST("/v3/lease/revoke", { body: { ID: id } });
  check("lease revoke", vr.response.status, 200, vr.error);
  const gone = await client.POST("/v3/kv/range", { body: { key: b64("leased") } });
  check("range revoked key", gone.response.status, 200, gone.error);
  if (gone.data?.kvs) fail("the leased key outlived its lease: " + JSON.stringify(gone.data));
  const again = await client.POST("/v3/lease/revoke", { body: { ID: id } });
  check("lease revoke again", again.response.status, 404, again.data);

  // Cluster and maintenance.
  const ml = await client.POST("/v3/cluster/member/list", { body: { linearizable: true } });
  check("member list", ml.response.status, 200, ml.error);
  if (ml.data?.members?.length !== 1) fail("member list: " + JSON.stringify(ml.data));
  const st = await client.POST("/v3/maintenance/status", { body: {} });
  check("status", st.response.status, 200, st.error);
  if (!st.data?.leader || st.data.leader !== st.data.header.member_id) fail("status: " + JSON.stringify(st.data));

  // v2: PUT with a TTL (form body), GET, a directory listing, DELETE.
  // openapi-fetch sends a body with this content type as a form.
  const formBody = { headers: { "Content-Type": "application/x-www-form-urlencoded" } };
  let p = await client.PUT("/v2/keys/{key}", { params: { path: { key: "dir/f1" } }, body: { value: "one", ttl: "100" }, ...formBody });
  check("v2 put with ttl", p.response.status, 201, p.error);
  if (p.data?.node.ttl !== 100 || !p.data.node.expiration) fail("v2 put with ttl: " + JSON.stringify(p.data));
  p = await client.PUT("/v2/keys/{key}", { params: { path: { key: "dir/f2" } }, body: { value: "two" }, ...formBody });
  check("v2 put", p.response.status, 201, p.error);
  const g = await client.GET("/v2/keys/{key}", { params: { path: { key: "dir/f1" } } });
  check("v2 get", g.response.status, 200, g.error);
  if (g.data?.node.value !== "one") fail("v2 get: " + JSON.stringify(g.data));
  const l = await client.GET("/v2/keys/{key}", { params: { path: { key: "dir" }, query: { recursive: true, sorted: true } } });
  check("v2 directory listing", l.response.status, 200, l.error);
  const names = (l.data?.node.nodes ?? []).map((n) => n.key).join(",");
  if (names !== "/dir/f1,/dir/f2") fail("v2 directory listing: " + JSON.stringify(l.data));
  const cs = await client.PUT("/v2/keys/{key}", { params: { path: { key: "dir/f2" } }, body: { value: "x", prevExist: false }, ...formBody });
  check("v2 create existing", cs.response.status, 412, cs.data);
  if (cs.error?.errorCode !== 105) fail("v2 create existing: " + JSON.stringify(cs.error));
  const d = await client.DELETE("/v2/keys/{key}", { params: { path: { key: "dir/f1" } } });
  check("v2 delete", d.response.status, 200, d.error);
  if (d.data?.action !== "delete" || d.data.prevNode?.value !== "one") fail("v2 delete: " + JSON.stringify(d.data));
  const nf = await client.GET("/v2/keys/{key}", { params: { path: { key: "dir/f1" } } });
  check("v2 get deleted", nf.response.status, 404, nf.data);
  if (nf.error?.errorCode !== 100) fail("v2 get deleted: " + JSON.stringify(nf.error));
  console.log("PASS");
}

main().catch((e) => fail(String(e)));
