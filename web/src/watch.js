// One websocket to GET /v3/watch carries every watch of the page (etcd's
// gateway protocol: a text message per request, one per response). Each
// watch remembers the last revision it delivered; after a dropped
// connection the socket is reopened (with a growing pause, up to 5 s) and
// every watch resumes at that revision + 1, so no event is missed or seen
// twice. A watch whose revision was compacted meanwhile reports onReset: the
// page re-reads what it shows.
import { toB64 } from "./bytes.js";
import { kv } from "./api.js";

export class WatchSocket {
  // onEvents(name, events, revision) gets the events of one revision range;
  // onState(state, detail) gets "connecting" | "open" | "closed" (and
  // "idle" after close);
  // onReset(name) tells that a watch could not resume.
  constructor({ onEvents, onState, onReset }) {
    this.onEvents = onEvents;
    this.onState = onState;
    this.onReset = onReset;
    this.watches = new Map(); // name -> {id, key, end, next (start revision)}
    this.byId = new Map();
    this.nextId = 1;
    this.pause = 250;
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const url = new URL("/v3/watch", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    this.onState("connecting");
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.pause = 250;
      this.onState("open");
      for (const w of this.watches.values()) this.create(w);
    };
    ws.onmessage = (m) => this.receive(JSON.parse(m.data));
    ws.onclose = () => {
      if (this.ws !== ws || this.closed) return;
      this.ws = null;
      this.onState("closed", `reconnecting in ${(this.pause / 1000).toFixed(1)} s`);
      if (!this.closed) setTimeout(() => this.connect(), this.pause);
      this.pause = Math.min(this.pause * 2, 5000);
    };
  }

  open() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  // set watches [key, end) under name from revision start (0: from now on);
  // an existing watch of that name is replaced.
  set(name, key, end, start) {
    this.remove(name);
    const w = { name, id: this.nextId++, key, end, next: start || 0 };
    this.watches.set(name, w);
    this.byId.set(w.id, w);
    if (this.open()) this.create(w);
  }

  remove(name) {
    const w = this.watches.get(name);
    if (!w) return;
    this.watches.delete(name);
    this.byId.delete(w.id);
    if (this.open()) this.ws.send(JSON.stringify({ cancel_request: { watch_id: String(w.id) } }));
  }

  create(w) {
    const req = { key: toB64(w.key), watch_id: String(w.id) };
    if (w.end) req.range_end = toB64(w.end);
    if (w.next) req.start_revision = String(w.next);
    this.ws.send(JSON.stringify({ create_request: req }));
  }

  receive(msg) {
    const r = msg.result;
    if (!r) return;
    const w = this.byId.get(Number(r.watch_id ?? 0));
    if (!w) return;
    const rev = Number(r.header?.revision ?? 0);
    if (r.compact_revision && r.compact_revision !== "0") {
      w.next = 0;
      this.onReset(w.name);
      return;
    }
    if (r.canceled) return;
    if (r.created && !w.next) w.next = rev + 1;
    const events = (r.events ?? []).map((e) => ({ type: e.type === "DELETE" ? "DELETE" : "PUT", kv: kv(e.kv) }));
    if (events.length) {
      w.next = events[events.length - 1].kv.modRevision + 1;
      this.onEvents(w.name, events, rev);
    }
  }

  // close ends every watch and the socket, for good.
  close() {
    this.closed = true;
    this.ws?.close();
    this.onState("idle");
  }
}
