#!/usr/bin/env node
// signetctl launcher: runs the compiled CLI (dist/, after `npm run build`) when it
// exists, otherwise the TypeScript source through tsx. SIGNETCTL_FROM_SOURCE=1 forces
// the source (tests, development with a stale dist/).
/* global process, console, URL */
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const source = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

if (existsSync(dist) && process.env.SIGNETCTL_FROM_SOURCE !== "1") {
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
