// The keys page: the tree (lazy, paged, live), prefix search, create, and
// the editor of the open key.
import { useEffect, useRef, useState } from "preact/hooks";
import { listChildren, countUnder, searchPrefix } from "./tree.js";
import { fromText, prefixEnd, show } from "./bytes.js";
import { WatchSocket } from "./watch.js";
import { keyLink } from "./route.js";
import { post } from "./api.js";
import { toB64 } from "./bytes.js";
import { ErrorLine, useModule } from "./ui.jsx";

// The editor (CodeMirror, the diff view, YAML) is its own chunk, loaded
// when a key is first opened: the tree does not wait for it.
const loadEditor = () => import("./editor.jsx");

const PAGE = 100;

// model holds what the tree shows: one listing per open prefix.
function newModel(root, sep) {
  return { root, sep, listings: new Map(), expanded: new Set(), flash: new Map(), revision: 0 };
}

export function KeysPage({ openKey, onLive }) {
  const editor = useModule(loadEditor, openKey !== null);
  const [root, setRoot] = useState(localStorage.getItem("cairn.root") ?? "");
  const [sep, setSep] = useState(localStorage.getItem("cairn.sep") ?? "/");
  const [binaryAs, setBinaryAs] = useState(localStorage.getItem("cairn.binary") ?? "hex");
  const [, setTick] = useState(0);
  const bump = () => setTick((n) => n + 1);
  const model = useRef(null);
  const socket = useRef(null);
  const editorEvents = useRef(null);
  const [creating, setCreating] = useState(null);

  if (!model.current || model.current.root !== fromText(root) || model.current.sep !== sep) {
    model.current = newModel(fromText(root), sep);
  }
  const m = model.current;

  async function load(prefix, more) {
    const m = model.current;
    const cur = m.listings.get(prefix) ?? { children: [], next: "", loading: false, error: "" };
    if (cur.loading) return;
    m.listings.set(prefix, { ...cur, loading: true, error: "" });
    bump();
    try {
      const r = await listChildren(prefix, m.sep, more ? cur.next : "", PAGE);
      if (model.current !== m) return;
      const children = more ? cur.children.concat(r.children) : r.children;
      m.listings.set(prefix, { children, next: r.next, loading: false, error: "" });
      if (prefix === m.root && !more) {
        m.revision = r.revision;
        socket.current?.set("tree", m.root, prefixEnd(m.root), r.revision + 1);
      }
    } catch (e) {
      m.listings.set(prefix, { ...cur, loading: false, error: e.message });
    }
    bump();
  }

  // The socket lives as long as the page; the tree's watch follows the root.
  useEffect(() => {
    const s = new WatchSocket({
      onState: (state, detail) => onLive({ state, detail: detail ?? "" }),
      onEvents: (name, events) => {
        for (const e of events) {
          if (name === "tree") applyEvent(model.current, e, bump);
          if (e.kv.key === editorEvents.key) editorEvents.current?.(e);
        }
        bump();
      },
      onReset: (name) => {
        if (name === "tree") {
          model.current.listings.clear();
          load(model.current.root);
        }
      },
    });
    socket.current = s;
    return () => s.close();
  }, []);

  useEffect(() => {
    load(m.root);
  }, [m]);

  // A deep link opens the tree down to its key.
  useEffect(() => {
    if (openKey === null || !m.sep || !openKey.startsWith(m.root)) return;
    for (let i = openKey.indexOf(m.sep, m.root.length); i >= 0; i = openKey.indexOf(m.sep, i + m.sep.length)) {
      const p = openKey.slice(0, i + m.sep.length);
      if (!m.expanded.has(p)) {
        m.expanded.add(p);
        load(p);
      }
    }
  }, [openKey, m]);

  // The open key gets its own watch when the tree's does not cover it.
  useEffect(() => {
    editorEvents.key = openKey;
    const s = socket.current;
    if (openKey === null || !s) return;
    if (!openKey.startsWith(m.root)) s.set("key", openKey, "", 0);
    return () => s.remove("key");
  }, [openKey, m]);

  const toggle = (node) => {
    const p = node.key + sep;
    if (m.expanded.has(p)) m.expanded.delete(p);
    else {
      m.expanded.add(p);
      if (!m.listings.has(p)) load(p);
    }
    bump();
  };

  const rows = [];
  flatten(m, m.root, 0, rows);

  return (
    <div class="keys">
      <section class="side">
        <div class="toolbar">
          <label>
            root <input value={root} size="8" placeholder="(all)" onChange={(e) => { setRoot(e.target.value); localStorage.setItem("cairn.root", e.target.value); }} />
          </label>
          <label>
            separator <input value={sep} size="1" maxLength="4" onChange={(e) => { setSep(e.target.value); localStorage.setItem("cairn.sep", e.target.value); }} />
          </label>
          <label>
            binary as{" "}
            <select value={binaryAs} onChange={(e) => { setBinaryAs(e.target.value); localStorage.setItem("cairn.binary", e.target.value); }}>
              <option value="hex">hex</option>
              <option value="base64">base64</option>
            </select>
          </label>
          <button onClick={() => { editor.want(); setCreating(openKey && openKey.endsWith(sep) ? openKey : m.root); }}>New key</button>
        </div>
        <Search binaryAs={binaryAs} />
        <Tree m={m} rows={rows} openKey={openKey} toggle={toggle} load={load} binaryAs={binaryAs} bump={bump} />
      </section>
      <section class="detail">
        {editor.error ? (
          <ErrorLine error={`the editor did not load: ${editor.error}`} />
        ) : (creating !== null || openKey !== null) && !editor.module ? (
          <p class="muted">loading the editor…</p>
        ) : creating !== null ? (
          <editor.module.CreateForm prefix={creating} onDone={(key) => { setCreating(null); if (key !== null) location.hash = keyLink(key); }} />
        ) : openKey !== null ? (
          <editor.module.Editor key={openKey} k={openKey} binaryAs={binaryAs} events={editorEvents} />
        ) : (
          <p class="hint">Pick a key in the tree, or search by prefix. Arrow keys move in the tree, Enter opens.</p>
        )}
      </section>
    </div>
  );
}

