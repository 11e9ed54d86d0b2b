#!/usr/bin/env node
// `npm start`'s launcher: bundles scripts/start.ts and the workspaces' TypeScript sources it
// imports into one JavaScript file with esbuild (a third of a second), then runs it with
// plain node. Every package from node_modules stays external, loaded as usual. Running
// under tsx instead would keep its loader thread and a copy of every module it compiled:
// about 80 MB more (README.md, "npm start's memory").
// Original source positions in stack traces: NODE_OPTIONS=--enable-source-maps npm start.
/* global process, console */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(root, "scripts/start.ts");

async function bundle() {
  const esbuild = await import("esbuild");
  const dir = path.join(root, "node_modules/.cache/signet");
  mkdirSync(dir, { recursive: true });
  // one file per process: two starts at once never read each other's half-written bundle
  const outfile = path.join(dir, `start-${process.pid}.mjs`);
  try {
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["@signet/source"],
      sourcemap: "linked",
      logLevel: "warning",
      plugins: [
        {
          name: "signet-sources-only",
          setup(build) {
            // only the workspaces' sources go into the bundle; packages load from node_modules
            build.onResolve({ filter: /^[^./]/ }, (args) =>
              args.path.startsWith("@signet/") ? undefined : { path: args.path, external: true },
            );
            // a module that finds files beside itself (the frontend's views/) keeps its own URL
            build.onLoad({ filter: /\.ts$/ }, (args) => ({
              contents: readFileSync(args.path, "utf8").replaceAll(
                "import.meta.url",
                JSON.stringify(pathToFileURL(args.path).href),
              ),
              loader: "ts",
            }));
          },
        },
      ],
    });
  } finally {
    await esbuild.stop();
  }
  return outfile;
}

let outfile;
try {
  outfile = await bundle();
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND") {
    console.error("npm start failed: esbuild is not installed; run `npm ci` first");
    process.exit(1);
  }
  throw error;
}
try {
  await import(pathToFileURL(outfile).href);
} finally {
  // loaded: the bundle (and its map) are not needed on disk any more
  rmSync(outfile, { force: true });
  rmSync(`${outfile}.map`, { force: true });
}
