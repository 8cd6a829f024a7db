// The dashboard's shell: the navigation, the pages, the connection state.
import { render } from "preact";
import { useState } from "preact/hooks";
import { useRoute } from "./route.js";
import { KeysPage } from "./keys.jsx";
import { LeasesPage } from "./leases.jsx";
import { ErrorLine, useModule } from "./ui.jsx";
import "./style.css";

// The cluster page (uPlot, the metrics parser) is its own chunk.
const loadCluster = () => import("./cluster.jsx");

function App() {
  const route = useRoute();
  const [live, setLive] = useState({ state: "connecting", detail: "" });
  const cluster = useModule(loadCluster, route.page === "cluster");
  const tab = (page, label) => (
    <a href={`#/${page}`} class={route.page === page ? "tab on" : "tab"} aria-current={route.page === page ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <div class="app">
      <header>
        <span class="brand">cairn</span>
        <nav>
          {tab("keys", "Keys")}
          {tab("leases", "Leases")}
          {tab("cluster", "Cluster")}
        </nav>
        <span class={`live ${live.state}`} title={live.detail} data-testid="live">
          {{ open: "live", connecting: "connecting…", closed: `offline, ${live.detail}`, idle: "" }[live.state]}
        </span>
      </header>
      <main>
        {route.page === "keys" && <KeysPage openKey={route.key} onLive={setLive} />}
        {route.page === "leases" && <LeasesPage />}
        {route.page === "cluster" &&
          (cluster.module ? <cluster.module.ClusterPage /> : cluster.error ? <ErrorLine error={`the cluster page did not load: ${cluster.error}`} /> : <p class="muted">loading…</p>)}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app"));
