// The credential caches' bounded map (src/ttl-lru.ts): least recently used dropped first,
// entries expire, and a removed entry is not held on to.
import { describe, expect, it } from "vitest";
import { TtlLru } from "../src/ttl-lru.js";

describe("TtlLru", () => {
  it("drops the least recently used: a read makes an entry the newest, reading the newest again keeps the order", () => {
    const lru = new TtlLru<string>(2);
    lru.set("a", "A", 1_000);
    lru.set("b", "B", 1_000);
    expect(lru.get("a", 0)).toBe("A"); // a is now the newest, b the oldest
    expect(lru.get("a", 0)).toBe("A"); // the newest read again: still the newest
    lru.set("c", "C", 1_000);
    expect([lru.get("b", 0), lru.get("a", 0), lru.get("c", 0)]).toEqual([undefined, "A", "C"]);
    // c was read last: a is the oldest now
    lru.set("d", "D", 1_000);
    expect([lru.get("a", 0), lru.get("c", 0), lru.get("d", 0)]).toEqual([undefined, "C", "D"]);
  });

  it("an expired entry is gone, also when it was the newest", () => {
    const lru = new TtlLru<string>(5);
    lru.set("a", "A", 100);
    expect(lru.get("a", 99)).toBe("A");
    expect(lru.get("a", 100)).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it("delete, deleteWhere and clear forget the newest entry too", () => {
    const lru = new TtlLru<string>(5);
    lru.set("a", "A", 1_000);
    lru.delete("a");
    expect(lru.get("a", 0)).toBeUndefined();
    lru.set("b", "B", 1_000);
    lru.deleteWhere((v) => v === "B");
    expect(lru.get("b", 0)).toBeUndefined();
    lru.set("c", "C", 1_000);
    lru.clear();
    expect([lru.get("c", 0), lru.size]).toEqual([undefined, 0]);
    // a re-set key is a new entry, read as usual
    lru.set("a", "A2", 1_000);
    lru.set("z", "Z", 1_000);
    expect(lru.get("a", 0)).toBe("A2");
  });
});
