// The member's own HTTP API, as any client speaks it: the v3 JSON gateway
// (base64 bytes, int64s as decimal strings), /metrics, /health, /version.
// Every call goes to the origin the page came from: nothing else is fetched.
import { fromB64, toB64 } from "./bytes.js";

// APIError carries etcd's error: message, gRPC code and HTTP status.
export class APIError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// headers returns the headers every call sends. Auth (a token kept for the
// tab) slots in here when the member has it.
let token = sessionStorage.getItem("cairn.token");
export function setToken(t) {
  token = t;
  if (t) sessionStorage.setItem("cairn.token", t);
  else sessionStorage.removeItem("cairn.token");
}
function headers() {
  const h = { "Content-Type": "application/json" };
  if (token) h.Authorization = token;
  return h;
}

// post sends a v3 request and returns the decoded answer, or throws an
// APIError with the member's message.
export async function post(path, body) {
  let res;
  try {
    res = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body ?? {}) });
  } catch (e) {
    throw new APIError(`cannot reach the member: ${e.message}`, 14, 0);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new APIError(`${path}: HTTP ${res.status}: ${text.trim() || res.statusText}`, 2, res.status);
  }
  if (!res.ok || json.error) throw new APIError(json.message || json.error || `HTTP ${res.status}`, json.code, res.status);
  return json;
}

export async function getText(path) {
  const res = await fetch(path, { headers: token ? { Authorization: token } : {} });
  const text = await res.text();
  return { status: res.status, ok: res.ok, text };
}

// kv turns a gateway KeyValue into byte strings and numbers: key, value,
// createRevision, modRevision, version (numbers: revisions stay far below
// 2^53), lease (a decimal string: ids use all 64 bits).
export function kv(raw) {
  return {
    key: fromB64(raw.key),
    value: fromB64(raw.value),
    createRevision: Number(raw.create_revision ?? 0),
    modRevision: Number(raw.mod_revision ?? 0),
    version: Number(raw.version ?? 0),
    lease: raw.lease ?? "0",
  };
}

// range reads keys [key, end) (end "" for the one key). opts: limit,
// keysOnly, countOnly, revision.
export async function range(key, end, opts = {}) {
  // An empty key is the byte 0 (etcd refuses an empty one): with end "\0",
  // every key.
  const body = { key: toB64(key || "\0") };
  if (end) body.range_end = toB64(end);
  if (opts.limit) body.limit = String(opts.limit);
  if (opts.keysOnly) body.keys_only = true;
  if (opts.countOnly) body.count_only = true;
  if (opts.revision) body.revision = String(opts.revision);
  const r = await post("/v3/kv/range", body);
  return {
    revision: Number(r.header?.revision ?? 0),
    kvs: (r.kvs ?? []).map(kv),
    more: !!r.more,
    count: Number(r.count ?? 0),
  };
}

export async function put(key, value, lease) {
  const body = { key: toB64(key), value: toB64(value) };
  if (lease && lease !== "0") body.lease = lease;
  return post("/v3/kv/put", body);
}

// putIfUnchanged writes value only if the key's mod_revision is still
// modRevision (0: only if the key does not exist). It returns
// {ok: true, revision} or {ok: false, current}: the key as it is now (null
// when it is gone), read in the same transaction.
export async function putIfUnchanged(key, value, modRevision, lease) {
  const k = toB64(key);
  const request_put = { key: k, value: toB64(value) };
  if (lease && lease !== "0") request_put.lease = lease;
  const r = await post("/v3/kv/txn", {
    compare: [{ key: k, target: "MOD", result: "EQUAL", mod_revision: String(modRevision) }],
    success: [{ request_put }],
    failure: [{ request_range: { key: k } }],
  });
  if (r.succeeded) return { ok: true, revision: Number(r.header.revision) };
  const kvs = r.responses?.[0]?.response_range?.kvs ?? [];
  return { ok: false, current: kvs.length ? kv(kvs[0]) : null, revision: Number(r.header.revision) };
}

// deleteIfUnchanged deletes key only if its mod_revision is still
// modRevision; it returns whether it did.
export async function deleteIfUnchanged(key, modRevision) {
  const k = toB64(key);
  const r = await post("/v3/kv/txn", {
    compare: [{ key: k, target: "MOD", result: "EQUAL", mod_revision: String(modRevision) }],
    success: [{ request_delete_range: { key: k } }],
  });
  return !!r.succeeded;
}

export async function deleteRange(key, end) {
  const body = { key: toB64(key) };
  if (end) body.range_end = toB64(end);
  const r = await post("/v3/kv/deleterange", body);
  return Number(r.deleted ?? 0);
}

export const leases = async () => (await post("/v3/lease/leases", {})).leases?.map((l) => l.ID) ?? [];
export const timeToLive = (id, keys) => post("/v3/lease/timetolive", { ID: id, keys: !!keys });
export const grant = (ttl) => post("/v3/lease/grant", { TTL: String(ttl) });
export const revoke = (id) => post("/v3/lease/revoke", { ID: id });
// keepAliveOnce renews a lease with one keepalive request on the streaming
// endpoint (a request body of one message gets one answer line).
export async function keepAliveOnce(id) {
  const res = await fetch("/v3/lease/keepalive", { method: "POST", headers: headers(), body: JSON.stringify({ ID: id }) });
  const line = (await res.text()).split("\n")[0];
  const json = JSON.parse(line);
  if (json.error) throw new APIError(json.message || json.error, json.code, res.status);
  return json.result;
}

export const members = () => post("/v3/cluster/member/list", {});
export const status = () => post("/v3/maintenance/status", {});
export const alarms = () => post("/v3/maintenance/alarm", { action: "GET" });
