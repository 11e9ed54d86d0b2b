// Each test file gets its own PostgreSQL database: created, migrated, dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, inject } from "vitest";
import "./provided.js";
import { createDb, type DbOptions } from "@signet/shared/db";
import { migrateToLatest } from "@signet/shared/db";
import type { Database } from "@signet/shared/db";

export interface TestDatabase {
  url: string;
  name: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, migrated database. */
export async function createTestDatabase(
  options: { migrate?: boolean; db?: DbOptions } = {},
): Promise<TestDatabase> {
  const name = `signet_test_${randomBytes(6).toString("hex")}`;
  await admin((client) => client.query(`create database ${name}`));
  const url = withDatabase(inject("databaseUrl"), name);
  const db = createDb(url, { max: 5, ...options.db });
  if (options.migrate !== false) await migrateToLatest(db);
  return {
    url,
    name,
    db,
    drop: async () => {
      await db.destroy();
      await admin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * Registers beforeAll/afterAll hooks for a per-file database; the returned object's
 * fields are filled in before the first test runs.
 */
export function useTestDatabase(options: { migrate?: boolean } = {}): TestDatabase {
  const handle = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(handle, await createTestDatabase(options));
  });
  afterAll(async () => {
    await handle.drop?.();
  });
  return handle;
}
