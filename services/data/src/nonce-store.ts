// The replay guard's store: nonces in PostgreSQL, shared by every data pod (docs/design.md,
// "Shared replay protection"). The table is the nonce-partitions migration's, the claim
// function the nonce-fast-claim one's (services/shared/src/db/migrations/).
//
//  * One row per (ts, key): key = the first 16 bytes of a SHA-256 over the length-prefixed
//    consumer key, token and nonce; ts = oauth_timestamp (RFC 5849 §3.3: a nonce is unique
//    for its timestamp, consumer and token). Two triples sharing a key (odds about 2^-64 at
//    2^32 rows) would refuse the second request: closed, never a replay.
//  * Batching: calls arriving in the same event-loop turn, or while a claim is in flight, go
//    into ONE `signet_nonce_claim_batch(keys[], timestamps[], window)` call (up to maxBatch
//    nonces; a second and third call at once, up to maxInFlight, only while an eighth of a
//    batch waits). The claim answers the positions that lost (none, nearly always); the same
//    (key, ts) twice in one batch: the first caller wins, the others lose.
//  * On the store's own pool the arrays go in PostgreSQL's binary format (no hex text to
//    write here or parse there) and the claim is a named statement, planned once per
//    connection.
//  * The claim answers `since` with every batch: a timestamp before it is refused
//    (timestamp_refused) — the store lost rows it may have held (crash recovery empties the
//    unlogged partitions, a promoted standby starts without them) — and the database's
//    clock: a timestamp more than a window ahead of it or two behind is refused too.
//  * Maintenance (every purgeIntervalMs, one pod at a time under an advisory lock, and
//    whenever a claim finds no partition for a timestamp): partitions of partitionSeconds
//    are created ahead, by the database's clock, and dropped whole once their end is two
//    windows behind it — the extra window covers pods whose clocks lag the database's by up
//    to a window. Never this pod's clock: one running ahead would drop what others need.
import { hash } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import type pg from "pg";
import type { Database } from "@signet/shared/db";
import { OAuthError, type NonceStore } from "@signet/shared/oauth";

export interface NonceStoreEvents {
  /** One claim call: how many nonces it carried and how long it took (seconds). */
  batch?(size: number, seconds: number): void;
  /** One maintenance run: partitions created and dropped, legacy rows deleted. */
  maintained?(result: MaintenanceResult): void;
  maintenanceError?(error: unknown): void;
  /** The store told of a loss: timestamps before `since` are refused (logged once per value). */
  lost?(since: number): void;
  /** A nonce refused by the store's own bounds (the loss, or the database's clock). */
  refused?(reason: "store_lost" | "database_clock"): void;
}

export interface PgNonceStoreOptions {
  /** Seconds either side of the server clock (SIGNET_TIMESTAMP_WINDOW). */
  timestampWindow: number;
  /** Claim calls allowed in flight at once (each carries the calls gathered meanwhile). */
  maxInFlight?: number;
  /** Most nonces per claim call. */
  maxBatch?: number;
  /** Maintenance interval in milliseconds; 0 disables the timer (maintain() can still be called). */
  purgeIntervalMs?: number;
  /** Width of one partition in seconds (the same on every pod). */
  partitionSeconds?: number;
  /** Create the partitions UNLOGGED (default): no WAL per nonce; a crash is covered by the guard. */
  unlogged?: boolean;
  /**
   * A pool of the store's own to the same database: claims then go as a named statement,
   * parsed and planned once per connection (the plugin opens one wherever it has a URL;
   * `npm start`'s embedded database has none, and claims go through `db`).
   */
  pool?: pg.Pool;
  events?: NonceStoreEvents;
}

export interface MaintenanceResult {
  /** false when another pod held the maintenance lock (nothing done). */
  ran: boolean;
  created: number;
  dropped: number;
  legacyPurged: number;
}

interface Pending {
  key: Buffer;
  ts: number;
  resolve: (fresh: boolean) => void;
  reject: (error: unknown) => void;
}

interface ClaimRow {
  since: number | string;
  db_now: number | string;
  /** 1-based positions in the batch that lost, ascending; null when none did. */
  lost: number[] | null;
  /** Rows the claim stored: as many as the batch's winners, or the answer is not trusted. */
  stored: number;
}

