// Builds the dashboard into dist/: one ES module bundle (app.js) and its
// stylesheet (app.css), served by the member at /ui/ with the page that
// loads them (web.go, indexHTML).
// The output is deterministic (no timestamps, no content hashes in names):
// web/web_test.go rebuilds it and fails when the committed dist/ differs.
import * as esbuild from "esbuild";
import { mkdir } from "node:fs/promises";

const watch = process.argv.includes("--watch");
// --outdir DIR builds elsewhere (the Go test compares such a build with dist/).
const at = process.argv.indexOf("--outdir");
const outdir = at > 0 ? process.argv[at + 1] : "dist";
const options = {
  entryPoints: { app: "src/main.jsx" },
  outdir,
  bundle: true,
  format: "esm",
  splitting: true, // the editor and the cluster page load when first shown
  chunkNames: "chunk-[hash]",
  minify: true,
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
  loader: { ".css": "css" },
};

await mkdir(outdir, { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log("watching src/ ...");
} else {
  await esbuild.build(options);
}
