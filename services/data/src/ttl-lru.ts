// The bounded map behind the credential caches (plugins/credentials.ts): least recently
// used dropped first, each entry with its own expiry (docs/design.md, "Bounded caches").

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A Map used as an LRU (re-inserted on read) with a per-entry expiry. */
export class TtlLru<V> {
  private readonly map = new Map<string, Entry<V>>();
  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    this.map.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.map.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expiresAt });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Deletes every entry whose value matches. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, entry] of this.map) {
      if (match(entry.value)) this.map.delete(key);
    }
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
