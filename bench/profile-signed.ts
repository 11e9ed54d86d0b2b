// CPU profile of the data server under signed GET /me load (not part of npm run bench): the
// server (bench/http-server.ts) warms up for 3 s of load, then profiles 6 s of it (20
// connections), start-up and warm-up left out; the .cpuprofile lands in $PROFILE_DIR
// (default /tmp/signet-profile), to open in Chrome DevTools, and a summary is printed: the
// busy samples (idle left out) by the file they ran in (self) and by the files on their stack
// (inclusive), so what a plugin or hook costs shows up whichever library it calls.
// The profiler samples wall-clock time: time the process spends descheduled shows up too,
// inside whatever it was doing — on two shared cores mostly in `writev` (a socket write to
// PostgreSQL or to the client wakes the reader, which may take the core). For CPU time alone,
// `perf record -g -p <server pid>` with the server under node --perf-basic-prof.
// Run: node --conditions=@signet/source --import tsx bench/profile-signed.ts [route]
//   route: signed (default), jwt or unsigned — the same handler behind the yardsticks.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type autocannon from "autocannon";
import { createTestDatabase } from "@signet/test-support/db";
import { MASTER_KEY } from "@signet/test-support/keys";
import { ROOT, stopChild } from "@signet/test-support/processes";
import { seedCredentials } from "@signet/test-support/seed";
import { jwtHs256 } from "./http.js";
import { cannon, signedRequests } from "./support.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Busy time by file: where each sample ran (self) and every file on its stack (inclusive). */
export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const file = (n: ProfileNode) =>
    n.callFrame.url
      .replace(/^.*\/node_modules\//, "")
      .replace(`file://${ROOT}/`, "")
      .replace(`${ROOT}/`, "") || n.callFrame.functionName;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  const stack = (id: number) => {
    const nodes: ProfileNode[] = [];
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) nodes.push(byId.get(n)!);
    return nodes;
  };
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") return;
    // the profiler's own stop (bench/http-server.ts) is not the server's work
    if (stack(id).some((n) => n.callFrame.url === "node:inspector")) return;
    const dt = profile.timeDeltas[i] ?? 0;
    busy += dt;
    self.set(file(node), (self.get(file(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (const n of stack(id)) {
      const f = file(n);
      if (f && !seen.has(f)) {
        seen.add(f);
        inclusive.set(f, (inclusive.get(f) ?? 0) + dt);
      }
    }
  });
  const table = (title: string, m: Map<string, number>) =>
    [
      title,
      ...[...m]
        .filter(([f]) => f !== "(root)")
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([f, t]) => `${((100 * t) / busy).toFixed(1).padStart(6)} %  ${f}`),
    ].join("\n");
  return [
    `busy ${(busy / 1000).toFixed(0)} ms`,
    table("self, by file:", self),
    table("inclusive, by file:", inclusive),
  ].join("\n\n");
}

const route = process.argv[2] ?? "signed";
if (!["signed", "jwt", "unsigned"].includes(route)) throw new Error(`route: signed, jwt or unsigned`);
const profileDir = process.env.PROFILE_DIR ?? "/tmp/signet-profile";
mkdirSync(profileDir, { recursive: true });
const profileFile = join(profileDir, `data-${route}-${Date.now()}.cpuprofile`);
const database = await createTestDatabase({ prefix: "signet_bench_profile", db: { max: 2 } });
try {
  const { consumer, user, token } = await seedCredentials(database.db);
  const jwtSecret = randomBytes(32).toString("base64url");
  const child = spawn(
    process.execPath,
    ["--conditions=@signet/source", "--import", "tsx", "bench/http-server.ts"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_DATABASE_URL: database.url,
        SIGNET_MASTER_KEY: MASTER_KEY,
        BENCH_JWT_SECRET: jwtSecret,
        BENCH_USER: JSON.stringify({ id: user.id, username: user.username, display_name: user.display_name }),
        BENCH_CPU_PROFILE: profileFile,
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve((JSON.parse(line) as { url: string }).url),
    ),
  );
  const now = Math.floor(Date.now() / 1000);
  const load = (duration: number): autocannon.Options =>
    route === "signed"
      ? {
          url,
          duration,
          connections: 20,
          requests: signedRequests(url, { method: "GET", url: "/me", consumer, token }),
        }
      : route === "jwt"
        ? {
            url: `${url}/me-jwt`,
            duration,
            connections: 20,
            headers: {
              authorization: `Bearer ${jwtHs256(jwtSecret, { sub: user.id, iat: now, exp: now + 3600 })}`,
            },
          }
        : { url: `${url}/me-unsigned`, duration, connections: 20 };
  await cannon("warm-up", load(3));
  child.kill("SIGUSR2");
  const figure = await cannon(`${route} GET /me under the profiler`, load(6));
  await stopChild(child);
  console.log(figure);
  console.log(summarize(JSON.parse(readFileSync(profileFile, "utf8")) as CpuProfile));
  console.log(`profile written to ${profileFile}`);
} finally {
  await database.drop();
}
