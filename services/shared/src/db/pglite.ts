// Kysely on an embedded PostgreSQL (PGlite) for `npm start`: no server to install.
// PGlite is a single connection, so this adapter hands it to one Kysely "connection"
// at a time (a transaction keeps it until commit) and queues everyone else.
//
// Memory (README.md, "npm start's memory"): PGlite's defaults take 128 MB of shared buffers,
// far more than one person's first look needs, and creating a data directory runs initdb,
// whose ~600 MB of WebAssembly memory a process never hands back. So the embedded server
// runs with small buffers, and a new data directory is created by a short-lived child process.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
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

/** PGlite's start parameters with buffers sized for one developer, not a server. */
export const PGLITE_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams,
  ...["-c", "shared_buffers=8MB", "-c", "temp_buffers=1MB", "-c", "work_mem=2MB"],
  ...["-c", "maintenance_work_mem=8MB", "-c", "wal_buffers=1MB"],
];

/** Runs in the child: creates the data directory (initdb), then exits, taking initdb's memory with it. */
const INIT_DIRECTORY = `
const [, pglite, dataDir, params] = process.argv;
const { PGlite } = await import(pglite);
const db = await PGlite.create(dataDir, { startParams: JSON.parse(params) });
await db.close();
`;

/** Creates `dataDir` as a PGlite data directory in a child process, unless it is one already. */
export async function initPgliteDirectory(dataDir: string): Promise<void> {
  if (existsSync(path.join(dataDir, "PG_VERSION"))) return;
  await promisify(execFile)(process.execPath, [
    "--input-type=module",
    "-e",
    INIT_DIRECTORY,
    import.meta.resolve("@electric-sql/pglite"),
    dataDir,
    JSON.stringify(PGLITE_START_PARAMS),
  ]);
}

/** Opens (or creates) an embedded database in `dataDir`; undefined keeps it in memory. */
export async function createPgliteDb(dataDir?: string): Promise<Kysely<Database>> {
  if (dataDir !== undefined) await initPgliteDirectory(dataDir);
  const db = await PGlite.create(dataDir, {
    startParams: [...PGLITE_START_PARAMS],
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
