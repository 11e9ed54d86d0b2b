// The previous release's nonce store, kept for the benchmark's A/B only (never served): one
// `insert into nonce_keys … on conflict do nothing returning …` per batch, compiled by Kysely
// every time, into a logged table with an index on expiry and a per-row DELETE purge. The
// benchmark runs it beside the current store (services/data/src/nonce-store.ts) in the same
// run, on a database whose nonce_keys trigger (the rolling-upgrade bridge) is dropped, so it
// costs what it cost before.
import { sql, type Kysely } from "kysely";
import type { Database } from "@signet/shared/db";
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
