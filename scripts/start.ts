// `npm start`: the whole of Signet in one process, for a first look.
// Embedded PostgreSQL (PGlite) under .signet/ unless DATABASE_URL is set; an in-process
// event bus unless NATS_URL is set. The first start seeds the frontend's consumer and a
// demo user; later starts keep the data. Ctrl-C stops everything cleanly.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { LocalBus, NatsBus, type Bus } from "@signet/shared/bus";
import { Keyring, randomToken } from "@signet/shared/crypto";
import { createDb, createPgliteDb, migrateToLatest, type Database } from "@signet/shared/db";
import { createUser, findUserByUsername } from "@signet/shared/repos";
import { buildDataApp, dataConfigDefaults } from "@signet/data";
import { makeNonceStoreLogged } from "@signet/data/nonce-store";
import { buildRegistryApp, registryConfigDefaults } from "@signet/registry";
import { buildFrontendApp, frontendConfigDefaults } from "@signet/frontend";

interface State {
  masterKey: string;
  adminToken: string;
  sessionSecret: string;
  frontendConsumer: { key: string; secret: string };
  demo: { username: string; password: string; displayName: string };
}

const env = process.env;
// .signet/local/ is npm start's alone (its embedded database and secrets); the Tiltfile keeps
// the kind cluster's secrets in .signet/tilt/, so resetting one never wipes the other.
const home = path.resolve(env.SIGNET_HOME ?? ".signet/local");
const host = env.HOST ?? "127.0.0.1";
const logLevel = env.LOG_LEVEL ?? "warn";
/** Each service's port and the variable that moves it (README.md, "Environment"). */
const PORT_VARIABLES = {
  frontend: "SIGNET_FRONTEND_PORT",
  data: "SIGNET_DATA_PORT",
  registry: "SIGNET_REGISTRY_PORT",
} as const;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
const ports = {
  frontend: port(PORT_VARIABLES.frontend, 4444),
  data: port(PORT_VARIABLES.data, 8000),
  registry: port(PORT_VARIABLES.registry, 8001),
};

type Service = keyof typeof ports;

/** What to say when a service's port is taken: the variable that moves it. */
const portBusy = (service: Service, cause?: unknown) => {
  const other = ports[service] + 10000 <= 65535 ? ports[service] + 10000 : ports[service] - 10000;
  return new Error(
    `port ${ports[service]} (the ${service} service) is in use on ${host}: stop what holds it, or move ` +
      `Signet's ${service} elsewhere, e.g. ${PORT_VARIABLES[service]}=${other} npm start`,
    { cause },
  );
};

/** Fails at once, before the database is opened, when one of the ports is taken. */
async function checkPorts(): Promise<void> {
  for (const service of Object.keys(ports) as Service[]) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen({ host, port: ports[service], exclusive: true }, () => probe.close(() => resolve(true)));
    });
    if (!free) throw portBusy(service);
  }
}

/** Listens on the service's port; a busy one is named with the variable that moves it. */
async function listen(app: FastifyInstance, service: Service): Promise<void> {
  try {
    await app.listen({ host, port: ports[service] });
  } catch (error) {
    if ((error as { code?: string }).code === "EADDRINUSE") throw portBusy(service, error);
    throw error;
  }
}

/** A .signet/ from before .signet/local/ existed: its database and secrets move in there. */
function moveOldLayout(): void {
  const old = path.resolve(".signet");
  if (env.SIGNET_HOME || existsSync(home) || !existsSync(path.join(old, "state.json"))) return;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  for (const entry of ["state.json", "pgdata"])
    if (existsSync(path.join(old, entry))) renameSync(path.join(old, entry), path.join(home, entry));
  console.log(
    `moved npm start's database and secrets from .signet/ to ${path.relative(process.cwd(), home)}/`,
  );
}

/** Secrets generated on the first start and kept (mode 0600) so later starts reuse them. */
function loadState(): { state: State; fresh: boolean } {
  const file = path.join(home, "state.json");
  if (existsSync(file)) return { state: JSON.parse(readFileSync(file, "utf8")) as State, fresh: false };
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const state: State = {
    masterKey: Keyring.generateKey(),
    adminToken: randomToken(24),
    sessionSecret: randomToken(32),
    frontendConsumer: { key: `ck_frontend_${randomToken(9)}`, secret: randomToken(32) },
    demo: { username: "demo", password: `demo-${randomToken(6)}`, displayName: "Demo User" },
  };
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return { state, fresh: true };
}

