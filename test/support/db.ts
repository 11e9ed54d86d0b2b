// Each test file (and each benchmark) gets its own PostgreSQL database: created, migrated,
// dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, inject } from "vitest";
import "./provided.js";
import { createDb, migrateToLatest, type Database, type DbOptions } from "@signet/shared/db";
import { LOCAL_DATABASE_URL } from "./services.js";

export interface TestDatabase {
  url: string;
  name: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** The server's maintenance database (default: databaseServerUrl()). */
  baseUrl?: string;
  /** The database's name is <prefix>_<random hex> (default signet_test). */
  prefix?: string;
  /** Migrate it (default true). */
  migrate?: boolean;
  /** The pool of `db` (default max 5). */
  db?: DbOptions;
}

/**
 * The PostgreSQL server tests and benchmarks make their databases on (its maintenance
 * database): inside vitest the global setup's; outside (benchmarks) DATABASE_URL, else the
 * local server.
 */
export function databaseServerUrl(): string {
  return process.env.VITEST ? inject("databaseUrl") : (process.env.DATABASE_URL ?? LOCAL_DATABASE_URL);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(baseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database (migrated unless told otherwise) with a pool to it. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const baseUrl = options.baseUrl ?? databaseServerUrl();
  const name = `${options.prefix ?? "signet_test"}_${randomBytes(6).toString("hex")}`;
  await admin(baseUrl, `create database ${name}`);
  const url = withDatabase(baseUrl, name);
  const db = createDb(url, { max: 5, ...options.db });
  if (options.migrate !== false) await migrateToLatest(db);
  return {
    url,
    name,
    db,
    drop: async () => {
      await db.destroy();
      await admin(baseUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

/**
 * Registers beforeAll/afterAll hooks for a per-file database; the returned object's
 * fields are filled in before the first test runs.
 */
export function useTestDatabase(options: Omit<TestDatabaseOptions, "baseUrl"> = {}): TestDatabase {
  const handle = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(handle, await createTestDatabase(options));
  });
  afterAll(async () => {
    await handle.drop?.();
  });
  return handle;
}
