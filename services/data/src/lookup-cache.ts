// One kind of the credential caches (plugins/credentials.ts: consumers, tokens): what the
// database knows (a TtlLru), the keys it does not know (remembered for a short while, so
// garbage does not reach PostgreSQL on every request), and the database reads in flight,
// shared by concurrent misses of one key (docs/design.md, "Bounded caches"). Whether a read
// may be stored — no eviction since it started — is the owner's to decide (FillGuard).
import { TtlLru } from "./ttl-lru.js";

/**
 * How a lookup was answered: from the cache (hit), from the unknown keys (unknown), by a
 * database read it started (miss) or shared with a concurrent lookup (joined).
 */
export type LookupResult = "hit" | "unknown" | "miss" | "joined";

/** A database read's answer and until when it may be cached; null: not in the database. */
export type Read<V> = { value: V; until: number } | null;

/** The owner's generation counter: a read is stored only if no eviction happened since it began. */
export interface FillGuard {
  generation(): number;
  store(generation: number, insert: () => void): void;
}

export class LookupCache<V> {
  readonly found: TtlLru<V>;
  readonly unknown: TtlLru<true>;
  private readonly reading = new Map<string, Promise<V | null>>();

  constructor(
    maxEntries: number,
    /** How long an unknown key is remembered (milliseconds). */
    private readonly unknownTtlMs: number,
    private readonly guard: FillGuard,
  ) {
    this.found = new TtlLru(maxEntries);
    this.unknown = new TtlLru(maxEntries);
  }

  /**
   * The cached entry, the cached "unknown", the answer of a read in flight for the same
   * key, or a new database read (`read`), cached afterwards as the guard allows. What is
   * in memory is answered as it is, without a promise (the hot path of every request).
   */
  get(
    key: string,
    read: () => Promise<Read<V>>,
    count: (result: LookupResult) => void,
  ): V | null | Promise<V | null> {
    const now = Date.now();
    const found = this.found.get(key, now);
    if (found) {
      count("hit");
      return found;
    }
    if (this.unknown.get(key, now)) {
      count("unknown");
      return null;
    }
    const inFlight = this.reading.get(key);
    if (inFlight) {
      count("joined");
      return inFlight;
    }
    count("miss");
    return this.readThrough(key, read);
  }

  private async readThrough(key: string, read: () => Promise<Read<V>>): Promise<V | null> {
    const generation = this.guard.generation();
    const reading = read().then((answer) => {
      this.guard.store(generation, () => {
        if (answer) this.found.set(key, answer.value, answer.until);
        else this.unknown.set(key, true, Date.now() + this.unknownTtlMs);
      });
      return answer?.value ?? null;
    });
    this.reading.set(key, reading);
    try {
      return await reading;
    } finally {
      if (this.reading.get(key) === reading) this.reading.delete(key);
    }
  }

  /** Forgets one key, known or unknown. */
  forget(key: string): void {
    this.found.delete(key);
    this.unknown.delete(key);
  }

  /** After an eviction: later lookups start reads of their own instead of joining earlier ones. */
  dropReads(): void {
    this.reading.clear();
  }

  clear(): void {
    this.found.clear();
    this.unknown.clear();
  }
}
