// The leases page: every lease with a live countdown and its keys; grant,
// keep alive once, revoke. The countdown runs in the page from the TTL the
// member reported; at zero the lease is asked for again (the leader may not
// have expired it yet), and the list is re-read every 5 s for leases granted
// elsewhere.
import { useEffect, useState } from "preact/hooks";
import { leases, timeToLive, grant, revoke, keepAliveOnce } from "./api.js";
import { fromB64, show } from "./bytes.js";
import { keyLink } from "./route.js";
import { ErrorLine } from "./ui.jsx";

async function readAll() {
  const ids = await leases();
  const now = Date.now();
  const out = await Promise.all(
    ids.map(async (id) => {
      const t = await timeToLive(id, true);
      return { id, ttl: Number(t.TTL), granted: Number(t.grantedTTL ?? 0), keys: (t.keys ?? []).map(fromB64), at: now };
    }),
  );
  return out.filter((l) => l.ttl >= 0).sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function LeasesPage() {
  const [list, setList] = useState(null);
  const [err, setErr] = useState("");
  const [now, setNow] = useState(Date.now());
  const [ttl, setTtl] = useState("60");
  const refresh = async () => {
    try {
      setList(await readAll());
      setErr("");
    } catch (e) {
      setErr(e.message);
    }
  };
  useEffect(() => {
    refresh();
    const tick = setInterval(() => setNow(Date.now()), 250);
    const reread = setInterval(refresh, 5000);
    return () => {
      clearInterval(tick);
      clearInterval(reread);
    };
  }, []);
  useEffect(() => {
    // At zero, ask again (at most once a second): the leader expires it soon.
    if (list?.some((l) => l.at + l.ttl * 1000 <= now - 500) && list.every((l) => now - l.at > 1000)) refresh();
  }, [now]);
  const act = (f) => async () => {
    try {
      await f();
      await refresh();
    } catch (e) {
      setErr(e.message);
    }
  };
  return (
    <div class="leases">
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); act(() => grant(Number(ttl)))(); }}>
        <label>TTL (s) <input value={ttl} size="6" onInput={(e) => setTtl(e.target.value)} /></label>
        <button type="submit">Grant lease</button>
        <button type="button" onClick={refresh}>Refresh</button>
      </form>
      {err && <ErrorLine error={err} />}
      {list === null ? (
        <p class="muted">loading…</p>
      ) : list.length === 0 ? (
        <p class="muted">No leases.</p>
      ) : (
        <table class="grid" data-testid="leases">
          <thead><tr><th>ID</th><th>left</th><th>granted TTL</th><th>keys</th><th /></tr></thead>
          <tbody>
            {list.map((l) => {
              const left = Math.max(0, Math.ceil((l.at + l.ttl * 1000 - now) / 1000));
              const frac = l.granted ? Math.min(1, left / l.granted) : 0;
              return (
                <tr data-lease={l.id}>
                  <td class="mono">{l.id}</td>
                  <td>
                    <span class="countdown" data-testid="countdown">{left} s</span>
                    <span class="bar"><span style={{ width: `${frac * 100}%` }} /></span>
                  </td>
                  <td>{l.granted} s</td>
                  <td>{l.keys.length === 0 ? <span class="muted">none</span> : l.keys.map((k) => <a class="chip" href={keyLink(k)}>{show(k, "hex")}</a>)}</td>
                  <td class="actions">
                    <button onClick={act(() => keepAliveOnce(l.id))}>Keep alive</button>
                    <button class="danger" onClick={act(async () => { if (confirm(`Revoke lease ${l.id} and delete its ${l.keys.length} keys?`)) await revoke(l.id); })}>Revoke…</button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
