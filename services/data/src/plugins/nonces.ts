// The `nonces` plugin: the replay guard, nonces in PostgreSQL shared by every data pod
// (docs/design.md, "Shared replay protection"). Decorates `app.nonces` with a PgNonceStore
// and its metrics — unless a NonceStore is already decorated (the benchmark's no-op run
// decorates one before registering the app), which is then used as it is.
//
// One row per (consumer_key, token, nonce) — keyed by the first 16 bytes of a SHA-256 over
// the three, length-prefixed (a lean primary key: every signed request inserts one) — with
// expires_at = oauth_timestamp + window, after which the timestamp check alone refuses a
// replay; the purge waits a further window, by the database's clock, before the row goes.
// Two different triples sharing a key (odds about 2^-64 for 2^32 rows) would refuse the
// second request: the failure is closed, never a replay. This is on the hot path of every
// request, so concurrent use() calls are batched: calls arriving while the event loop is in
// the same turn, or while an insert is in flight, go into ONE `insert … on conflict do
// nothing returning …`; a caller wins when its row comes back. A duplicate inside one
// batch: only its first caller wins.
import { createHash } from "node:crypto";
import fp from "fastify-plugin";
import { sql, type Kysely } from "kysely";
import { Counter, Histogram } from "prom-client";
import type { Database } from "@signet/shared/db";
import type { NonceStore } from "@signet/shared/oauth";

declare module "fastify" {
  interface FastifyInstance {
    /** The replay guard the OAuth verifier uses (the nonces plugin). */
    nonces: NonceStore;
  }
}

interface NonceStoreEvents {
  /** One insert statement: how many nonces it carried and how long it took (seconds). */
  batch?(size: number, seconds: number): void;
  /** One purge: how many rows it removed. */
  purged?(rows: number): void;
  purgeError?(error: unknown): void;
}

interface PgNonceStoreOptions {
  /** Seconds either side of the server clock; a nonce row lives timestamp + window. */
  timestampWindow: number;
  /** Inserts allowed in flight at once (each carries the calls gathered meanwhile). */
  maxInFlight?: number;
  /** Purge interval in milliseconds; 0 disables the timer (purge() can still be called). */
  purgeIntervalMs?: number;
  events?: NonceStoreEvents;
}

interface Pending {
  key: Buffer;
  expiresAt: number;
  resolve: (fresh: boolean) => void;
  reject: (error: unknown) => void;
}

/** Largest batch per statement. */
const MAX_BATCH = 500;

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
  /** Totals (the benchmark reports the mean batch). */
  readonly totals = { calls: 0, batches: 0, largestBatch: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PgNonceStoreOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 1;
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
    const batch = this.queue.slice(0, MAX_BATCH);
    this.queue = this.queue.slice(batch.length);

    // Only the first caller of a duplicated key takes part; the others lose at once.
    const first = new Map<string, Pending>();
    for (const p of batch) {
      const k = p.key.toString("hex");
      if (first.has(k)) p.resolve(false);
      else first.set(k, p);
    }

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

  /**
   * Deletes the rows no pod can still need; returns how many. The cutoff is the database's
   * clock, never this pod's (a pod whose clock runs ahead would delete what the others still
   * accept), less a whole extra window: a row goes once its timestamp is two windows behind
   * the database's clock, so a pod whose clock lags that clock by up to a window, still
   * accepting the timestamp, still finds the row (docs/design.md, "Shared replay protection").
   */
  async purge(): Promise<number> {
    const cutoff = sql<number>`floor(extract(epoch from now()))::bigint - ${this.options.timestampWindow}`;
    const result = await this.db.deleteFrom("nonce_keys").where("expires_at", "<", cutoff).executeTakeFirst();
    const rows = Number(result.numDeletedRows);
    this.options.events?.purged?.(rows);
    return rows;
  }

  close(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }
}

export const nonces = fp(
  async (app) => {
    if (app.hasDecorator("nonces")) return;
    const batchSize = new Histogram({
      name: "signet_nonce_batch_size",
      help: "Nonces per insert statement",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [app.metrics],
    });
    const insertSeconds = new Histogram({
      name: "signet_nonce_insert_seconds",
      help: "Duration of one batched nonce insert",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [app.metrics],
    });
    const purged = new Counter({
      name: "signet_nonces_purged_total",
      help: "Expired nonce rows deleted",
      registers: [app.metrics],
    });
    const { timestampWindow, noncePurgeIntervalMs, nonceMaxInFlight } = app.dataConfig;
    const store = new PgNonceStore(app.db, {
      timestampWindow,
      purgeIntervalMs: noncePurgeIntervalMs,
      maxInFlight: nonceMaxInFlight,
      events: {
        batch: (size, seconds) => {
          batchSize.observe(size);
          insertSeconds.observe(seconds);
        },
        purged: (rows) => purged.inc(rows),
        purgeError: (error) => app.log.warn({ err: error }, "nonce purge failed"),
      },
    });
    app.decorate("nonces", store);
    app.addHook("onClose", async () => store.close());
  },
  { name: "nonces", dependencies: ["signet-observability", "db"] },
);
