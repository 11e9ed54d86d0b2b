// The counters behind the frontend's rate limits (POST /login, POST /signup; docs/api.md,
// "Rate limits"): a count per key and per window of the clock (the minute 12:03:00–12:04:00,
// not a minute from the first hit), so every replica agrees on the window without talking.
// - KvCounters: a NATS JetStream KV bucket every replica shares, the same budget whichever
//   replica a request reaches. One entry per key and window (`<key>.<window index>`), bumped
//   with optimistic concurrency (read, then write expecting that revision; a lost race reads
//   again); the bucket's TTL drops a window once it is over. No size limit and no LRU: no
//   number of other keys makes one be forgotten sooner.
// - MemoryCounters: one process only (`npm start` without NATS), no size limit either; ended
//   windows are swept once a minute.
// Above `max` nothing more is written: a client hammering past its limit costs one read each.
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { openBucket, StoreUnavailableError, withTimeout } from "./kv.js";

/** A window's count after this hit, and the milliseconds left in the window. */
export interface Hit {
  current: number;
  ttl: number;
}

export interface Counters {
  /** One more hit on `key` in the current window of `windowMs`; at most max + 1 is counted. */
  hit(key: string, windowMs: number, max: number): Promise<Hit>;
  close(): Promise<void>;
}

/** The clock's window holding `now`: its index and the milliseconds left in it. */
function windowAt(windowMs: number, now: number): { index: number; ttl: number } {
  const index = Math.floor(now / windowMs);
  return { index, ttl: (index + 1) * windowMs - now };
}

export class MemoryCounters implements Counters {
  private readonly counts = new Map<string, { count: number; endsAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  private sweep(now = Date.now()): void {
    for (const [id, entry] of this.counts) if (entry.endsAt <= now) this.counts.delete(id);
  }

  async hit(key: string, windowMs: number, max: number): Promise<Hit> {
    const now = Date.now();
    const { index, ttl } = windowAt(windowMs, now);
    const id = `${key}.${index}`;
    const entry = this.counts.get(id) ?? { count: 0, endsAt: now + ttl };
    if (entry.count <= max) entry.count += 1;
    this.counts.set(id, entry);
    return { current: entry.count, ttl };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.counts.clear();
  }
}

/** JetStream's "wrong last sequence": another replica wrote the entry first. */
const CONFLICT_CODES = new Set([10071, 10164]);
const isConflict = (error: unknown) => CONFLICT_CODES.has((error as { code?: unknown }).code as number);

/** Lost races in a row before a hit gives up (503): only one key's own traffic can cause them. */
const MAX_ATTEMPTS = 20;

export class KvCounters implements Counters {
  private constructor(
    private readonly kv: KV,
    private readonly maxWindowMs: number,
  ) {}

  /**
   * Opens the bucket (created when absent) for windows of at most `maxWindowMs`; its TTL is
   * twice that, so a window's entry outlives the window whichever replica's clock wrote it.
   */
  static async open(
    nc: NatsConnection,
    options: { bucket: string; maxWindowMs: number; replicas?: number },
  ): Promise<KvCounters> {
    const kv = await openBucket(nc, {
      bucket: options.bucket,
      ttlMs: 2 * options.maxWindowMs,
      replicas: options.replicas,
      description: "Signet frontend rate-limit counters",
    });
    return new KvCounters(kv, options.maxWindowMs);
  }

  async hit(key: string, windowMs: number, max: number): Promise<Hit> {
    if (windowMs > this.maxWindowMs) throw new Error(`rate-limit window ${windowMs} ms over the bucket's`);
    const { index, ttl } = windowAt(windowMs, Date.now());
    const id = `${key}.${index}`;
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const entry = await withTimeout(this.kv.get(id), "rate-limit read");
        const stored = entry?.operation === "PUT" ? entry : undefined;
        const count = stored ? Number(stored.string()) || 0 : 0;
        if (count > max) return { current: count, ttl };
        const next = String(count + 1);
        try {
          await withTimeout(
            stored ? this.kv.update(id, next, stored.revision) : this.kv.create(id, next),
            "rate-limit write",
          );
          return { current: count + 1, ttl };
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
      }
      throw new Error(`still contended after ${MAX_ATTEMPTS} attempts`);
    } catch (error) {
      throw new StoreUnavailableError("RATE_LIMIT_STORE_UNAVAILABLE", error);
    }
  }

  async close(): Promise<void> {}
}
