// The cluster page: members (leader and learners marked, URLs), this
// member's status (version, raft term and indexes, db size), alarms,
// health, and a live chart of writes/s, WAL fsync latency and db size drawn
// by uPlot from this member's /metrics, sampled every 2 s while the page is
// open.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { members, status, alarms, getText } from "./api.js";
import { ErrorLine } from "./ui.jsx";

const bytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

export function ClusterPage() {
  const [info, setInfo] = useState(null);
  const [err, setErr] = useState("");
  const load = async () => {
    try {
      const [m, s, a, h, v] = await Promise.all([members(), status(), alarms(), getText("/health"), getText("/version")]);
      setInfo({ members: m.members ?? [], me: m.header?.member_id, status: s, alarms: a.alarms ?? [], health: h, version: JSON.parse(v.text) });
      setErr("");
    } catch (e) {
      setErr(e.message);
    }
  };
  useEffect(() => {
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, []);
  return (
    <div class="cluster">
      {err && <ErrorLine error={err} />}
      {info && <Summary info={info} />}
      <Chart />
    </div>
  );
}

function Summary({ info }) {
  const s = info.status;
  let healthy = false;
  try {
    healthy = JSON.parse(info.health.text).health === "true";
  } catch {
    /* not JSON: unhealthy */
  }
  return (
    <>
      <dl class="meta wide" data-testid="status">
        <dt>health</dt><dd class={healthy ? "ok" : "error"}>{healthy ? "healthy" : `unhealthy (HTTP ${info.health.status})`}</dd>
        <dt>version</dt><dd>cairn {info.version.cairn}, etcd API {info.version.etcdserver}</dd>
        <dt>raft term</dt><dd>{s.raftTerm}</dd>
        <dt>raft index / applied</dt><dd>{s.raftIndex} / {s.raftAppliedIndex}</dd>
        <dt>db size / in use</dt><dd>{bytes(Number(s.dbSize))} / {bytes(Number(s.dbSizeInUse ?? 0))}</dd>
        <dt>alarms</dt><dd>{info.alarms.length === 0 ? "none" : info.alarms.map((a) => `${a.alarm} on ${a.memberID}`).join(", ")}</dd>
      </dl>
      <table class="grid" data-testid="members">
        <thead><tr><th>name</th><th>ID</th><th>role</th><th>peer URLs</th><th>client URLs</th></tr></thead>
        <tbody>
          {info.members.map((m) => (
            <tr>
              <td>{m.name || <span class="muted">(not started)</span>}{m.ID === info.me ? " (this member)" : ""}</td>
              <td class="mono">{m.ID}</td>
              <td>{m.ID === s.leader ? <strong>leader</strong> : m.isLearner ? "learner" : "follower"}</td>
              <td class="mono">{(m.peerURLs ?? []).join(" ")}</td>
              <td class="mono">{(m.clientURLs ?? []).join(" ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

// sample reads the three series from one /metrics scrape.
function sample(text) {
  const byName = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  const gauge = (n) => Number(byName.get(n)?.metrics?.[0]?.value ?? NaN);
  const h = byName.get("etcd_disk_wal_fsync_duration_seconds")?.metrics?.[0];
  return {
    revision: gauge("etcd_debugging_mvcc_current_revision"),
    fsyncSum: Number(h?.sum ?? NaN),
    fsyncCount: Number(h?.count ?? NaN),
    db: gauge("etcd_mvcc_db_total_size_in_bytes"),
  };
}

const WINDOW = 150; // points kept: 5 minutes at one every 2 s

function Chart() {
  const el = useRef(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    const data = [[], [], [], []];
    const width = () => Math.max(280, el.current.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        series: [
          {},
          { label: "writes/s", stroke: "#2a7ae2", scale: "n" },
          { label: "fsync ms", stroke: "#d9480f", scale: "ms" },
          { label: "db MiB", stroke: "#2b8a3e", scale: "mib" },
        ],
        axes: [{}, { scale: "n" }, { scale: "ms", side: 1, grid: { show: false } }],
      },
      data,
      el.current,
    );
    let prev = null;
    let stopped = false;
    const tick = async () => {
      try {
        const r = await getText("/metrics");
        if (!r.ok) throw new Error(`/metrics: HTTP ${r.status}`);
        const s = { ...sample(r.text), t: Date.now() / 1000 };
        if (prev && !stopped) {
          const dt = s.t - prev.t;
          const dc = s.fsyncCount - prev.fsyncCount;
          data[0].push(s.t);
          data[1].push((s.revision - prev.revision) / dt);
          data[2].push(dc > 0 ? ((s.fsyncSum - prev.fsyncSum) / dc) * 1000 : null);
          data[3].push(s.db / (1 << 20));
          if (data[0].length > WINDOW) data.forEach((d) => d.shift());
          plot.setData(data);
        }
        prev = s;
        setErr("");
      } catch (e) {
        setErr(e.message);
      }
    };
    tick();
    const t = setInterval(tick, 2000);
    const resize = () => plot.setSize({ width: width(), height: 220 });
    addEventListener("resize", resize);
    return () => {
      stopped = true;
      clearInterval(t);
      removeEventListener("resize", resize);
      plot.destroy();
    };
  }, []);
  return (
    <section class="chart">
      <h3>This member, live</h3>
      {err && <ErrorLine error={err} />}
      <div ref={el} data-testid="chart" />
    </section>
  );
}
