// Start-up time and memory of each service run the production way (`npm run start:data`,
// `start:registry`, `start:frontend`: the scripts' command lines from package.json, spawned
// directly so the PID read is the service's own node process and no npm wrapper is timed),
// configured only by environment, on a fresh database and a private nats-server.
//  - ready: spawn → first 200 from /readyz (polled every 20 ms), three starts each, median/max;
//  - RSS (/proc/<pid>/status VmRSS): idle (2 s after ready) and the peak under load
//    (autocannon: data signed GET /me; registry GET /consumers; frontend GET / signed in,
//    which calls the data service with a signed GET /notes).
// Two variants: "tsx" runs the npm scripts' command lines (TypeScript through the tsx loader,
// as `npm run start:*` does); "compiled" runs `node services/<name>/dist/server.js` with the
// image's NODE_OPTIONS (read from the Dockerfile, the one place they are set), as the
// container image does (run `npm run build` first; bench/run.ts does).
// Run alone: node --conditions=@signet/source --import tsx bench/services.ts [compiled]
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type autocannon from "autocannon";
import { Agent } from "@signet/test-support/agent";
import { createTestDatabase } from "@signet/test-support/db";
import { MASTER_KEY } from "@signet/test-support/keys";
import { startPrivateNats } from "@signet/test-support/nats";
import { freePort } from "@signet/test-support/net";
import { npmScriptArgv, ROOT, stopChild } from "@signet/test-support/processes";
import { seedCredentials } from "@signet/test-support/seed";
import { sleep, waitFor } from "@signet/test-support/wait";
import { cannon, rssBytes, signedRequests, summarize, type LoadFigure } from "./support.js";

export type Variant = "tsx" | "compiled";

export interface ServiceFigure {
  service: string;
  variant: Variant;
  /** NODE_OPTIONS the service ran with (the image's, for "compiled"). */
  nodeOptions: string | undefined;
  readyMs: { median: number; max: number; samples: number[] };
  idleRssMb: number;
  loadRssMb: number;
  load: LoadFigure;
}

interface Running {
  child: ChildProcess;
  url: string;
  readyMs: number;
}

/** The runtime image's NODE_OPTIONS (V8's heap flags among them): the Dockerfile's `ENV NODE_OPTIONS=`. */
export function imageNodeOptions(): string {
  const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
  const match = /^ENV NODE_OPTIONS=(?:"([^"]*)"|(\S+))\s*$/m.exec(dockerfile);
  if (!match) throw new Error("the Dockerfile sets no `ENV NODE_OPTIONS=`");
  return (match[1] ?? match[2])!;
}

/** The command line of a service and its environment: the npm script's (tsx) or the image's (compiled). */
function commandLine(service: string, variant: Variant): { argv: string[]; env: Record<string, string> } {
  return variant === "tsx"
    ? { argv: npmScriptArgv(`start:${service}`), env: {} }
    : { argv: ["node", `services/${service}/dist/server.js`], env: { NODE_OPTIONS: imageNodeOptions() } };
}