async function openDatabase(): Promise<{ db: Kysely<Database>; label: string; embedded: boolean }> {
  if (env.DATABASE_URL)
    return { db: createDb(env.DATABASE_URL), label: "PostgreSQL (DATABASE_URL)", embedded: false };
  const dir = path.join(home, "pgdata");
  return {
    db: await createPgliteDb(dir),
    label: `embedded PostgreSQL (PGlite) in ${path.relative(process.cwd(), dir) || dir}`,
    embedded: true,
  };
}

async function openBus(): Promise<{ bus: Bus; label: string }> {
  if (env.NATS_URL)
    return {
      bus: await NatsBus.connect({ servers: env.NATS_URL, name: "signet-all-in-one" }),
      label: "NATS (NATS_URL)",
    };
  return { bus: new LocalBus(), label: "in-process event bus" };
}

async function main(): Promise<void> {
  const started = Date.now();
  await checkPorts();
  moveOldLayout();
  const { state, fresh } = loadState();
  const { db, label: dbLabel, embedded } = await openDatabase();
  await migrateToLatest(db);
  // The embedded database is this process's alone: its nonces are kept logged, so a start
  // after a crash or a killed terminal refuses nothing (services/data/src/nonce-store.ts).
  if (embedded) await makeNonceStoreLogged(db);
  const { bus, label: busLabel } = await openBus();

  const apps: FastifyInstance[] = [];
  const stop = async () => {
    for (const app of apps.reverse()) await app.close().catch(() => {});
    await bus.close().catch(() => {});
    await db.destroy().catch(() => {});
  };

  try {
    const data = await buildDataApp({
      config: dataConfigDefaults({
        keyring: Keyring.fromEnv(state.masterKey),
        host,
        port: ports.data,
        logLevel,
        ...(embedded ? { nonceUnlogged: false } : {}),
      }),
      db,
      bus,
    });
    apps.push(data);
    const registry = await buildRegistryApp({
      config: registryConfigDefaults({
        host,
        port: ports.registry,
        logLevel,
        keyring: Keyring.fromEnv(state.masterKey),
        adminTokens: [{ name: "admin", token: state.adminToken }],
        bootstrapConsumers: [{ name: "frontend", ...state.frontendConsumer }],
        // The data app announces itself on the in-process bus like a pod on NATS
        // (signet.pod.heartbeat), so a revoke ends as soon as it confirmed.
        confirmWindowMs: 200,
      }),
      db,
      bus,
    });
    apps.push(registry);
    const frontend = await buildFrontendApp({
      config: frontendConfigDefaults({
        host,
        port: ports.frontend,
        logLevel,
        dataUrl: `http://127.0.0.1:${ports.data}`,
        consumerKey: state.frontendConsumer.key,
        consumerSecret: state.frontendConsumer.secret,
        sessionSecret: state.sessionSecret,
        ...(env.NATS_URL ? { natsUrl: env.NATS_URL } : {}),
      }),
      // without NATS_URL the in-process bus: sessions are kept in memory
      bus,
    });
    apps.push(frontend);

    if (!(await findUserByUsername(db, state.demo.username))) {
      await createUser(db, {
        username: state.demo.username,
        password: state.demo.password,
        display_name: state.demo.displayName,
      });
    }

    await listen(data, "data");
    await listen(registry, "registry");
    await listen(frontend, "frontend");
  } catch (error) {
    await stop();
    throw error;
  }

  const shown = host === "0.0.0.0" ? "localhost" : host;
  console.log(
    [
      "",
      `Signet is running (${fresh ? "first start, seeded" : "data kept from the last start"}; ready in ${Date.now() - started} ms)`,
      `  database: ${dbLabel}`,
      `  events:   ${busLabel}`,
      "",
      `  frontend  http://${shown}:${ports.frontend}`,
      `  data      http://${shown}:${ports.data}   (OpenAPI: /docs)`,
      `  registry  http://${shown}:${ports.registry}   (OpenAPI: /docs)`,
      "",
      `  demo login:   ${state.demo.username} / ${state.demo.password}`,
      `  admin token:  ${state.adminToken}`,
      `  signetctl:    SIGNET_REGISTRY_URL=http://${shown}:${ports.registry} SIGNET_ADMIN_TOKEN=${state.adminToken} npm exec --no -- signetctl consumers list`,
      "",
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Signet…`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void stop().then(() => {
      console.log("stopped.");
      process.exit(0);
    });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // the terminal closed: stop as cleanly as on Ctrl-C rather than die mid-write
  process.on("SIGHUP", () => shutdown("SIGHUP"));
}

main().catch((error: unknown) => {
  console.error("npm start failed:", error instanceof Error ? error.message : error);
  process.exit(1);
});