// flatten lists the visible rows of the tree under prefix.
function flatten(m, prefix, depth, rows) {
  const l = m.listings.get(prefix);
  if (!l) return;
  for (const node of l.children) {
    rows.push({ node, depth, prefix });
    const p = node.key + m.sep;
    if (node.dir && m.expanded.has(p)) flatten(m, p, depth + 1, rows);
  }
  if (l.loading) rows.push({ loading: true, depth, prefix });
  else if (l.error) rows.push({ error: l.error, depth, prefix });
  else if (l.next) rows.push({ more: true, depth, prefix });
  else if (l.children.length === 0 && depth === 0) rows.push({ empty: true, depth, prefix });
}

function Tree({ m, rows, openKey, toggle, load, binaryAs, bump }) {
  const onKeyDown = (e) => {
    const items = [...e.currentTarget.querySelectorAll("[data-row]")];
    const i = items.indexOf(document.activeElement);
    if (i < 0) return;
    const row = rows[Number(items[i].dataset.row)];
    const node = row?.node;
    const go = (j) => items[Math.max(0, Math.min(items.length - 1, j))]?.focus();
    if (e.key === "ArrowDown") go(i + 1);
    else if (e.key === "ArrowUp") go(i - 1);
    else if (e.key === "ArrowRight" && node?.dir && !m.expanded.has(node.key + m.sep)) toggle(node);
    else if (e.key === "ArrowLeft" && node?.dir && m.expanded.has(node.key + m.sep)) toggle(node);
    else if (e.key === "ArrowLeft" && row) {
      const parent = rows.findIndex((r) => r.node && r.node.key + m.sep === row.prefix);
      if (parent >= 0) items.find((el) => el.dataset.row === String(parent))?.focus();
    } else if (e.key === "Enter" && node) {
      if (node.leaf) location.hash = keyLink(node.key);
      else toggle(node);
    } else return;
    e.preventDefault();
  };
  return (
    <div class="tree" role="tree" aria-label="keys" onKeyDown={onKeyDown} data-testid="tree">
      {rows.map((r, i) => {
        const pad = { paddingLeft: `${0.4 + r.depth * 1.1}em` };
        if (r.loading) return <div class="row muted" style={pad}>loading…</div>;
        if (r.error) return <div class="row" style={pad}><ErrorLine error={r.error} /> <button onClick={() => load(r.prefix, true)}>retry</button></div>;
        if (r.empty) return <div class="row muted" style={pad}>no keys</div>;
        if (r.more)
          return (
            <div class="row" style={pad}>
              <button class="more" data-row={i} onClick={() => load(r.prefix, true)}>more…</button>
            </div>
          );
        const n = r.node;
        const open = m.expanded.has(n.key + m.sep);
        const flash = m.flash.get(n.key);
        return (
          <div
            role="treeitem"
            aria-expanded={n.dir ? open : undefined}
            aria-selected={n.key === openKey}
            tabIndex={0}
            data-row={i}
            data-key={show(n.key, binaryAs)}
            class={`row node ${n.key === openKey ? "sel" : ""} ${flash ? "flash-" + flash : ""}`}
            style={pad}
            onClick={() => (n.leaf && !n.dir ? (location.hash = keyLink(n.key)) : toggle(n))}
          >
            {n.dir ? <span class="twisty">{open ? "▾" : "▸"}</span> : <span class="twisty" />}
            <span class="name">{show(n.name, binaryAs) + (n.dir ? m.sep : "")}</span>
            {n.dir && n.leaf && (
              <a class="badge" href={keyLink(n.key)} onClick={(e) => e.stopPropagation()} title="this key has a value of its own">value</a>
            )}
            {n.dir && <DeleteDir node={n} sep={m.sep} binaryAs={binaryAs} bump={bump} />}
          </div>
        );
      })}
    </div>
  );
}

