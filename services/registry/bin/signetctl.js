#!/usr/bin/env node
// signetctl launcher: runs the compiled CLI (dist/, after `npm run build`) when it exists
// and is newer than every file of the CLI's source, otherwise the TypeScript source through
// tsx (so a dist/ built before a pull is never run stale). SIGNETCTL_FROM_SOURCE=1 forces
// the source.
/* global process, console, URL */
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const source = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

// dist/ is fresh when its newest file is at least as new as the newest source file
// (tsc rewrites the output of every changed source; unchanged outputs keep their age).
const newest = (dir, ext) =>
  Math.max(
    0,
    ...readdirSync(dir)
      .filter((f) => f.endsWith(ext))
      .map((f) => statSync(`${dir}${f}`).mtimeMs),
  );
const distDir = fileURLToPath(new URL("../dist/cli/", import.meta.url));
const sourceDir = fileURLToPath(new URL("../src/cli/", import.meta.url));
const distIsFresh = existsSync(dist) && newest(distDir, ".js") >= newest(sourceDir, ".ts");

if (distIsFresh && process.env.SIGNETCTL_FROM_SOURCE !== "1") {
  await import(pathToFileURL(dist).href);
} else {
  // The CLI imports only node: built-ins and its own modules, so tsx's in-process
  // loader is enough (no @signet/source condition needed, no second process).
  let api;
  try {
    api = await import("tsx/esm/api");
  } catch {
    console.error("signetctl: neither dist/ (npm run build) nor tsx (npm ci) is available");
    process.exit(2);
  }
  api.register();
  await import(pathToFileURL(source).href);
}
