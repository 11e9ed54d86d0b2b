// Shared set-up for the registry tests: config, admin headers, admin API calls, registry apps.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll } from "vitest";
import type { Kysely } from "kysely";
import { NatsBus, type Bus } from "@signet/shared/bus";
import type { Database } from "@signet/shared/db";
import type { TestDatabase } from "@signet/test-support/db";
import { keyring } from "@signet/test-support/keys";
import { startPrivateNats, type PrivateNats } from "@signet/test-support/nats";
import { buildRegistryApp } from "../src/app.js";
import { registryConfigDefaults, type RegistryConfig } from "../src/config.js";

export const ADMIN = { name: "alice-ops", token: "adm_" + "a".repeat(40) };
export const OTHER_ADMIN = { name: "bob-ops", token: "adm_" + "b".repeat(40) };
export const auth = (token = ADMIN.token) => ({ authorization: `Bearer ${token}` });

export function registryConfig(
  databaseUrl: string,
  natsUrl: string,
  overrides: Partial<RegistryConfig> = {},
): RegistryConfig {
  return registryConfigDefaults({
    port: 0,
    logLevel: "warn",
    databaseUrl,
    natsUrl,
    keyring,
    adminTokens: [ADMIN, OTHER_ADMIN],
    defaultMetrics: false, // many apps in one process
    ...overrides,
  });
}

/** An admin API call over app.inject; `answeredAt` is performance.now() once it answered. */
export async function admin<T = Record<string, unknown>>(
  app: FastifyInstance,
  method: "GET" | "POST" | "PATCH",
  url: string,
  payload?: object,
): Promise<{ status: number; body: T; answeredAt: number }> {
  const res = await app.inject({ method, url, headers: auth(), ...(payload ? { payload } : {}) });
  const answeredAt = performance.now();
  return { status: res.statusCode, body: res.json() as T, answeredAt };
}

/**
 * A registry app, ready: on `databaseUrl` and `natsUrl` (its own pool and NATS connection,
 * as a registry pod has) unless handed a database or bus. `relay: false` stops its outbox
 * relay, so that it publishes no row a test leaves to another registry.
 */
export async function startRegistry(options: {
  databaseUrl: string;
  natsUrl: string;
  config?: Partial<RegistryConfig>;
  db?: Kysely<Database>;
  bus?: Bus;
  relay?: boolean;
}): Promise<FastifyInstance> {
  const registry = await buildRegistryApp({
    config: registryConfig(options.databaseUrl, options.natsUrl, options.config),
    ...(options.db ? { db: options.db } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
    logger: false,
  });
  if (options.relay === false) await registry.outboxRelay.stop();
  return registry;
}

export interface UsedRegistry {
  app: FastifyInstance;
  /** app.inject. */
  inject(request: InjectOptions | string): Promise<LightMyRequestResponse>;
  /** The file's own nats-server: data pods of other test files never confirm its events. */
  nats: PrivateNats;
  /** The registry's NATS connection (the test's to publish on). */
  bus: NatsBus;
  /** http://127.0.0.1:<port> when started with listen, else "". */
  url: string;
}

/**
 * The file's registry on its database, on a private nats-server, through a NATS connection
 * the test shares; started before the file's tests, closed after. The handle's fields are
 * set before the first test.
 */
export function useRegistry(
  tdb: TestDatabase,
  options: { config?: Partial<RegistryConfig>; listen?: boolean } = {},
): UsedRegistry {
  const handle = { url: "", inject: (request) => handle.app.inject(request) } as UsedRegistry;
  beforeAll(async () => {
    handle.nats = await startPrivateNats();
    handle.bus = await NatsBus.connect({ servers: handle.nats.url, name: "registry-test" });
    handle.app = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: handle.nats.url,
      db: tdb.db,
      bus: handle.bus,
      ...(options.config ? { config: options.config } : {}),
    });
    if (options.listen) {
      await handle.app.listen({ host: "127.0.0.1", port: 0 });
      handle.url = `http://127.0.0.1:${(handle.app.server.address() as { port: number }).port}`;
    }
  });
  afterAll(async () => {
    await handle.app?.close();
    await handle.bus?.close();
    await handle.nats?.dispose();
  });
  return handle;
}

/** The CLI's entry point, run from source. */
export const SIGNETCTL_BIN = fileURLToPath(new URL("../bin/signetctl.js", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * signetctl as a child process against `registryUrl` with ADMIN's token; `env` overrides
 * (undefined removes a variable), `input` is its stdin.
 */
export function runSignetctl(
  registryUrl: string,
  args: string[],
  options: { input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      SIGNETCTL_FROM_SOURCE: "1",
      SIGNET_REGISTRY_URL: registryUrl,
      SIGNET_ADMIN_TOKEN: ADMIN.token,
      ...options.env,
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [SIGNETCTL_BIN, ...args], {
      env: env as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