async function startService(
  { argv, env: runtime }: { argv: string[]; env: Record<string, string> },
  env: Record<string, string>,
): Promise<Running> {
  const port = await freePort();
  const [cmd, ...args] = argv;
  const script = argv.join(" ");
  const started = performance.now();
  const child = spawn(cmd === "node" ? process.execPath : cmd!, args, {
    cwd: ROOT,
    env: { ...process.env, ...runtime, ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `${script} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
      return fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    },
    30_000,
    20,
  );
  return { child, url, readyMs: performance.now() - started };
}

/** Runs `load` while sampling the child's RSS every 100 ms; returns the peak. */
async function peakRssDuring(
  pid: number,
  load: Promise<LoadFigure>,
): Promise<{ peak: number; figure: LoadFigure }> {
  let peak = rssBytes(pid);
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, rssBytes(pid));
      await sleep(100);
    }
  })();
  const figure = await load;
  done = true;
  await sampler;
  return { peak, figure };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Context for the RSS figures: an idle node process, bare and under the tsx loader the
 * start:* scripts use (the production image runs compiled JavaScript without tsx).
 */
export async function loaderBaseline(): Promise<{ bareNodeMb: number; tsxLoaderMb: number }> {
  const idle = async (args: string[]) => {
    const child = spawn(process.execPath, [...args, "-e", "setInterval(() => {}, 1000)"], {
      cwd: ROOT,
      stdio: "ignore",
    });
    await sleep(1_500);
    const rss = rssBytes(child.pid!);
    await stopChild(child);
    return mb(rss);
  };
  return { bareNodeMb: await idle([]), tsxLoaderMb: await idle(["--import", "tsx"]) };
}

export async function run(
  options: { starts?: number; loadSec?: number; connections?: number; variant?: Variant } = {},
): Promise<ServiceFigure[]> {
  const variant = options.variant ?? "tsx";
  const starts = options.starts ?? 3;
  const loadSec = options.loadSec ?? 5;
  const connections = options.connections ?? 10;
  const database = await createTestDatabase({ prefix: "signet_bench_services", db: { max: 2 } });
  const nats = await startPrivateNats();
  const running: ChildProcess[] = [];
  const figures: ServiceFigure[] = [];
  try {
    const { consumer, user, token } = await seedCredentials(database.db);
    const adminToken = randomBytes(24).toString("base64url");
    const common = { DATABASE_URL: database.url, NATS_URL: nats.url, SIGNET_MASTER_KEY: MASTER_KEY };

    /** Starts `starts` times (keeping the last one running) and measures. */
    const measure = async (
      service: string,
      env: Record<string, string>,
      load: (url: string) => autocannon.Options,
      prepare?: (url: string) => Promise<Partial<autocannon.Options>>,
    ): Promise<string> => {
      const samples: number[] = [];
      const command = commandLine(service, variant);
      let last: Running | undefined;
      for (let i = 0; i < starts; i++) {
        last = await startService(command, env);
        samples.push(Math.round(last.readyMs));
        if (i < starts - 1) await stopChild(last.child);
      }
      const svc = last!;
      running.push(svc.child);
      await sleep(2_000);
      const idle = rssBytes(svc.child.pid!);
      const extra = prepare ? await prepare(svc.url) : {};
      const { peak, figure } = await peakRssDuring(
        svc.child.pid!,
        cannon(`${service} under load`, { ...load(svc.url), ...extra }),
      );
      const s = summarize(samples);
      figures.push({
        service,
        variant,
        nodeOptions: command.env.NODE_OPTIONS,
        readyMs: { median: s.p50, max: s.max, samples },
        idleRssMb: mb(idle),
        loadRssMb: mb(peak),
        load: figure,
      });
      return svc.url;
    };

    const dataUrl = await measure("data", common, (url) => ({
      url,
      duration: loadSec,
      connections,
      requests: signedRequests(url, { method: "GET", url: "/me", consumer, token }),
    }));

    await measure("registry", { ...common, SIGNET_ADMIN_TOKENS: `bench:${adminToken}` }, (url) => ({
      url: `${url}/consumers`,
      duration: loadSec,
      connections,
      headers: { authorization: `Bearer ${adminToken}` },
    }));

    await measure(
      "frontend",
      {
        NATS_URL: nats.url,
        DATA_URL: dataUrl,
        SIGNET_CONSUMER_KEY: consumer.key,
        SIGNET_CONSUMER_SECRET: consumer.secret,
        SESSION_SECRET: randomBytes(32).toString("base64url"),
        COOKIE_SECURE: "false",
      },
      (url) => ({ url: `${url}/`, duration: loadSec, connections }),
      async (url) => {
        // sign in once through the login form; the load then reads the notes page with that session
        const agent = new Agent(url);
        const login = await agent.login(user.username, user.password);
        if (login.status !== 302 && login.status !== 303)
          throw new Error(`frontend login answered ${login.status}`);
        const page = await agent.get("/");
        if (page.status !== 200) throw new Error(`frontend / answered ${page.status} after login`);
        return { headers: { cookie: agent.cookieHeader() } };
      },
    );
    return figures;
  } finally {
    for (const child of running.reverse()) await stopChild(child);
    await nats.dispose();
    await database.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const variant: Variant = process.argv[2] === "compiled" ? "compiled" : "tsx";
  console.log(JSON.stringify(await run({ variant }), null, 2));
}