/** The claim as a named statement (the same text as the sql`` one below). */
const CLAIM =
  "select since, db_now, lost, stored from signet_nonce_claim_batch($1::bytea[], $2::bigint[], $3::bigint)";
/** Element type oids of the binary arrays the claim is sent. */
const BYTEA_OID = 17;
const INT8_OID = 20;

/** Maintenance is one pod's at a time: a transaction-level advisory lock on this number. */
const MAINTENANCE_LOCK = 0x5167_4e4f;
const PARTITION_NAME = /^nonce_log_(\d+)_(\d+)$/;
/** No partition of nonce_log holds a row's timestamp (PostgreSQL's check_violation). */
const NO_PARTITION = "23514";

/** The row key: SHA-256 over each part's UTF-8 length (4 bytes) and bytes, first 16 bytes. */
export function nonceKey(consumerKey: string, token: string, nonce: string): Buffer {
  const input = Buffer.allocUnsafe(
    12 + Buffer.byteLength(consumerKey) + Buffer.byteLength(token) + Buffer.byteLength(nonce),
  );
  let at = 0;
  for (const part of [consumerKey, token, nonce]) {
    const length = input.write(part, at + 4, "utf8");
    input.writeUInt32BE(length, at);
    at += 4 + length;
  }
  return hash("sha256", input, "buffer").subarray(0, 16);
}

/**
 * A one-dimensional array without nulls in PostgreSQL's binary format (array_recv), one
 * fixed-size element per pending claim: the header, then each element's length and bytes.
 */
function binaryArray(
  elementOid: number,
  elementSize: number,
  batch: Pending[],
  write: (p: Pending, buffer: Buffer, at: number) => void,
): Buffer {
  const buffer = Buffer.allocUnsafe(20 + batch.length * (4 + elementSize));
  buffer.writeInt32BE(1, 0); // dimensions
  buffer.writeInt32BE(0, 4); // no nulls
  buffer.writeInt32BE(elementOid, 8);
  buffer.writeInt32BE(batch.length, 12);
  buffer.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (const p of batch) {
    buffer.writeInt32BE(elementSize, at);
    write(p, buffer, at + 4);
    at += 4 + elementSize;
  }
  return buffer;
}

/** The batch's keys as a binary bytea[] (node-pg sends a Buffer parameter in binary format). */
const binaryKeys = (batch: Pending[]): Buffer =>
  binaryArray(BYTEA_OID, 16, batch, (p, buffer, at) => p.key.copy(buffer, at, 0, 16));

/** The batch's timestamps as a binary bigint[]. */
const binaryTimestamps = (batch: Pending[]): Buffer =>
  binaryArray(INT8_OID, 8, batch, (p, buffer, at) => {
    buffer.writeInt32BE(Math.floor(p.ts / 2 ** 32), at);
    buffer.writeUInt32BE(p.ts >>> 0, at + 4);
  });

/**
 * Makes the guard and every partition of nonce_log LOGGED, in one transaction: a crash then
 * loses no nonce, so nothing need be refused afterwards. Only for a database that this one
 * process uses, with `unlogged: false` for the partitions it creates later (`npm start`'s
 * embedded PGlite, where a crash empties unlogged tables as anywhere else and a first look
 * should not answer timestamp_refused for a window after a killed terminal). Never on a
 * database shared with pods that create unlogged partitions: a logged guard would outlive
 * the crash that empties their partitions, and the replays of what they held would pass.
 */
export async function makeNonceStoreLogged(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const unlogged = await sql<{ name: string }>`select c.relname as name from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'nonce_log'::regclass and c.relpersistence = 'u'`.execute(trx);
    for (const { name } of unlogged.rows) await sql`alter table ${sql.id(name)} set logged`.execute(trx);
    await sql`alter table nonce_guard set logged`.execute(trx);
  });
}

