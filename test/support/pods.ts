// In-process data pods for tests and benchmarks: the real data app (buildDataApp) on its own
// database pool and bus, listening on 127.0.0.1. One starter for every suite (the registry's
// multi-pod tests, the frontend's data service, the reliability suite, bench/); free of vitest.
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { Bus } from "@signet/shared/bus";
import { createDb, type Database } from "@signet/shared/db";
import { buildDataApp } from "@signet/data";
import { dataConfigDefaults, type DataConfig } from "@signet/data/config";
import { keyring, unique } from "./keys.js";

export interface DataPod {
  id: string;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> ("" when started with listen: false). */
  url: string;
  db: Kysely<Database>;
  bus: Bus;
  /** Closes the app, then the pool it created (a database handed in stays open). */
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
  /** A database of the caller's (not closed), or a URL the pod opens a small pool to. */
  db?: Kysely<Database>;
  databaseUrl?: string;
  /** A bus of the caller's (not closed), or a NATS URL the pod connects to. */
  bus?: Bus;
  natsUrl?: string;
  config?: Partial<DataConfig>;
  logger?: boolean | object;
  /** Listen on 127.0.0.1:0 (default true). */
  listen?: boolean;
}

export async function startDataPod(options: DataPodOptions): Promise<DataPod> {
  const id = options.id ?? unique("pod-");
  const ownDb = !options.db;
  if (!options.db && !options.databaseUrl) throw new Error("startDataPod: db or databaseUrl");
  const db = options.db ?? createDb(options.databaseUrl!, { max: 5, applicationName: `test-${id}` });
  let app: FastifyInstance;
  try {
    app = await buildDataApp({
      config: dataPodConfig({
        podId: id,
        ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
        ...options.config,
      }),
      db,
      ...(options.bus ? { bus: options.bus } : {}),
      logger: options.logger ?? false,
    });
  } catch (error) {
    if (ownDb) await db.destroy();
    throw error;
  }
  let url = "";
  if (options.listen !== false) {
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }
  return {
    id,
    app,
    url,
    db,
    bus: app.bus,
    close: async () => {
      await app.close();
      if (ownDb) await db.destroy();
    },
  };
}
