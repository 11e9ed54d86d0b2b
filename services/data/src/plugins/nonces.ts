// The `nonces` plugin: the replay guard, nonces in PostgreSQL shared by every data pod
// (docs/design.md, "Shared replay protection"; the store is ../nonce-store.ts). Decorates
// `app.nonces` with a PgNonceStore and registers its metrics — unless a NonceStore is already
// decorated (the benchmark's no-op and comparison runs decorate one before registering the
// app), which is then used as it is. The store uses the app's database, or one of its own
// with SIGNET_NONCE_DATABASE_URL (README, "Performance": the capacity model), which this
// plugin migrates at start (the same migrations; Kysely's lock serialises pods). The
// partitions the first claims need are created when the app is ready (a database away then
// is no reason not to start: a claim that finds no partition creates it).
import fp from "fastify-plugin";
import { sql } from "kysely";
import pg from "pg";
import { Counter, Gauge, Histogram } from "prom-client";
import { createDb, migrateToLatest } from "@signet/shared/db";
import type { NonceStore } from "@signet/shared/oauth";
import { PgNonceStore } from "../nonce-store.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The replay guard the OAuth verifier uses (the nonces plugin). */
    nonces: NonceStore;
  }
}

/** A pool for the claims alone: one connection per claim allowed in flight. */
function claimPool(url: string, max: number, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName.slice(0, 63),
    connectionTimeoutMillis: 2_000,
    statement_timeout: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // a connection lost while idle or in use must not crash the process (the claim fails: 503)
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  return pool;
}

export const nonces = fp(
  async (app) => {
    if (app.hasDecorator("nonces")) return;
    const batchSize = new Histogram({
      name: "signet_nonce_batch_size",
      help: "Nonces per claim call",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [app.metrics],
    });
    const claimSeconds = new Histogram({
      name: "signet_nonce_insert_seconds",
      help: "Duration of one batched nonce claim",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [app.metrics],
    });
    const partitions = new Counter({
      name: "signet_nonce_partitions_total",
      help: "Nonce partitions this pod created or dropped",
      labelNames: ["action"],
      registers: [app.metrics],
    });
    const refused = new Counter({
      name: "signet_nonce_refused_total",
      help: "Nonces the store refused by its own bounds: store_lost (timestamps before the guard's since), database_clock",
      labelNames: ["reason"],
      registers: [app.metrics],
    });
    const since = new Gauge({
      name: "signet_nonce_refused_before_seconds",
      help: "Timestamps before this (seconds since the epoch) are refused: when the nonce store last lost rows",
      registers: [app.metrics],
    });
    const config = app.dataConfig;
    // a database of the store's own (SIGNET_NONCE_DATABASE_URL), or the app's
    let db = app.db;
    if (config.nonceDatabaseUrl) {
      const own = createDb(config.nonceDatabaseUrl, {
        applicationName: `signet-nonces-${config.podId}`.slice(0, 63),
        max: 2,
      });
      app.addHook("onClose", async () => own.destroy());
      app.addReadinessCheck("nonce database", async () => {
        await sql`select 1`.execute(own);
      });
      await migrateToLatest(own);
      db = own;
    }
    // the claims' own connections (a named statement each), wherever there is a URL to open them to
    const url = config.nonceDatabaseUrl ?? config.databaseUrl;
    const pool = url ? claimPool(url, config.nonceMaxInFlight, `signet-nonces-${config.podId}`) : undefined;
    if (pool) app.addHook("onClose", async () => pool.end());
    const store = new PgNonceStore(db, {
      ...(pool ? { pool } : {}),
      timestampWindow: config.timestampWindow,
      purgeIntervalMs: config.noncePurgeIntervalMs,
      maxInFlight: config.nonceMaxInFlight,
      maxBatch: config.nonceMaxBatch,
      partitionSeconds: config.noncePartitionSeconds,
      unlogged: config.nonceUnlogged,
      events: {
        batch: (size, seconds) => {
          batchSize.observe(size);
          claimSeconds.observe(seconds);
        },
        maintained: (result) => {
          partitions.inc({ action: "created" }, result.created);
          partitions.inc({ action: "dropped" }, result.dropped);
        },
        maintenanceError: (error) => app.log.warn({ err: error }, "nonce partition maintenance failed"),
        lost: (value) => {
          since.set(value);
          app.log.warn(
            { since: value },
            "the nonce store lost rows (database crash recovery or failover): refusing earlier timestamps",
          );
        },
        refused: (reason) => refused.inc({ reason }),
      },
    });
    app.decorate("nonces", store);
    app.addHook("onReady", async () => {
      await store.maintain().catch((error: unknown) => {
        app.log.warn({ err: error }, "nonce partition maintenance failed");
      });
    });
    app.addHook("onClose", async () => store.close());
  },
  { name: "nonces", dependencies: ["signet-observability", "db"] },
);
