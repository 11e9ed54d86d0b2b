// `npm run test:image` (not part of `npm test`; .ci/run runs it after): the Dockerfile's
// images built and run for real (docs/kubernetes.md, "The image").
//  - a Docker engine (the running one, or dockerd started and later stopped here), the base
//    image (the official one, or scripts/make-base-image.sh's where it cannot be pulled);
//  - the `runtime` and `dev` targets built; a second build of a copy of the tree with one
//    source file changed must take both `npm ci` layers from the cache;
//  - the migration container, then data, registry and frontend as `runtime` containers the
//    way the chart runs them (read-only root, uid 10001, no capabilities) on the host network,
//    a fresh database on the test PostgreSQL and a private nats-server: a login through the
//    frontend container, a signed call to the data container, and a consumer revoked through
//    the registry container with the containerised data pod confirming it;
//  - the `dev` container: a changed source file synced in as Tilt's live_update does (tar
//    through `docker exec`, as the container's user) is served after tsx watch restarts.
// It prints the image sizes, start-to-ready times and the cache figure (README, "Kubernetes")
// and writes them to test-output/image.json (the cache probe's build output beside it).
// Fails, never skips, when no Docker engine can be had.
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "@signet/test-support/agent";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { MASTER_KEY, unique } from "@signet/test-support/keys";
import { freePort } from "@signet/test-support/net";
import { ROOT } from "@signet/test-support/processes";
import { signedFetch } from "@signet/test-support/signed";
import { waitFor } from "@signet/test-support/wait";
import {
  build,
  DOCKER,
  docker,
  ensureEngine,
  envArgs,
  exec,
  HARDENED,
  imageSize,
  must,
  nodeImage,
  type Build,
  type Engine,
} from "./docker.js";

const RUNTIME = "signet-image-test:runtime";
const DEV = "signet-image-test:dev";
const CACHE_PROBE = "signet-image-test:cache-probe";
const MB = 1024 * 1024;
/** The build context: the repository, or SIGNET_IMAGE_CONTEXT (a clean export, e.g. `git archive`). */
const CONTEXT = process.env.SIGNET_IMAGE_CONTEXT ?? ROOT;

const database = useTestDatabase({ migrate: false, prefix: "signet_image" });
const nats = usePrivateNats();
const run = unique("signet-image-");
const containers: string[] = [];
const figures: Record<string, string> = {};
let engine: Engine | undefined;
let base: { image: string; source: string };

beforeAll(async () => {
  // the times below depend on what else the machine runs: say how busy it was
  figures["load average at start (1 min)"] = loadavg()[0]!.toFixed(2);
  engine = await ensureEngine();
  figures["Docker engine"] = engine.started ? "dockerd started by the test" : "already running";
  base = await nodeImage();
  figures["NODE_IMAGE"] = `${base.image} (${base.source})`;
}, 25 * 60_000);

afterAll(async () => {
  if (containers.length) await exec(DOCKER, ["rm", "--force", "--volumes", ...containers]);
  await exec(DOCKER, ["image", "rm", CACHE_PROBE]);
  await engine?.stop();
  figures["load average at end (1 min)"] = loadavg()[0]!.toFixed(2);
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  console.log(
    `\nimage test figures:\n${Object.entries(figures)
      .map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
      .join("\n")}\n`,
  );
  const out = path.join(ROOT, "test-output");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "image.json"), JSON.stringify(figures, null, 2) + "\n");
}, 120_000);

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Starts a detached container, recorded for removal; resolves once `docker run` returned. */
async function start(
  service: string,
  image: string,
  env: Record<string, string>,
  command: string[],
  flags: string[] = HARDENED,
): Promise<string> {
  const name = `${run}-${service}`;
  containers.push(name);
  await docker(["run", "--detach", "--name", name, ...flags, ...envArgs(env), image, ...command], { env });
  return name;
}

