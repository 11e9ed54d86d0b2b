// The previous stores, kept for the benchmark's A/B only (never served). First the store of two
// releases back (what bench/http.ts calls "the previous release's store" or "legacy"): one
// `insert into nonce_keys … on conflict do nothing returning …` per batch, compiled by Kysely
// every time, into a logged table with an index on expiry and a per-row DELETE purge. The
// benchmark runs it beside the current store (services/data/src/nonce-store.ts) in the same
// run, on a database whose nonce_keys trigger (the rolling-upgrade bridge) is dropped, so it
// costs what it cost before.
import { createHash } from "node:crypto";
import { Migrator, sql, type Kysely } from "kysely";
import type pg from "pg";
import { migrations, type Database } from "@signet/shared/db";
import type { NonceStore } from "@signet/shared/oauth";
import { nonceKey } from "@signet/data/nonce-store";

interface Pending {
  key: Buffer;
  expiresAt: number;
  resolve: (fresh: boolean) => void;
  reject: (error: unknown) => void;
}

export class LegacyNonceStore implements NonceStore {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  readonly totals = { calls: 0, batches: 0, largestBatch: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { timestampWindow: number; maxInFlight: number },
  ) {}

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
    if (this.inFlight >= this.options.maxInFlight || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.inFlight++;
    const batch = this.queue.slice(0, 500);
    this.queue = this.queue.slice(batch.length);
    const first = new Map<string, Pending>();
    for (const p of batch) {
      const k = p.key.toString("hex");
      if (first.has(k)) p.resolve(false);
      else first.set(k, p);
    }
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
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** The old purge: a per-row DELETE by the expiry index. */
  async purge(): Promise<number> {
    const cutoff = sql<number>`floor(extract(epoch from now()))::bigint - ${this.options.timestampWindow}`;
    const result = await this.db.deleteFrom("nonce_keys").where("expires_at", "<", cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * The last release's store, for the benchmark's A/B only: one `signet_nonce_claim` per batch
 * (the nonce-partitions migration's function, still in the schema for pods of that release)
 * with bytea[] in text, won keys answered as bytea[], a first-caller-per-key Map — on a
 * database migrated up to that release (nonce_log keyed (key, ts)): `migrateToLastRelease`.
 * Partitions are made by this release's maintenance, which is the same.
 */
export class LastReleaseNonceStore implements NonceStore {
  private queue: {
    key: Buffer;
    hex: string;
    ts: number;
    resolve: (fresh: boolean) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private inFlight = 0;
  private scheduled = false;
  readonly totals = { calls: 0, batches: 0, largestBatch: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { timestampWindow: number; maxInFlight: number; maxBatch?: number },
  ) {}

  use(consumerKey: string, token: string, nonce: string, timestamp: number): Promise<boolean> {
    this.totals.calls++;
    const key = lastReleaseKey(consumerKey, token, nonce);
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ key, hex: key.toString("hex"), ts: timestamp, resolve, reject });
      this.schedule();
    });
  }

  private mayClaim(): boolean {
    if (this.inFlight === 0) return true;
    const maxBatch = this.options.maxBatch ?? 500;
    return this.inFlight < this.options.maxInFlight && this.queue.length >= Math.ceil(maxBatch / 8);
  }

  private schedule(): void {
    if (this.scheduled || !this.mayClaim()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0 || !this.mayClaim()) return;
    this.inFlight++;
    const batch = new Map<string, (typeof this.queue)[number]>();
    const later: typeof this.queue = [];
    let taken = 0;
    for (; taken < this.queue.length && batch.size < (this.options.maxBatch ?? 500); taken++) {
      const p = this.queue[taken]!;
      const first = batch.get(p.hex);
      if (first === undefined) batch.set(p.hex, p);
      else if (first.ts === p.ts) p.resolve(false);
      else later.push(p);
    }
    this.queue = later.length > 0 ? [...later, ...this.queue.slice(taken)] : this.queue.slice(taken);
    try {
      const pending = [...batch.values()];
      const result = await this.pool.query<{ since: string; db_now: string; won: Buffer[] | null }>({
        name: "signet_nonce_claim",
        text: "select since, db_now, won from signet_nonce_claim($1::bytea[], $2::bigint[], $3::bigint)",
        values: [pending.map((p) => p.key), pending.map((p) => p.ts), this.options.timestampWindow],
      });
      const won = new Set<string>();
      for (const key of result.rows[0]?.won ?? []) won.add(Buffer.from(key).toString("hex"));
      for (const [hex, p] of batch) p.resolve(won.has(hex));
    } catch (error) {
      for (const p of batch.values()) p.reject(error);
    } finally {
      this.totals.batches++;
      this.totals.largestBatch = Math.max(this.totals.largestBatch, batch.size);
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    }
  }
}

/** The last release's row key: the same bytes as nonceKey's, computed as it was (createHash, six updates). */
function lastReleaseKey(consumerKey: string, token: string, nonce: string): Buffer {
  const hash = createHash("sha256");
  const length = Buffer.allocUnsafe(4);
  for (const part of [consumerKey, token, nonce]) {
    length.writeUInt32BE(Buffer.byteLength(part, "utf8"));
    hash.update(length).update(part, "utf8");
  }
  return hash.digest().subarray(0, 16);
}

/** Migrates a fresh database up to the last release (before the nonce-fast-claim migration). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLastRelease(db: Kysely<any>): Promise<void> {
  const last = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "2026-12-02"));
  const result = await new Migrator({ db, provider: { getMigrations: async () => last } }).migrateToLatest();
  if (result.error) throw result.error;
}
