// The bounded map behind the credential caches (plugins/credentials.ts): least recently
// used dropped first, each entry with its own expiry (docs/design.md, "Bounded caches").

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A Map used as an LRU (re-inserted on read) with a per-entry expiry. */
export class TtlLru<V> {
  private readonly map = new Map<string, Entry<V>>();
  /**
   * The entry inserted last (the most recently used): reading it again needs no move to the
   * end — the delete and re-insert would, on a small map, shrink and regrow its table.
   */
  private newest: Entry<V> | undefined;
  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    if (entry !== this.newest) {
      this.map.delete(key);
      this.map.set(key, entry);
      this.newest = entry;
    }
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(key);
    this.newest = { value, expiresAt };
    this.map.set(key, this.newest);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  // (a removed entry is not kept as `newest` either: nothing holds a forgotten secret)
  delete(key: string): void {
    if (this.map.get(key) === this.newest) this.newest = undefined;
    this.map.delete(key);
  }

  /** Deletes every entry whose value matches. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, entry] of this.map) {
      if (match(entry.value)) this.delete(key);
    }
  }

  clear(): void {
    this.newest = undefined;
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
