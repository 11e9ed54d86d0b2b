// Kysely on an embedded PostgreSQL (PGlite) for `npm start`: no server to install.
// PGlite is a single connection, so this adapter hands it to one Kysely "connection"
// at a time (a transaction keeps it until commit) and queues everyone else.
import { PGlite, types } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import type { Database } from "./schema.js";

interface QueryResult {
  command: string;
  rowCount: number;
  rows: unknown[];
}

class PgliteClient {
  constructor(
    private readonly db: PGlite,
    private readonly release_: () => void,
  ) {}

  async query(sql: string, parameters: readonly unknown[] = []): Promise<QueryResult> {
    const result = await this.db.query(sql, parameters as unknown[]);
    const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "";
    return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
  }

  release(): void {
    this.release_();
  }
}

/** The slice of pg.Pool that Kysely's PostgresDialect uses. */
class PglitePool {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly db: PGlite) {}

  connect(): Promise<PgliteClient> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => released);
    return previous.then(() => new PgliteClient(this.db, release));
  }

  async end(): Promise<void> {
    await this.tail;
    await this.db.close();
  }
}

/** Opens (or creates) an embedded database in `dataDir`; undefined keeps it in memory. */
export async function createPgliteDb(dataDir?: string): Promise<Kysely<Database>> {
  const db = await PGlite.create(dataDir, {
    // Same conventions as the pg driver setup in connect.ts: int8 as number when safe.
    parsers: {
      [types.INT8]: (value: string) => {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
      },
    },
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PglitePool(db) as any }) });
}