/** Polls `url` until it answers 200; fails with the container's log if the container stopped. */
async function waitReady(name: string, url: string): Promise<void> {
  let polls = 0;
  try {
    await waitFor(
      `${name} at ${url}`,
      async () => {
        if (++polls % 25 === 0) {
          const state = (await docker(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim();
          if (state !== "running") throw new Error(`${name} is ${state}`);
        }
        return fetch(url).then(
          (r) => r.status === 200,
          () => false,
        );
      },
      60_000,
      20,
    );
  } catch (error) {
    const logs = await exec(DOCKER, ["logs", "--tail", "30", name]);
    throw new Error(`${(error as Error).message}\n${logs.stdout}${logs.stderr}`);
  }
}

/** Starts a service container and waits for its /readyz; returns its URL and start-to-ready time. */
async function startService(
  service: string,
  image: string,
  env: Record<string, string>,
  command: string[],
  flags?: string[],
): Promise<{ name: string; url: string; readyMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const name = await start(
    service,
    image,
    { HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "warn", ...env },
    command,
    flags,
  );
  await waitReady(name, `${url}/readyz`);
  return { name, url, readyMs: performance.now() - started };
}

describe.sequential("the images", () => {
  let runtimeBuild: Build;
  const admin = { name: "image-test", token: randomBytes(24).toString("base64url") };
  const frontendConsumer = {
    key: `fe${randomBytes(8).toString("hex")}`,
    secret: randomBytes(24).toString("hex"),
  };
  const user = { username: unique("img"), password: "correct horse battery staple", display_name: "" };
  user.display_name = `Image ${user.username}`;
  const services: Record<string, { name: string; url: string; readyMs: number }> = {};

  it("builds the runtime and dev targets", async () => {
    runtimeBuild = await build({ context: CONTEXT, target: "runtime", tag: RUNTIME, nodeImage: base.image });
    const devBuild = await build({ context: CONTEXT, target: "dev", tag: DEV, nodeImage: base.image });
    figures["build runtime, then dev (this run)"] = `${seconds(runtimeBuild.ms)}, ${seconds(devBuild.ms)}`;
    const runtimeSize = await imageSize(RUNTIME);
    const devSize = await imageSize(DEV);
    const baseSize = await imageSize(base.image);
    figures["image size: runtime / dev / base"] =
      `${(runtimeSize / MB).toFixed(0)} / ${(devSize / MB).toFixed(0)} / ${(baseSize / MB).toFixed(0)} MiB`;
    // the runtime image runs as uid 10001 and carries neither compilers nor TypeScript sources
    const config = JSON.parse(
      (await docker(["image", "inspect", "--format", "{{json .Config}}", RUNTIME])).stdout,
    );
    expect(config.User).toBe("10001:10001");
    const listing = await docker([
      "run",
      "--rm",
      ...HARDENED,
      RUNTIME,
      "sh",
      "-c",
      "ls services/data; command -v g++ make python3 || true",
    ]);
    expect(listing.stdout.split("\n")).toContain("dist");
    expect(listing.stdout.split("\n")).not.toContain("src");
    expect(listing.stdout).not.toMatch(/g\+\+|make|python3/);
  });

  it("a second build after a source-only change takes npm ci from the cache", async () => {
    // a copy of the tree with one source file changed (the repository itself is never edited)
    const context = mkdtempSync(path.join(tmpdir(), "signet-image-context-"));
    try {
      const skip = new Set(["node_modules", ".git", "dist", ".signet", ".tools", "test-output", "coverage"]);
      cpSync(CONTEXT, context, {
        recursive: true,
        filter: (source) => !skip.has(path.basename(source)) && !source.endsWith(".tsbuildinfo"),
      });
      const changed = path.join(context, "services/data/src/server.ts");
      writeFileSync(changed, `${readFileSync(changed, "utf8")}\n// ${run}: a source-only change\n`);
      const probe = await build({ context, target: "runtime", tag: CACHE_PROBE, nodeImage: base.image });
      mkdirSync(path.join(ROOT, "test-output"), { recursive: true });
      writeFileSync(path.join(ROOT, "test-output/image-cache-probe.log"), probe.output);
      const npmCi = probe.cached(/^\[deps \d+\/\d+\] RUN .*npm ci$/);
      const npmCiProd = probe.cached(/^\[prod-deps \d+\/\d+\] RUN .*npm ci --omit=dev/);
      const compile = probe.cached(/^\[build \d+\/\d+\] RUN npm run build/);
      figures["rebuild after a source-only change"] =
        `${seconds(probe.ms)}; npm ci ${npmCi ? "CACHED" : "re-run"}, npm ci --omit=dev ${npmCiProd ? "CACHED" : "re-run"}, tsc ${compile ? "CACHED" : "re-run"}`;
      expect(npmCi).toBe(true);
      expect(npmCiProd).toBe(true);
      expect(compile).toBe(false); // the change was seen
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });

  it("runs the migrations, then data, registry and frontend hardened", async () => {
    const backend = { DATABASE_URL: database.url, NATS_URL: nats.url, SIGNET_MASTER_KEY: MASTER_KEY };
    const migrate = performance.now();
    await docker(
      [
        "run",
        "--rm",
        ...HARDENED,
        ...envArgs({ DATABASE_URL: database.url }),
        RUNTIME,
        "node",
        "services/shared/dist/db/cli-migrate.js",
      ],
      { env: { DATABASE_URL: database.url } },
    );
    figures["migration container, run to exit"] = seconds(performance.now() - migrate);

    // the engine's own share of a start: a container that runs `true`, hardened the same way
    const bare = performance.now();
    await docker(["run", "--rm", ...HARDENED, RUNTIME, "true"]);
    figures["docker run --rm … true (the engine's share of a start)"] = seconds(performance.now() - bare);

    services.data = await startService("data", RUNTIME, backend, ["node", "services/data/dist/server.js"]);
    services.registry = await startService(
      "registry",
      RUNTIME,
      {
        ...backend,
        SIGNET_ADMIN_TOKENS: `${admin.name}:${admin.token}`,
        SIGNET_BOOTSTRAP_CONSUMERS: `frontend:${frontendConsumer.key}:${frontendConsumer.secret}`,
      },
      ["node", "services/registry/dist/server.js"],
    );
    // the frontend's consumer exists once the registry is ready (it creates it at start)
    services.frontend = await startService(
      "frontend",
      RUNTIME,
      {
        NATS_URL: nats.url,
        DATA_URL: services.data.url,
        SIGNET_CONSUMER_KEY: frontendConsumer.key,
        SIGNET_CONSUMER_SECRET: frontendConsumer.secret,
        SESSION_SECRET: randomBytes(32).toString("hex"),
        COOKIE_SECURE: "false",
        METRICS_PORT: String(await freePort()),
      },
      ["node", "services/frontend/dist/server.js"],
    );
    figures["start-to-ready (docker run → /readyz 200): data / registry / frontend"] = [
      services.data,
      services.registry,
      services.frontend,
    ]
      .map((s) => seconds(s.readyMs))
      .join(" / ");

    for (const service of Object.values(services)) {
      // uid 10001, no capability at all, nothing writable on the root filesystem
      const probe = await docker([
        "exec",
        service.name,
        "sh",
        "-c",
        "id -u; grep -E '^Cap(Prm|Eff)' /proc/1/status; touch /app/x 2>/dev/null && echo writable || echo read-only",
      ]);
      expect(probe.stdout.trim().split("\n")).toEqual([
        "10001",
        "CapPrm:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "read-only",
      ]);
    }
    const stats = await docker([
      "stats",
      "--no-stream",
      "--format",
      "{{.MemUsage}}",
      services.data.name,
      services.registry.name,
      services.frontend.name,
    ]);
    figures["memory just after ready: data / registry / frontend"] = stats.stdout
      .trim()
      .split("\n")
      .map((line) => line.split(" / ")[0])
      .join(" / ");
  });

  it("a user logs in through the frontend container", async () => {
    const created = await fetch(`${services.registry!.url}/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify(user),
    });
    expect(created.status).toBe(201);
    const agent = new Agent(services.frontend!.url);
    const login = await agent.login(user.username, user.password);
    expect(login.status).toBeGreaterThanOrEqual(300);
    expect(login.status).toBeLessThan(400);
    expect(login.location).toBe("/");
    const home = await agent.get("/");
    expect(home.status).toBe(200);
    expect(home.body).toContain(user.display_name);
    // the stylesheet the image keeps of Pico (the Dockerfile prunes the rest)
    const css = await agent.get("/static/pico/pico.classless.min.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  it("a signed call reaches the data container; a revoked consumer is refused, the data pod confirming", async () => {
    const adminCall = async (method: string, route: string, body: unknown) => {
      const res = await fetch(`${services.registry!.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const created = await adminCall("POST", "/consumers", { name: unique("image-"), scopes: ["*"] });
    expect(created.status).toBe(201);
    const consumer = { key: created.body.key as string, secret: created.body.secret as string };

    const login = await signedFetch(services.data!.url, {
      method: "POST",
      url: "/authenticate",
      consumer,
      form: { username: user.username, password: user.password },
    });
    expect(login.status).toBe(200);
    const issued = JSON.parse(login.body) as { token: string; secret: string };
    const token = { key: issued.token, secret: issued.secret };
    const me = await signedFetch(services.data!.url, { method: "GET", url: "/me", consumer, token });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body).username).toBe(user.username);

    const revoked = await adminCall("POST", `/consumers/${consumer.key}/revoke`, { reason: "image test" });
    expect(revoked.status).toBe(200);
    expect(revoked.body.confirmed_pods).toBeGreaterThanOrEqual(1);
    const refused = await signedFetch(services.data!.url, { method: "GET", url: "/me", consumer, token });
    expect(refused.status).toBe(401);
    expect(refused.problem).toBe("consumer_key_rejected");
  });

  it("the dev container serves a source change synced into it, after tsx watch restarts", async () => {
    const file = "services/data/src/plugins/docs.ts";
    const anchor = 'title: "Signet data API"';
    const source = readFileSync(path.join(CONTEXT, file), "utf8");
    expect(source, `${file} no longer holds ${anchor}: pick another visible change`).toContain(anchor);
    // as the chart runs it with runFromSource=true: uid 10001, no capabilities, root writable
    const backend = { DATABASE_URL: database.url, NATS_URL: nats.url, SIGNET_MASTER_KEY: MASTER_KEY };
    const flags = HARDENED.filter((flag) => flag !== "--read-only");
    // the chart's runFromSource commands (charts/signet/templates/_helpers.tpl)
    const tsx = ["node_modules/.bin/tsx", "--conditions=@signet/source"];
    await docker(
      [
        "run",
        "--rm",
        ...flags,
        ...envArgs({ DATABASE_URL: database.url }),
        DEV,
        ...tsx,
        "services/shared/src/db/cli-migrate.ts",
      ],
      { env: { DATABASE_URL: database.url } },
    );
    const dev = await startService(
      "dev",
      DEV,
      backend,
      [tsx[0]!, "watch", "--clear-screen=false", tsx[1]!, "services/data/src/server.ts"],
      flags,
    );
    figures["dev container (tsx watch) start-to-ready"] = seconds(dev.readyMs);
    const title = async () =>
      ((await (await fetch(`${dev.url}/docs/json`)).json()) as { info: { title: string } }).info.title;
    expect(await title()).toBe("Signet data API");

    // Tilt's sync: a tar of the changed file unpacked in /app by the container's own user
    const staging = mkdtempSync(path.join(tmpdir(), "signet-image-sync-"));
    try {
      mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
      writeFileSync(path.join(staging, file), source.replace(anchor, `title: "Signet data API (${run})"`));
      const archive = path.join(staging, "sync.tar");
      await must("tar", ["-C", staging, "-c", "-f", archive, file], { timeoutMs: 10_000 });
      const synced = performance.now();
      await must(DOCKER, ["exec", "-i", dev.name, "tar", "-C", "/app", "-x", "-f", "-"], {
        input: readFileSync(archive),
      });
      await waitFor(
        "the synced change to be served",
        async () => (await title().catch(() => "")) === `Signet data API (${run})`,
        60_000,
        50,
      );
      figures["dev container: sync → change served"] = seconds(performance.now() - synced);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
});
