// The replay guard: nonces in PostgreSQL, shared by every data pod (DESIGN.md, 3).
//
// One row per (consumer_key, token, nonce) — keyed by the first 16 bytes of a SHA-256 over
// the three, length-prefixed (a lean primary key: every signed request inserts one) — with
// expires_at = oauth_timestamp + window, after which the timestamp check alone refuses a
// replay and the row can go. Two different triples sharing a key (odds about 2^-64 for
// 2^32 rows) would refuse the second request: the failure is closed, never a replay. This is on the hot path of every request, so concurrent use() calls are
// batched: calls arriving while the event loop is in the same turn, or while an insert is
// in flight, go into ONE `insert … on conflict do nothing returning …`; a caller wins when
// its row comes back. A duplicate inside one batch: only its first caller wins.
import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Database } from "@signet/shared/db";
import type { NonceStore } from "@signet/shared/oauth";

export interface NonceStoreEvents {
  /** One insert statement: how many nonces it carried and how long it took (seconds). */
  batch?(size: number, seconds: number): void;
  /** One purge: how many rows it removed. */
  purged?(rows: number): void;
  purgeError?(error: unknown): void;
}

export interface PgNonceStoreOptions {
  /** Seconds either side of the server clock; a nonce row lives timestamp + window. */
  timestampWindow: number;
  /** Largest batch per statement. */
  maxBatch?: number;
  /** Inserts allowed in flight at once (each carries the calls gathered meanwhile). */
  maxInFlight?: number;
  /** Purge interval in milliseconds; 0 disables the timer (purge() can still be called). */
  purgeIntervalMs?: number;
  events?: NonceStoreEvents;
  /** Clock in seconds. */
  now?: () => number;
}

interface Pending {
  key: Buffer;
  expiresAt: number;
  resolve: (fresh: boolean) => void;
  reject: (error: unknown) => void;
}

/** The row key: SHA-256 over each part's UTF-8 length (4 bytes) and bytes, first 16 bytes. */
export function nonceKey(consumerKey: string, token: string, nonce: string): Buffer {
  const hash = createHash("sha256");
  for (const part of [consumerKey, token, nonce]) {
    const bytes = Buffer.from(part, "utf8");
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return hash.digest().subarray(0, 16);
}

export class PgNonceStore implements NonceStore {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private scheduled = false;
  private purgeTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly now: () => number;
  /** Totals, for tests and the benchmark. */
  readonly totals = { calls: 0, batches: 0, largestBatch: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PgNonceStoreOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    if (options.purgeIntervalMs && options.purgeIntervalMs > 0) {
      this.purgeTimer = setInterval(() => {
        this.purge().catch((error: unknown) => this.options.events?.purgeError?.(error));
      }, options.purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  use(consumerKey: string, token: string, nonce: string, timestamp: number): Promise<boolean> {
    this.totals.calls++;
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({
        key: nonceKey(consumerKey, token, nonce),
        expiresAt: timestamp + this.options.timestampWindow,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight || this.scheduled) return;
    this.scheduled = true;
    // setImmediate: every request whose bytes arrived in this event-loop turn joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.inFlight++;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = this.queue.length <= this.maxBatch ? [] : this.queue.slice(this.maxBatch);

    // Only the first caller of a duplicated key takes part; the others lose at once.
    const first = new Map<string, Pending>();
    const losers: Pending[] = [];
    for (const p of batch) {
      const k = p.key.toString("hex");
      if (first.has(k)) losers.push(p);
      else first.set(k, p);
    }
    for (const p of losers) p.resolve(false);

    const started = process.hrtime.bigint();
    try {
      const rows = await this.db
        .insertInto("nonce_keys")
        .values([...first.values()].map((p) => ({ key: p.key, expires_at: p.expiresAt })))
        .onConflict((oc) => oc.doNothing())
        .returning(sql<string>`encode(key, 'hex')`.as("k"))
        .execute();
      const inserted = new Set(rows.map((r) => r.k));
      for (const [k, p] of first) p.resolve(inserted.has(k));
    } catch (error) {
      for (const p of first.values()) p.reject(error);
    } finally {
      this.totals.batches++;
      this.totals.largestBatch = Math.max(this.totals.largestBatch, batch.length);
      this.options.events?.batch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** Deletes rows whose window has passed; returns how many. */
  async purge(): Promise<number> {
    const result = await this.db
      .deleteFrom("nonce_keys")
      .where("expires_at", "<", this.now())
      .executeTakeFirst();
    const rows = Number(result.numDeletedRows);
    this.options.events?.purged?.(rows);
    return rows;
  }

  /** Rows currently stored (tests). */
  async count(): Promise<number> {
    const row = await sql<{ n: number }>`select count(*)::int as n from nonce_keys`.execute(this.db);
    return row.rows[0]?.n ?? 0;
  }

  close(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }
}

/** Accepts every nonce: for the benchmark's "without the nonce store" run only. */
export const noopNonceStore: NonceStore = {
  use: async () => true,
};
