// The value editor (CodeMirror 6): view and edit one key, with JSON/YAML
// checking and pretty-printing, binary values as hex or base64, a
// conflict-safe save (a txn that compares the mod_revision the editor
// loaded) whose conflicts show as a diff (@codemirror/merge), and delete.
import { useEffect, useRef, useState } from "preact/hooks";
import { EditorView, basicSetup } from "codemirror";
import { EditorState, Compartment } from "@codemirror/state";
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import { MergeView } from "@codemirror/merge";
import { range, putIfUnchanged, deleteIfUnchanged, grant } from "./api.js";
import { asText, fromB64, fromHex, fromText, show, toB64, toHex } from "./bytes.js";
import { check, detect, pretty } from "./format.js";
import { ErrorLine } from "./ui.jsx";

const theme = EditorView.theme({
  "&": { color: "var(--fg)", backgroundColor: "var(--bg2)", border: "1px solid var(--line)" },
  ".cm-content": { caretColor: "var(--fg)" },
  ".cm-gutters": { backgroundColor: "var(--bg)", color: "var(--muted)", border: "none" },
  ".cm-activeLine, .cm-activeLineGutter": { backgroundColor: "var(--hover)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: "var(--select)" },
});

const language = (format) => (format === "json" ? json() : format === "yaml" ? yaml() : []);

// encodingOf is how the editor shows bytes: "text" when they are UTF-8
// text, else the chosen "hex" or "base64".
const encodingOf = (bs, binaryAs) => (asText(bs) !== null ? "text" : binaryAs);

function encode(bs, enc) {
  if (enc === "hex") return toHex(bs);
  if (enc === "base64") return toB64(bs);
  return asText(bs) ?? "";
}

function decode(text, enc) {
  if (enc === "hex") return fromHex(text);
  if (enc === "base64") {
    try {
      return fromB64(text.replace(/\s+/g, ""));
    } catch {
      throw new Error("not base64");
    }
  }
  return fromText(text);
}

// useCodeMirror mounts an editor in the returned ref's element.
function useCodeMirror(initial, format, onChange) {
  const el = useRef(null);
  const view = useRef(null);
  const lang = useRef(new Compartment());
  useEffect(() => {
    view.current = new EditorView({
      parent: el.current,
      state: EditorState.create({
        doc: initial,
        extensions: [basicSetup, theme, EditorView.lineWrapping, lang.current.of(language(format)),
          EditorView.updateListener.of((u) => u.docChanged && onChange(u.state.doc.toString()))],
      }),
    });
    return () => view.current.destroy();
  }, []);
  useEffect(() => {
    view.current?.dispatch({ effects: lang.current.reconfigure(language(format)) });
  }, [format]);
  const set = (text) => view.current.dispatch({ changes: { from: 0, to: view.current.state.doc.length, insert: text } });
  return { el, set, get: () => view.current.state.doc.toString() };
}

export function Editor({ k, binaryAs, events }) {
  const [state, setState] = useState({ loading: true });
  const [saved, setSaved] = useState(0); // the revision this page's last save made
  const load = async () => {
    try {
      const r = await range(k, "");
      setState({ kv: r.kvs[0] ?? null, revision: r.revision });
    } catch (e) {
      setState({ error: e.message });
    }
  };
  useEffect(() => {
    load();
  }, [k]);
  if (state.loading) return <p class="muted">loading…</p>;
  if (state.error) return <ErrorLine error={state.error} />;
  if (!state.kv)
    return (
      <div class="editor">
        <h2 class="keyname">{show(k, binaryAs)}</h2>
        <p class="muted" data-testid="missing">This key does not exist (now, at revision {state.revision}).</p>
      </div>
    );
  const onSaved = (rev) => {
    setSaved(rev);
    load();
  };
  return <Loaded key={state.kv.modRevision} kv={state.kv} binaryAs={binaryAs} events={events} reload={load} onSaved={onSaved} saved={saved} />;
}

function Loaded({ kv, binaryAs, events, reload, onSaved, saved }) {
  const enc = encodingOf(kv.value, binaryAs);
  const initial = encode(kv.value, enc);
  const [format, setFormat] = useState(enc === "text" ? detect(initial) : "text");
  const [text, setText] = useState(initial);
  const [msg, setMsg] = useState({});
  const [conflict, setConflict] = useState(null);
  const [changed, setChanged] = useState(null); // the key as another writer left it
  const cm = useCodeMirror(initial, format, setText);
  const dirty = text !== initial;

  // Live: a change by someone else reloads an untouched editor, and warns an
  // edited one (its save would conflict).
  useEffect(() => {
    events.current = (e) => {
      if (e.kv.modRevision <= kv.modRevision) return;
      if (cm.get() === initial) reload();
      else setChanged(e);
    };
    return () => (events.current = null);
  }, [kv, initial]);

  const syntax = check(text, format);
  const save = async (value, modRevision) => {
    setMsg({});
    let bytes;
    try {
      bytes = decode(value, enc);
    } catch (e) {
      return setMsg({ error: e.message });
    }
    try {
      const r = await putIfUnchanged(kv.key, bytes, modRevision, kv.lease);
      if (r.ok) {
        setConflict(null);
        onSaved(r.revision);
      } else {
        setConflict({ mine: value, theirs: r.current });
      }
    } catch (e) {
      setMsg({ error: e.message });
    }
  };
  const del = async () => {
    if (!confirm(`Delete ${show(kv.key, binaryAs)}?`)) return;
    try {
      if (await deleteIfUnchanged(kv.key, kv.modRevision)) reload();
      else setMsg({ error: "not deleted: the key changed since it was loaded; look at it again first" });
    } catch (e) {
      setMsg({ error: e.message });
    }
  };
  const doPretty = () => {
    try {
      cm.set(pretty(cm.get(), format));
    } catch (e) {
      setMsg({ error: e.message });
    }
  };

  return (
    <div class="editor" data-testid="editor">
      <h2 class="keyname" data-testid="keyname">{show(kv.key, binaryAs)}</h2>
      <dl class="meta">
        <dt>mod_revision</dt><dd data-testid="mod-revision">{kv.modRevision}</dd>
        <dt>create_revision</dt><dd>{kv.createRevision}</dd>
        <dt>version</dt><dd>{kv.version}</dd>
        <dt>lease</dt><dd>{kv.lease === "0" ? "none" : <a href="#/leases">{kv.lease}</a>}</dd>
        <dt>size</dt><dd>{kv.value.length} bytes{enc !== "text" ? `, binary, shown as ${enc}` : ""}</dd>
      </dl>
      <div class="toolbar">
        <label>
          format{" "}
          <select value={format} onChange={(e) => setFormat(e.target.value)} disabled={enc !== "text"}>
            <option value="text">text</option>
            <option value="json">JSON</option>
            <option value="yaml">YAML</option>
          </select>
        </label>
        <button onClick={doPretty} disabled={format === "text" || !!syntax}>Pretty-print</button>
        <button class="primary" onClick={() => save(cm.get(), kv.modRevision)} disabled={!dirty} data-testid="save">Save</button>
        <button onClick={() => cm.set(initial)} disabled={!dirty}>Revert</button>
        <button class="danger" onClick={del}>Delete…</button>
      </div>
      {syntax && <ErrorLine error={syntax} />}
      {msg.error && <ErrorLine error={msg.error} />}
      {saved === kv.modRevision && !dirty && <span class="ok" data-testid="saved">saved at revision {saved}</span>}
      {changed && !conflict && (
        <p class="warn" data-testid="changed">
          {changed.type === "DELETE" ? "Someone deleted this key" : `Someone changed this key (revision ${changed.kv.modRevision})`} while you were editing: saving will show both versions.
        </p>
      )}
      <div ref={cm.el} class="cm" data-testid="value" />
      {conflict && <Conflict conflict={conflict} enc={enc} binaryAs={binaryAs} onSave={save} onTake={() => { setConflict(null); reload(); }} />}
    </div>
  );
}

// Conflict shows the other writer's value beside this editor's as a diff;
// the right side can be edited before saving it over theirs (conflict-safe
// again: the save compares their mod_revision).
function Conflict({ conflict, enc, onSave, onTake }) {
  const el = useRef(null);
  const mv = useRef(null);
  const theirs = conflict.theirs ? encode(conflict.theirs.value, enc) : "";
  useEffect(() => {
    mv.current = new MergeView({
      parent: el.current,
      a: { doc: theirs, extensions: [basicSetup, theme, EditorView.editable.of(false), EditorState.readOnly.of(true)] },
      b: { doc: conflict.mine, extensions: [basicSetup, theme] },
    });
    return () => mv.current.destroy();
  }, [conflict]);
  const rev = conflict.theirs ? conflict.theirs.modRevision : 0;
  return (
    <div class="conflict" role="alert" data-testid="conflict">
      <h3>Conflict: the key changed since you loaded it</h3>
      <p>
        {conflict.theirs ? `Left: the value now (revision ${rev}). ` : "Left: nothing, the key was deleted. "}
        Right: yours, still editable. Save yours over theirs, or take theirs.
      </p>
      <div ref={el} class="merge" />
      <div class="toolbar">
        <button class="primary" onClick={() => onSave(mv.current.b.state.doc.toString(), rev)} data-testid="overwrite">Save mine over theirs</button>
        <button onClick={onTake}>Take theirs</button>
      </div>
    </div>
  );
}

// CreateForm creates a key that does not exist yet (a txn that requires
// mod_revision 0), optionally on a new lease with a TTL or an existing one.
export function CreateForm({ prefix, onDone }) {
  const [key, setKey] = useState(asText(prefix) ?? "");
  const [value, setValue] = useState("");
  const [lease, setLease] = useState("none");
  const [arg, setArg] = useState("");
  const [err, setErr] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    setErr("");
    try {
      let id = "0";
      if (lease === "ttl") id = (await grant(Number(arg))).ID;
      if (lease === "id") id = arg.trim();
      const r = await putIfUnchanged(fromText(key), fromText(value), 0, id);
      if (!r.ok) return setErr("a key with that name exists already: open it to edit");
      onDone(fromText(key));
    } catch (x) {
      setErr(x.message);
    }
  };
  return (
    <form class="create" onSubmit={submit} data-testid="create">
      <h2>New key</h2>
      <label>key <input value={key} onInput={(e) => setKey(e.target.value)} required data-testid="new-key" /></label>
      <label>value <textarea rows="6" value={value} onInput={(e) => setValue(e.target.value)} data-testid="new-value" /></label>
      <fieldset>
        <legend>lease</legend>
        <label><input type="radio" checked={lease === "none"} onChange={() => setLease("none")} /> none</label>
        <label><input type="radio" checked={lease === "ttl"} onChange={() => setLease("ttl")} /> new lease, TTL (s)</label>
        <label><input type="radio" checked={lease === "id"} onChange={() => setLease("id")} /> lease ID</label>
        {lease !== "none" && <input value={arg} onInput={(e) => setArg(e.target.value)} required size="20" />}
      </fieldset>
      {err && <ErrorLine error={err} />}
      <div class="toolbar">
        <button class="primary" type="submit">Create</button>
        <button type="button" onClick={() => onDone(null)}>Cancel</button>
      </div>
    </form>
  );
}