export class PgNonceStore implements NonceStore {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private maintaining: Promise<MaintenanceResult> | undefined;
  private readonly window: number;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  private readonly partitionSeconds: number;
  /** The largest `since` the store has answered (a larger one is a new loss). */
  private since = 0;
  /** Totals (the benchmark reports the mean batch). */
  readonly totals = { calls: 0, batches: 0, largestBatch: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PgNonceStoreOptions,
  ) {
    this.window = options.timestampWindow;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.maxBatch = options.maxBatch ?? 500;
    this.partitionSeconds = options.partitionSeconds ?? 60;
    if (options.purgeIntervalMs && options.purgeIntervalMs > 0) {
      this.maintenanceTimer = setInterval(() => {
        this.maintain().catch((error: unknown) => this.options.events?.maintenanceError?.(error));
      }, options.purgeIntervalMs);
      this.maintenanceTimer.unref();
    }
  }

  use(consumerKey: string, token: string, nonce: string, timestamp: number): Promise<boolean> {
    this.totals.calls++;
    const key = nonceKey(consumerKey, token, nonce);
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ key, ts: timestamp, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Whether a claim may start now: when none is running; beside running ones (up to
   * maxInFlight) only once an eighth of a full batch waits. A claim costs PostgreSQL about as
   * much for its call as for a dozen rows, so under light load the nonces that arrive while
   * one claim runs wait for it (one round trip at most) and go together.
   */
  private mayClaim(): boolean {
    if (this.inFlight === 0) return true;
    return this.inFlight < this.maxInFlight && this.queue.length >= Math.ceil(this.maxBatch / 8);
  }

  private schedule(): void {
    if (this.scheduled || !this.mayClaim()) return;
    this.scheduled = true;
    // setImmediate: every request whose bytes arrived in this event-loop turn joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0 || !this.mayClaim()) return;
    this.inFlight++;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);

    const started = process.hrtime.bigint();
    try {
      const row = await this.claimWithPartitions(batch);
      this.settle(batch, row);
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.totals.batches++;
      this.totals.largestBatch = Math.max(this.totals.largestBatch, batch.length);
      this.options.events?.batch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** One claim; when a timestamp has no partition yet, maintenance runs and the claim once more. */
  private async claimWithPartitions(batch: Pending[]): Promise<ClaimRow> {
    try {
      return await this.claim(batch);
    } catch (error) {
      if ((error as { code?: unknown }).code !== NO_PARTITION) throw error;
      // wait for a pod that holds the maintenance lock: it may be creating this very partition
      await this.maintain({ wait: true });
      return this.claim(batch);
    }
  }

  private async claim(batch: Pending[]): Promise<ClaimRow> {
    const { pool } = this.options;
    const result = pool
      ? await pool.query<ClaimRow>({
          name: "signet_nonce_claim_batch",
          text: CLAIM,
          values: [binaryKeys(batch), binaryTimestamps(batch), this.window],
        })
      : await sql<ClaimRow>`select since, db_now, lost, stored from signet_nonce_claim_batch(${batch.map((p) => p.key)}::bytea[], ${batch.map((p) => p.ts)}::bigint[], ${this.window}::bigint)`.execute(
          this.db,
        );
    const row = result.rows[0];
    if (!row) throw new Error("signet_nonce_claim_batch answered no row");
    return row;
  }

  private settle(batch: Pending[], row: ClaimRow): void {
    const since = Number(row.since);
    const dbNow = Number(row.db_now);
    if (since > this.since) {
      if (this.since > 0 || since > dbNow - 2 * this.window) this.options.events?.lost?.(since);
      this.since = since;
    }
    const lost = new Uint8Array(batch.length + 1);
    for (const position of row.lost ?? []) lost[position] = 1;
    // Within these bounds the claim stored exactly the rows that did not lose; were the bounds
    // ever to differ from the claim's, a caller would be told "fresh" for a row not stored, so
    // the counts must agree before anyone is answered.
    const refusal = (ts: number): "store_lost" | "database_clock" | undefined =>
      ts < since
        ? "store_lost"
        : ts > dbNow + this.window || ts < dbNow - 2 * this.window
          ? "database_clock"
          : undefined;
    const refusals = batch.map((p) => refusal(p.ts));
    let winners = 0;
    for (let i = 0; i < batch.length; i++) {
      if (!lost[i + 1] && refusals[i] === undefined) winners++;
    }
    if (winners !== Number(row.stored)) {
      throw new Error(`signet_nonce_claim_batch stored ${row.stored} rows for ${winners} winners`);
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      const refused = refusals[i];
      if (refused === undefined) p.resolve(lost[i + 1] !== 1);
      else {
        this.options.events?.refused?.(refused);
        p.reject(
          refused === "store_lost"
            ? new OAuthError(
                "timestamp_refused",
                "the replay guard lost its record of recent requests (a database crash or failover): " +
                  `timestamps before ${since} are refused; sign the request again after that`,
              )
            : new OAuthError("timestamp_refused", "oauth_timestamp outside the accepted window"),
        );
      }
    }
  }

  /**
   * Creates the partitions the next claims need and drops those no pod can need, by the
   * database's clock; also deletes the expired rows pods of the previous version left in
   * nonce_keys. One pod at a time: when another holds the lock, returns { ran: false }, or
   * with `wait`, runs once the other pod is done.
   */
  async maintain(options: { wait?: boolean } = {}): Promise<MaintenanceResult> {
    const running = this.maintaining;
    if (running) {
      const result = await running;
      if (result.ran || options.wait !== true) return result;
    }
    const run = this.db
      .transaction()
      .execute((trx) => this.maintainIn(trx, options.wait === true))
      .then((result) => {
        this.options.events?.maintained?.(result);
        return result;
      })
      .finally(() => {
        if (this.maintaining === run) this.maintaining = undefined;
      });
    this.maintaining = run;
    return run;
  }

  private async maintainIn(trx: Transaction<Database>, wait: boolean): Promise<MaintenanceResult> {
    const result: MaintenanceResult = { ran: false, created: 0, dropped: 0, legacyPurged: 0 };
    if (wait) await sql`select pg_advisory_xact_lock(${MAINTENANCE_LOCK})`.execute(trx);
    else {
      const lock = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_xact_lock(${MAINTENANCE_LOCK}) as ok`.execute(trx);
      if (!lock.rows[0]?.ok) return result;
    }
    result.ran = true;
    // DDL on nonce_log waits for in-flight claims; never make them queue long behind it
    await sql`set local lock_timeout = '2s'`.execute(trx);
    const clock = await sql<{
      now: number | string;
    }>`select floor(extract(epoch from now()))::bigint as now`.execute(trx);
    const now = Number(clock.rows[0]?.now);
    const existing = await sql<{ name: string }>`select c.relname as name from pg_inherits i
      join pg_class c on c.oid = i.inhrelid where i.inhparent = 'nonce_log'::regclass`.execute(trx);
    const ranges: [number, number][] = [];
    for (const { name } of existing.rows) {
      const m = PARTITION_NAME.exec(name);
      if (!m) continue;
      const [start, end] = [Number(m[1]), Number(m[2])];
      if (end <= now - 2 * this.window) {
        await sql`drop table if exists ${sql.id(name)}`.execute(trx);
        result.dropped++;
      } else ranges.push([start, end]);
    }
    const width = this.partitionSeconds;
    const intervalSec = Math.ceil((this.options.purgeIntervalMs ?? 0) / 1000);
    const until = now + this.window + Math.max(width, 2 * intervalSec);
    for (let start = Math.floor((now - 2 * this.window) / width) * width; start < until; start += width) {
      const end = start + width;
      if (ranges.some(([a, b]) => a < end && start < b)) continue;
      const unlogged = this.options.unlogged === false ? sql`` : sql`unlogged`;
      await sql`create ${unlogged} table if not exists ${sql.id(`nonce_log_${start}_${end}`)}
        partition of nonce_log for values from (${sql.lit(start)}) to (${sql.lit(end)})
        with (autovacuum_enabled = false)`.execute(trx);
      result.created++;
    }
    const purged = await trx
      .deleteFrom("nonce_keys")
      .where("expires_at", "<", now - this.window)
      .executeTakeFirst();
    result.legacyPurged = Number(purged.numDeletedRows);
    return result;
  }

  close(): void {
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
  }
}
