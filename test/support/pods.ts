// In-process data pods for tests and benchmarks: the real data app on a database and a bus,
// listening on 127.0.0.1 (or answering app.inject only). One starter for every suite (the
// data service's own tests, the registry's multi-pod tests, the frontend's data service, the
// reliability suite) and bench/; free of vitest.
import Fastify, { type FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { LocalBus, type Bus } from "@signet/shared/bus";
import type { Database } from "@signet/shared/db";
import type { NonceStore } from "@signet/shared/oauth";
import { buildDataApp, dataApp, dataServerOptions } from "@signet/data";
import { dataConfigDefaults, type DataConfig } from "@signet/data/config";
import { keyring, unique } from "./keys.js";

export interface DataPod {
  id: string;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> ("" when started with listen: false). */
  url: string;
  db: Kysely<Database>;
  bus: Bus;
  /** Closes the app (and the pool and bus it opened, and a LocalBus of its own). */
  close(): Promise<void>;
}

/** The data service's settings for tests: the test key ring, quiet, no purge timer, no docs. */
export function dataPodConfig(overrides: Partial<DataConfig> = {}): DataConfig {
  return dataConfigDefaults({
    keyring,
    logLevel: "silent",
    defaultMetrics: false,
    docs: false,
    podId: unique("pod-"),
    noncePurgeIntervalMs: 0,
    ...overrides,
  });
}

export interface DataPodOptions {
  /** The pod's name (podId); a unique one by default. */
  id?: string;
  /** A database of the caller's (not closed), or a URL the app opens its own pool to, as a pod does. */
  db?: Kysely<Database>;
  databaseUrl?: string;
  /**
   * A bus of the caller's (not closed), or a NATS URL the app connects to, as a pod does;
   * with neither, an in-process LocalBus of the pod's own.
   */
  bus?: Bus;
  natsUrl?: string;
  config?: Partial<DataConfig>;
  logger?: boolean | object;
  /** Listen on 127.0.0.1:0 (default true). */
  listen?: boolean;
  /** Benchmarks: a nonce store decorated before the app (its nonces plugin then keeps it). */
  nonces?: NonceStore;
  /** Benchmarks: routes registered after the app's (baselines of the same handlers). */
  routes?: (app: FastifyInstance) => void | Promise<void>;
}

export async function startDataPod(options: DataPodOptions): Promise<DataPod> {
  if (!options.db && !options.databaseUrl) throw new Error("startDataPod: db or databaseUrl");
  const config = dataPodConfig({
    ...(options.id ? { podId: options.id } : {}),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
    ...options.config,
  });
  const ownBus = !options.bus && !options.natsUrl ? new LocalBus() : undefined;
  const bus = options.bus ?? ownBus;
  let app: FastifyInstance;
  try {
    app =
      options.nonces || options.routes
        ? await extendedDataApp(config, options, bus)
        : await buildDataApp({ config, db: options.db, bus, logger: options.logger ?? false });
  } catch (error) {
    await ownBus?.close();
    throw error;
  }
  let url = "";
  if (options.listen !== false) {
    try {
      await app.listen({ host: "127.0.0.1", port: 0 });
    } catch (error) {
      await app.close();
      await ownBus?.close();
      throw error;
    }
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }
  return {
    id: config.podId,
    app,
    url,
    db: app.db,
    bus: app.bus,
    close: async () => {
      await app.close();
      await ownBus?.close();
    },
  };
}

/** As buildDataApp, with a nonce store decorated before the app and routes registered after it. */
async function extendedDataApp(
  config: DataConfig,
  options: DataPodOptions,
  bus: Bus | undefined,
): Promise<FastifyInstance> {
  const app = Fastify(dataServerOptions(config, options.logger ?? false));
  try {
    if (options.nonces) app.decorate("nonces", options.nonces);
    await app.register(dataApp, { config, db: options.db, bus });
    const { routes } = options;
    if (routes) await app.register(async (scope) => routes(scope));
    await app.ready();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
