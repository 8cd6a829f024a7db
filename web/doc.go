// Package web is cairn's dashboard: a single-page app that browses, edits
// and watches keys, shows leases and the cluster, over the member's own
// HTTP API (the v3 JSON gateway, its websocket watch, /metrics, /health).
// Every member serves it at /ui/ unless --enable-ui=false.
//
// # Sources and the committed bundle
//
// The app is written in JavaScript in src/ (Preact for the views,
// CodeMirror 6 for the editor, @codemirror/merge for conflict diffs, yaml
// for YAML, uPlot for the chart) and bundled by esbuild (build.mjs) into
// dist/: app.js and app.css, which the page loads (indexHTML in web.go),
// and chunk-<hash>.js files: the code app.js shares with the rest, and the
// editor and the cluster page, which load when first shown (dynamic
// imports), so that the first paint waits for 15 KiB gzipped, not 220.
// Versions are pinned in package-lock.json. dist/ is committed and embedded with go:embed, so
// building cairn needs only Go; after changing src/ run
//
//	cd web && npm ci && npm run build
//
// and commit dist/. TestBundleIsFresh rebuilds the bundle into a temporary
// directory and fails when it differs from the committed one (it skips,
// naming the Debian packages nodejs and npm, when they are not installed).
//
// # What the handler serves
//
// Handler serves dist/ under /ui/: GET or HEAD /ui/ is the page, /ui/app.js,
// /ui/app.css and /ui/chunk-*.js the bundle; /ui redirects to /ui/; any
// other name is 404. TestBundleBudget keeps the bundle within the README's
// size budget.
// Responses carry a strong ETag (the SHA-256 of the file; If-None-Match gets
// 304), are gzip-compressed for clients that accept it, and carry a
// Content-Security-Policy that lets the page load and connect to this
// member only: no CDN, no other host, so the dashboard works on an air-gapped
// host and a script injected through a key's value could not send it
// elsewhere.
//
// # Where the parts of the app are
//
//	src/api.js     the v3 JSON client (base64 bytes, txn for conflict-safe
//	               writes); the auth token slots in its headers()
//	src/tree.js    one level of the key tree from ranges with limit and
//	               keys_only, jumping past each child directory
//	src/watch.js   one websocket for every watch, resumed from the last
//	               revision after a reconnect
//	src/keys.jsx   tree, search, live updates; editor.jsx the value editor
//	src/leases.jsx leases with their countdown; cluster.jsx members, status,
//	               the live chart
//	src/route.js   hash routes (#/key/<key>); room for #/history/<key>
//
// The package knows nothing of the store or raft: the page is a client like
// any other.
package web
