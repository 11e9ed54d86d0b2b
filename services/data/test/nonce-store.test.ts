// The nonce store: batching of concurrent calls, duplicates inside a batch, the purge.
import { sql } from "kysely";
import { afterEach, expect, it, vi } from "vitest";
import { useTestDatabase } from "@signet/test-support/db";
import { nonceKey, PgNonceStore } from "../src/plugins/nonces.js";

const tdb = useTestDatabase();

/** Rows currently in nonce_keys. */
async function storedRows(): Promise<number> {
  const result = await sql<{ n: number }>`select count(*)::int as n from nonce_keys`.execute(tdb.db);
  return result.rows[0]?.n ?? 0;
}

afterEach(() => {
  vi.useRealTimers();
});

it("concurrent calls go into one insert; a duplicate inside the batch: only the first caller wins", async () => {
  const batches: number[] = [];
  const store = new PgNonceStore(tdb.db, { timestampWindow: 300, events: { batch: (n) => batches.push(n) } });
  const ts = Math.floor(Date.now() / 1000);
  const calls = Array.from({ length: 50 }, (_, i) => store.use("ck", "tok", `n${i}`, ts));
  const dupes = [
    store.use("ck", "tok", "dup", ts),
    store.use("ck", "tok", "dup", ts),
    store.use("ck", "tok", "dup", ts),
  ];
  const results = await Promise.all(calls);
  expect(results.every(Boolean)).toBe(true);
  expect(await Promise.all(dupes)).toEqual([true, false, false]);
  expect(batches).toEqual([53]);
  // already stored: refused; another token or consumer: a different key
  expect(await store.use("ck", "tok", "n0", ts)).toBe(false);
  expect(await store.use("ck", "", "n0", ts)).toBe(true);
  expect(await store.use("ck2", "tok", "n0", ts)).toBe(true);
  store.close();
});

it("calls arriving while an insert is in flight form the next batch", async () => {
  const batches: number[] = [];
  const store = new PgNonceStore(tdb.db, { timestampWindow: 300, events: { batch: (n) => batches.push(n) } });
  const ts = Math.floor(Date.now() / 1000);
  const first = store.use("ck", "t2", "a", ts);
  await new Promise((resolve) => setImmediate(resolve)); // the first insert is now in flight
  const rest = Array.from({ length: 20 }, (_, i) => store.use("ck", "t2", `b${i}`, ts));
  expect(await first).toBe(true);
  expect((await Promise.all(rest)).every(Boolean)).toBe(true);
  expect(batches).toEqual([1, 20]);
  expect(store.totals.largestBatch).toBe(20);
  store.close();
});

/** The database's clock, in seconds. */
async function databaseNow(): Promise<number> {
  const result = await sql<{ now: string }>`select floor(extract(epoch from now()))::bigint as now`.execute(
    tdb.db,
  );
  return Number(result.rows[0]!.now);
}

it("the purge goes by the database's clock and waits a whole window more: this pod's clock plays no part", async () => {
  const store = new PgNonceStore(tdb.db, { timestampWindow: 60 });
  await tdb.db.deleteFrom("nonce_keys").execute();
  const now = await databaseNow();
  expect(await store.use("ck", "", "two windows old", now - 125)).toBe(true); // expires now - 65
  // its window has passed by the database's clock, but a pod lagging by up to a window still takes it
  expect(await store.use("ck", "", "one window old", now - 115)).toBe(true); // expires now - 55
  expect(await store.use("ck", "", "fresh", now)).toBe(true); // expires now + 60
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime((now + 3_600) * 1000); // this pod's clock an hour ahead
  expect(await store.purge()).toBe(1);
  vi.setSystemTime((now - 3_600) * 1000); // or an hour behind
  expect(await store.purge()).toBe(0);
  vi.useRealTimers();
  expect(await storedRows()).toBe(2);
  await tdb.db.deleteFrom("nonce_keys").execute();
  store.close();
});

it("the periodic purge runs on its own", async () => {
  const store = new PgNonceStore(tdb.db, {
    timestampWindow: 1,
    purgeIntervalMs: 50,
  });
  await store.use("ck", "", "soon-gone", Math.floor(Date.now() / 1000) - 10);
  await expect.poll(() => storedRows(), { timeout: 2_000 }).toBe(0);
  store.close();
});

it("with several inserts in flight, a nonce used in two batches at once still wins exactly once", async () => {
  const store = new PgNonceStore(tdb.db, { timestampWindow: 300, maxInFlight: 3 });
  const ts = Math.floor(Date.now() / 1000);
  for (let round = 0; round < 20; round++) {
    const results: Promise<boolean>[] = [];
    for (let wave = 0; wave < 3; wave++) {
      results.push(store.use("ck", "t3", `r${round}`, ts));
      await new Promise((resolve) => setImmediate(resolve)); // the next wave goes into another batch
    }
    expect((await Promise.all(results)).filter(Boolean)).toHaveLength(1);
  }
  expect(store.totals.batches).toBeGreaterThanOrEqual(40);
  store.close();
});

it("the row key keeps consumer, token and nonce apart (length-prefixed, not concatenated)", async () => {
  const store = new PgNonceStore(tdb.db, { timestampWindow: 300 });
  const ts = Math.floor(Date.now() / 1000);
  // the same characters split differently across the three parts: different requests
  expect(await store.use("ab", "c", "n", ts)).toBe(true);
  expect(await store.use("a", "bc", "n", ts)).toBe(true);
  expect(await store.use("a", "b", "cn", ts)).toBe(true);
  expect(await store.use("ab", "c", "n", ts)).toBe(false);
  expect(nonceKey("ab", "c", "n")).toHaveLength(16);
  store.close();
});
