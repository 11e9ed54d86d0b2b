#!/usr/bin/env node
// signetctl launcher: runs the compiled CLI (dist/, after `npm run build`) when it
// exists, otherwise the TypeScript source through tsx. SIGNETCTL_FROM_SOURCE=1 forces
// the source (tests, development with a stale dist/).
/* global process, console, URL */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const source = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

if (existsSync(dist) && process.env.SIGNETCTL_FROM_SOURCE !== "1") {
  await import(pathToFileURL(dist).href);
} else {
  let tsx;
  try {
    tsx = import.meta.resolve("tsx");
  } catch {
    console.error("signetctl: neither dist/ (npm run build) nor tsx (npm ci) is available");
    process.exit(2);
  }
  const child = spawn(
    process.execPath,
    ["--conditions=@signet/source", "--import", tsx, source, ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}
