// Kysely over node-postgres. One pool per process.
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";

// bigint columns (nonce expiry, ids) come back as strings by default; keep ids as
// strings but make plain int8 values usable as numbers where they fit.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
});

export interface DbOptions {
  /** Maximum pool size. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /** Milliseconds to wait for a connection before failing (fail fast, answer 503). */
  connectionTimeoutMillis?: number;
  /** Per-statement timeout in milliseconds. */
  statementTimeoutMillis?: number;
}

export function createDb(connectionString: string, options: DbOptions = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "signet",
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 2_000,
    statement_timeout: options.statementTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process.
  pool.on("error", () => {});
  // Nor a checked-out one: pg-pool removes its idle listener on checkout, and a client whose
  // connection drops mid-query emits "error" (after rejecting the query) with no listener.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