// DeleteDir deletes a directory (every key under key+sep, and the key
// itself) after showing how many keys go.
function DeleteDir({ node, sep, binaryAs }) {
  const [err, setErr] = useState("");
  const del = async (e) => {
    e.stopPropagation();
    try {
      const p = node.key + sep;
      const n = (await countUnder(p)) + (node.leaf ? 1 : 0);
      if (!confirm(`Delete ${n} key${n === 1 ? "" : "s"} under ${show(p, binaryAs)}${node.leaf ? " and the key " + show(node.key, binaryAs) : ""}?`)) return;
      await post("/v3/kv/txn", {
        success: [
          { request_delete_range: { key: toB64(p), range_end: toB64(prefixEnd(p)) } },
          { request_delete_range: { key: toB64(node.key) } },
        ],
      });
    } catch (x) {
      setErr(x.message);
    }
  };
  return (
    <>
      <button class="del" title="delete everything under this prefix" onClick={del}>delete…</button>
      {err && <ErrorLine error={err} />}
    </>
  );
}

// applyEvent updates the listings that show the key of event e, and marks
// the node to flash.
function applyEvent(m, e, bump) {
  const key = e.kv.key;
  // Every listed prefix the key is under, shallowest first.
  const prefixes = [...m.listings.keys()].filter((p) => key.startsWith(p) && (p === m.root || m.expanded.has(p)));
  prefixes.sort((a, b) => a.length - b.length);
  for (const p of prefixes) {
    const l = m.listings.get(p);
    const rest = key.slice(p.length);
    const i = m.sep ? rest.indexOf(m.sep) : -1;
    const name = i < 0 ? rest : rest.slice(0, i);
    const idx = l.children.findIndex((c) => c.name === name);
    const node = idx >= 0 ? l.children[idx] : null;
    const deepest = p === prefixes[prefixes.length - 1];
    if (e.type === "PUT") {
      if (node) {
        if (i < 0) node.leaf = true;
        else node.dir = true;
        if (deepest) flash(m, node.key, "changed", bump);
      } else if (!l.next || p + name < l.next) {
        const n = { name, key: p + name, dir: i >= 0, leaf: i < 0 };
        let at = l.children.findIndex((c) => c.name > name);
        if (at < 0) at = l.children.length;
        l.children.splice(at, 0, n);
        flash(m, n.key, "new", bump);
      }
    } else if (node) {
      if (i < 0) {
        node.leaf = false;
        if (!node.dir) {
          l.children.splice(idx, 1);
          m.flash.delete(node.key);
        }
      } else {
        // A key under a child directory went: the directory goes too when it
        // was the last one.
        countUnder(node.key + m.sep).then((n) => {
          if (n === 0) {
            node.dir = false;
            const j = l.children.indexOf(node);
            if (!node.leaf && j >= 0) l.children.splice(j, 1);
            bump();
          }
        }, () => {});
      }
    }
  }
}

function flash(m, key, kind, bump) {
  m.flash.set(key, kind);
  setTimeout(() => {
    if (m.flash.get(key) === kind) {
      m.flash.delete(key);
      bump();
    }
  }, 1500);
}

// Search lists the keys that start with what is typed, a page at a time.
function Search({ binaryAs }) {
  const [q, setQ] = useState("");
  const [res, setRes] = useState(null);
  const [err, setErr] = useState("");
  const run = async (more) => {
    setErr("");
    try {
      const r = await searchPrefix(fromText(q), more ? res.next : "", PAGE);
      setRes({ keys: more ? res.keys.concat(r.keys) : r.keys, next: r.next });
    } catch (e) {
      setErr(e.message);
    }
  };
  return (
    <form class="search" onSubmit={(e) => { e.preventDefault(); run(false); }}>
      <input type="search" placeholder="keys starting with…" value={q} onInput={(e) => setQ(e.target.value)} aria-label="search by prefix" />
      <button type="submit">Search</button>
      {res && <button type="button" onClick={() => setRes(null)}>clear</button>}
      {err && <ErrorLine error={err} />}
      {res && (
        <ul class="results" data-testid="results">
          {res.keys.length === 0 && <li class="muted">no key starts with that</li>}
          {res.keys.map((k) => (
            <li><a href={keyLink(k)}>{show(k, binaryAs)}</a></li>
          ))}
          {res.next && <li><button type="button" onClick={() => run(true)}>more…</button></li>}
        </ul>
      )}
    </form>
  );
}
