// The nonce store (src/nonce-store.ts) on real PostgreSQL: batching, duplicates inside a
// batch, partitions created ahead and dropped whole by the database's clock, the guard that
// refuses what a lost store may have held, the bounds the database's clock sets, and a
// rolling upgrade beside pods that still write nonce_keys.
import { createHash } from "node:crypto";
import { sql } from "kysely";
import pg from "pg";
import { afterEach, expect, it, vi } from "vitest";
import { OAuthError } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { nonceKey, PgNonceStore, type PgNonceStoreOptions } from "../src/nonce-store.js";

const tdb = useTestDatabase();

afterEach(() => {
  vi.useRealTimers();
});

const stores: PgNonceStore[] = [];
const pools: pg.Pool[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  for (const p of pools.splice(0)) await p.end();
});
/**
 * A store as the data pods run it: claims on a pool of its own, arrays in binary. With
 * `pool: undefined`, claims go through `db` as under `npm start` (PGlite has no pool).
 */
function storeOf(options: Partial<PgNonceStoreOptions> = {}): PgNonceStore {
  const pool = new pg.Pool({ connectionString: tdb.url, max: 3 });
  pools.push(pool);
  const store = new PgNonceStore(tdb.db, { timestampWindow: 300, pool, ...options });
  stores.push(store);
  return store;
}

/** The database's clock, in seconds. */
async function databaseNow(): Promise<number> {
  const result = await sql<{
    now: string;
  }>`select floor(extract(epoch from now()))::bigint as now`.execute(tdb.db);
  return Number(result.rows[0]!.now);
}

/** nonce_log's partitions: name, bounds from the name, persistence ('u' unlogged, 'p' logged). */
async function partitions(): Promise<{ name: string; start: number; end: number; persistence: string }[]> {
  const result = await sql<{ name: string; persistence: string }>`select c.relname as name,
    c.relpersistence as persistence from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'nonce_log'::regclass order by c.relname`.execute(tdb.db);
  return result.rows.map((r) => {
    const [, start, end] = /^nonce_log_(\d+)_(\d+)$/.exec(r.name)!;
    return { ...r, start: Number(start), end: Number(end) };
  });
}

/** What crash recovery does to the unlogged tables (and what a promoted standby starts with). */
async function loseUnloggedTables(): Promise<void> {
  await sql`truncate nonce_log, nonce_guard`.execute(tdb.db);
}

/** The statement pods of the previous version run (the old PgNonceStore): insert into nonce_keys. */
async function oldPodClaims(consumer: string, token: string, nonce: string, ts: number, window = 300) {
  const result = await sql<{ k: string }>`insert into nonce_keys (key, expires_at)
    values (${nonceKey(consumer, token, nonce)}, ${ts + window})
    on conflict do nothing returning encode(key, 'hex') as k`.execute(tdb.db);
  return result.rows.length === 1;
}

const problemOf = async (p: Promise<boolean>) =>
  p.then(
    (fresh) => (fresh ? "fresh" : "nonce_used"),
    (error: unknown) => (error instanceof OAuthError ? error.problem : `error: ${String(error)}`),
  );

it("concurrent calls go into one claim; a duplicate inside the batch: only the first caller wins", async () => {
  const batches: number[] = [];
  const store = storeOf({ events: { batch: (n) => batches.push(n) } });
  await store.maintain();
  const ts = await databaseNow();
  const calls = Array.from({ length: 50 }, (_, i) => store.use("ck", "tok", `n${i}`, ts));
  const dupes = [
    store.use("ck", "tok", "dup", ts),
    store.use("ck", "tok", "dup", ts),
    store.use("ck", "tok", "dup", ts),
  ];
  // the same nonce with another timestamp is another request (RFC 5849 §3.3), in the same batch
  const otherTimestamp = store.use("ck", "tok", "dup", ts - 1);
  expect((await Promise.all(calls)).every(Boolean)).toBe(true);
  expect(await Promise.all(dupes)).toEqual([true, false, false]);
  expect(await otherTimestamp).toBe(true);
  expect(batches).toEqual([54]);
  // already stored: refused; another token or consumer: a different key
  expect(await store.use("ck", "tok", "n0", ts)).toBe(false);
  expect(await store.use("ck", "", "n0", ts)).toBe(true);
  expect(await store.use("ck2", "tok", "n0", ts)).toBe(true);
});

it("calls arriving while a claim is in flight wait for it and form the next batch; a full eighth of a batch runs beside it", async () => {
  const batches: number[] = [];
  const store = storeOf({ events: { batch: (n) => batches.push(n) } });
  await store.maintain();
  const ts = await databaseNow();
  const first = store.use("ck", "t2", "a", ts);
  await new Promise((resolve) => setImmediate(resolve)); // the first claim is now in flight
  const rest = Array.from({ length: 20 }, (_, i) => store.use("ck", "t2", `b${i}`, ts));
  expect(await first).toBe(true);
  expect((await Promise.all(rest)).every(Boolean)).toBe(true);
  expect(batches).toEqual([1, 20]);
  expect(store.totals.largestBatch).toBe(20);

  // maxInFlight 3, maxBatch 16: two waiting nonces are an eighth of a batch, so they do not
  // wait. Seen in PostgreSQL: with nonce_log locked, both claims are there, waiting at once.
  const parallel = storeOf({ maxInFlight: 3, maxBatch: 16 });
  let release!: () => void;
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = tdb.db.transaction().execute(async (trx) => {
    await sql`lock table nonce_log in access exclusive mode`.execute(trx);
    locked();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await isLocked;
  const one = parallel.use("ck", "t2", "c", ts);
  await new Promise((resolve) => setImmediate(resolve));
  const two = [parallel.use("ck", "t2", "d", ts), parallel.use("ck", "t2", "e", ts)];
  const waitingClaims = async () =>
    (
      await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and query like '%signet_nonce_claim_batch(%' and wait_event_type = 'Lock'`.execute(
        tdb.db,
      )
    ).rows[0]!.n;
  await expect.poll(waitingClaims, { timeout: 10_000 }).toBe(2);
  release();
  await holder;
  expect([await one, ...(await Promise.all(two))]).toEqual([true, true, true]);
  expect(parallel.totals.batches).toBe(2);
});

it("with several claims in flight, a nonce used in two batches at once still wins exactly once", async () => {
  // maxBatch 8: a single waiting nonce is an eighth of a batch, so each wave is a claim of its own
  const store = storeOf({ maxInFlight: 3, maxBatch: 8 });
  await store.maintain();
  const ts = await databaseNow();
  for (let round = 0; round < 20; round++) {
    const results: Promise<boolean>[] = [];
    for (let wave = 0; wave < 3; wave++) {
      results.push(store.use("ck", "t3", `r${round}`, ts));
      await new Promise((resolve) => setImmediate(resolve)); // the next wave goes into another batch
    }
    expect((await Promise.all(results)).filter(Boolean)).toHaveLength(1);
  }
  expect(store.totals.batches).toBeGreaterThanOrEqual(40);
});

it.each([
  ["on the store's pool", {}],
  ["through db (npm start)", { pool: undefined }],
])(
  "a batch holding a replay: the row-by-row path refuses exactly the replays, every other nonce wins (%s)",
  async (name, via) => {
    const token = `t5 ${name}`;
    const batches: number[] = [];
    const store = storeOf({ ...via, events: { batch: (n) => batches.push(n) } });
    await store.maintain();
    const ts = await databaseNow();
    expect(await store.use("ck", token, "seen", ts)).toBe(true);
    // one batch: refusals by the bounds, a replay, a duplicate and fresh nonces, interleaved, so a
    // position answered for the wrong caller would show
    const results = await Promise.all([
      problemOf(store.use("ck", token, "fresh 1", ts)),
      problemOf(store.use("ck", token, "too far ahead", ts + 400)),
      problemOf(store.use("ck", token, "seen", ts)),
      problemOf(store.use("ck", token, "twice", ts)),
      problemOf(store.use("ck", token, "fresh 2", ts)),
      problemOf(store.use("ck", token, "twice", ts)),
      problemOf(store.use("ck", token, "seen", ts - 1)),
    ]);
    expect(results).toEqual([
      "fresh",
      "timestamp_refused",
      "nonce_used",
      "fresh",
      "fresh",
      "nonce_used",
      "fresh",
    ]);
    expect(batches).toEqual([1, 7]);
    // what that batch stored is refused from then on
    for (const nonce of ["fresh 1", "twice", "fresh 2"])
      expect(await store.use("ck", token, nonce, ts)).toBe(false);
    expect(await store.use("ck", token, "too far ahead", ts)).toBe(true);
  },
);

it("an answer whose count of stored rows disagrees with the winners is not trusted: every caller gets the error", async () => {
  const store = storeOf();
  await store.maintain();
  const ts = await databaseNow();
  // a claim that stores nothing yet answers that nobody lost
  await tdb.db.transaction().execute(async (trx) => {
    await sql`alter function signet_nonce_claim_batch(bytea[], bigint[], bigint) rename to real_claim`.execute(
      trx,
    );
    await sql`create function signet_nonce_claim_batch(bytea[], bigint[], bigint,
        out since bigint, out db_now bigint, out lost int[], out stored int) language sql
      as $$ select 0::bigint, floor(extract(epoch from now()))::bigint, null::int[], 0 $$`.execute(trx);
  });
  try {
    expect(await problemOf(store.use("ck", "t6", "n", ts))).toMatch(/^error: .*stored 0 rows for 1 winners/);
  } finally {
    await tdb.db.transaction().execute(async (trx) => {
      await sql`drop function signet_nonce_claim_batch(bytea[], bigint[], bigint)`.execute(trx);
      await sql`alter function real_claim(bytea[], bigint[], bigint) rename to signet_nonce_claim_batch`.execute(
        trx,
      );
    });
  }
  expect(await store.use("ck", "t6", "n", ts)).toBe(true);
});

it("the row key keeps consumer, token and nonce apart (length-prefixed, not concatenated)", async () => {
  const store = storeOf();
  const ts = await databaseNow();
  expect(await store.use("ab", "c", "n", ts)).toBe(true);
  expect(await store.use("a", "bc", "n", ts)).toBe(true);
  expect(await store.use("a", "b", "cn", ts)).toBe(true);
  expect(await store.use("ab", "c", "n", ts)).toBe(false);
  expect(nonceKey("ab", "c", "n")).toHaveLength(16);
});

it("the row key is the previous releases' (pods of every version compute the same key for a request)", () => {
  // as the previous releases computed it: one hash, each part's length and UTF-8 bytes fed in turn
  const previous = (...parts: string[]) => {
    const hash = createHash("sha256");
    for (const part of parts) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(part, "utf8"));
      hash.update(length).update(part, "utf8");
    }
    return hash.digest().subarray(0, 16);
  };
  for (const [consumer, token, nonce] of [
    ["ck", "", "n"],
    ["consumer-key", "token-key", "x".repeat(128)],
    ["ключ", "トークン", "nonce ✓"],
    ["lone \ud800 surrogate", "", "\udfff"],
  ]) {
    expect(nonceKey(consumer!, token!, nonce!).equals(previous(consumer!, token!, nonce!)), nonce).toBe(true);
  }
});

it("partitions: created ahead (unlogged, or logged when told), dropped whole once two windows behind the database's clock", async () => {
  await sql`drop table if exists ${sql.raw((await partitions()).map((p) => p.name).join(", ") || "nonce_log_0_1")}`.execute(
    tdb.db,
  );
  const store = storeOf({ timestampWindow: 60, partitionSeconds: 30 });
  const now = await databaseNow();
  // this pod's clock an hour ahead: it plays no part
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime((now + 3_600) * 1000);
  const first = await store.maintain();
  vi.useRealTimers();
  expect(first).toMatchObject({ ran: true, dropped: 0 });
  const made = await partitions();
  expect(made.every((p) => p.persistence === "u" && p.end - p.start === 30)).toBe(true);
  // from two windows behind the database's clock to more than a window ahead, without a gap
  expect(made[0]!.start).toBeLessThanOrEqual(now - 120);
  expect(made.at(-1)!.end).toBeGreaterThan(now + 60);
  for (let i = 1; i < made.length; i++) expect(made[i]!.start).toBe(made[i - 1]!.end);

  // a partition whose end is two windows behind goes; one a pod lagging by a window still needs stays
  const start = Math.floor((now - 200) / 30) * 30;
  await sql`create unlogged table ${sql.id(`nonce_log_${start - 30}_${start}`)} partition of nonce_log
    for values from (${sql.lit(start - 30)}) to (${sql.lit(start)})`.execute(tdb.db);
  await sql`insert into nonce_log (key, ts) values (${nonceKey("a", "b", "c")}, ${start - 1})`.execute(
    tdb.db,
  );
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime((now - 3_600) * 1000); // this pod's clock an hour behind: still the database's clock
  const second = await store.maintain();
  vi.useRealTimers();
  expect(second.dropped).toBeGreaterThanOrEqual(1);
  const left = await partitions();
  expect(left.some((p) => p.start === start - 30)).toBe(false);
  expect(left.every((p) => p.end > now - 120)).toBe(true);

  // logged partitions when told (SIGNET_NONCE_UNLOGGED=false)
  await sql`drop table ${sql.raw(left.map((p) => p.name).join(", "))}`.execute(tdb.db);
  await storeOf({ timestampWindow: 60, partitionSeconds: 30, unlogged: false }).maintain();
  expect((await partitions()).every((p) => p.persistence === "p")).toBe(true);
});

it("a claim that finds no partition for its timestamp creates it and claims again", async () => {
  const names = (await partitions()).map((p) => p.name);
  if (names.length) await sql`drop table ${sql.raw(names.join(", "))}`.execute(tdb.db);
  const store = storeOf();
  const ts = await databaseNow();
  expect(await store.use("ck", "tok", "no partition yet", ts)).toBe(true);
  expect(await store.use("ck", "tok", "no partition yet", ts)).toBe(false);
  expect((await partitions()).length).toBeGreaterThan(0);
});

it("a claim that finds no partition while another pod maintains waits for that pod, then claims", async () => {
  const names = (await partitions()).map((p) => p.name);
  if (names.length) await sql`drop table ${sql.raw(names.join(", "))}`.execute(tdb.db);
  // another pod in the middle of its maintenance: it holds the lock (and has created nothing yet)
  let release!: () => void;
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const otherPod = tdb.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${0x5167_4e4f})`.execute(trx);
    locked();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await isLocked;
  const store = storeOf();
  const claimed = store.use("ck", "tok", "while another maintains", await databaseNow());
  const waitingOnLock = async () =>
    (
      await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event = 'advisory'`.execute(tdb.db)
    ).rows[0]!.n;
  await expect.poll(waitingOnLock, { timeout: 10_000 }).toBe(1);
  release();
  await otherPod;
  expect(await claimed).toBe(true);
});

it("only one pod maintains at a time (an advisory lock)", async () => {
  const a = storeOf();
  const b = storeOf();
  const results = await Promise.all([a.maintain(), b.maintain()]);
  expect(results.filter((r) => r.ran).length).toBeGreaterThanOrEqual(1);
  // the lock is held for the transaction only: a later run goes ahead
  expect((await b.maintain()).ran).toBe(true);
});

it("the database's clock bounds what is stored: more than a window ahead or two behind is refused", async () => {
  const store = storeOf({ timestampWindow: 60 });
  await store.maintain();
  const now = await databaseNow();
  expect(await problemOf(store.use("ck", "", "ahead", now + 65))).toBe("timestamp_refused");
  expect(await problemOf(store.use("ck", "", "behind", now - 125))).toBe("timestamp_refused");
  // a pod lagging the database by up to a window still has its nonces stored
  expect(await problemOf(store.use("ck", "", "lagging", now - 115))).toBe("fresh");
  expect(await problemOf(store.use("ck", "", "lagging", now - 115))).toBe("nonce_used");
});

it("the store lost its rows (crash recovery, a promoted standby): every timestamp they could hold is refused, by every pod", async () => {
  const lost: number[] = [];
  const a = storeOf({ events: { lost: (since) => lost.push(since) } });
  const b = storeOf();
  await a.maintain();
  const now = await databaseNow();
  expect(await a.use("ck", "tok", "captured", now)).toBe(true);
  expect(await b.use("ck", "tok", "captured", now)).toBe(false);

  await loseUnloggedTables();
  // the replay of the captured request: refused by both pods, not a fresh nonce
  expect(await problemOf(b.use("ck", "tok", "captured", now))).toBe("timestamp_refused");
  expect(await problemOf(a.use("ck", "tok", "captured", now))).toBe("timestamp_refused");
  // so is any timestamp up to a window ahead of the database's clock at the loss
  const guard = await tdb.db.selectFrom("nonce_guard").selectAll().executeTakeFirstOrThrow();
  expect(Number(guard.since)).toBeGreaterThan((await databaseNow()) + 300 - 5);
  expect(Number(guard.since)).toBeLessThanOrEqual((await databaseNow()) + 301);
  expect(lost).toEqual([Number(guard.since)]);

  // once the window has passed (here: the guard moved back by hand), new timestamps are stored again
  await sql`update nonce_guard set since = ${now - 10}`.execute(tdb.db);
  expect(await problemOf(a.use("ck", "tok", "earlier", now - 11))).toBe("timestamp_refused");
  expect(await problemOf(a.use("ck", "tok", "later", now))).toBe("fresh");
  expect(await problemOf(b.use("ck", "tok", "later", now))).toBe("nonce_used");
});

/** The claim pods of the previous release call (signet_nonce_claim: won keys, not lost positions). */
async function previousReleaseClaims(consumer: string, token: string, nonce: string, ts: number) {
  const key = nonceKey(consumer, token, nonce);
  const result = await sql<{ won: Buffer[] | null }>`select won from signet_nonce_claim(
    array[${key}]::bytea[], array[${ts}]::bigint[], 300)`.execute(tdb.db);
  return (result.rows[0]?.won ?? []).some((k) => Buffer.compare(k, key) === 0);
}

it("rolling upgrade from the previous release: its pods (signet_nonce_claim) and this one's refuse each other's replays", async () => {
  const store = storeOf();
  await store.maintain();
  const now = await databaseNow();
  expect(await previousReleaseClaims("ck", "tok", "previous first", now)).toBe(true);
  expect(await store.use("ck", "tok", "previous first", now)).toBe(false);
  expect(await store.use("ck", "tok", "this first", now)).toBe(true);
  expect(await previousReleaseClaims("ck", "tok", "this first", now)).toBe(false);
  for (let i = 0; i < 20; i++) {
    const results = await Promise.all([
      store.use("ck", "tok", `mixed race ${i}`, now),
      previousReleaseClaims("ck", "tok", `mixed race ${i}`, now),
    ]);
    expect(results.filter(Boolean), `race ${i}`).toHaveLength(1);
  }
});

it("rolling upgrade: pods of the previous version (nonce_keys) and of this one (nonce_log) refuse each other's replays", async () => {
  const store = storeOf();
  await store.maintain();
  const now = await databaseNow();
  // window recorded by this version's pods: the trigger derives an old pod's timestamp from it
  expect(await store.use("ck", "tok", "warm", now)).toBe(true);

  // old pod first, then this version
  expect(await oldPodClaims("ck", "tok", "old first", now)).toBe(true);
  expect(await store.use("ck", "tok", "old first", now)).toBe(false);
  expect(await oldPodClaims("ck", "tok", "old first", now)).toBe(false);
  // this version first, then an old pod
  expect(await store.use("ck", "tok", "new first", now)).toBe(true);
  expect(await oldPodClaims("ck", "tok", "new first", now)).toBe(false);
  // at once: exactly one of the two wins
  for (let i = 0; i < 20; i++) {
    const results = await Promise.all([
      store.use("ck", "tok", `race ${i}`, now),
      oldPodClaims("ck", "tok", `race ${i}`, now),
    ]);
    expect(results.filter(Boolean), `race ${i}`).toHaveLength(1);
  }
  // a row written before the migration (no trigger then: only in nonce_keys) is still refused,
  // alone or in a batch beside fresh nonces
  await sql`alter table nonce_keys disable trigger nonce_keys_legacy_claim`.execute(tdb.db);
  await sql`insert into nonce_keys (key, expires_at) select ${nonceKey("ck", "tok", "before the upgrade")},
    ${now + 300}`.execute(tdb.db);
  await sql`alter table nonce_keys enable trigger nonce_keys_legacy_claim`.execute(tdb.db);
  expect(
    await sql`select 1 from nonce_log where key = ${nonceKey("ck", "tok", "before the upgrade")}`.execute(
      tdb.db,
    ),
  ).toMatchObject({ rows: [] });
  expect(await store.use("ck", "tok", "before the upgrade", now)).toBe(false);
  expect(
    await Promise.all([
      store.use("ck", "tok", "beside it", now),
      store.use("ck", "tok", "before the upgrade", now),
    ]),
  ).toEqual([true, false]);

  // the store lost its rows: an old pod refuses what this version's pods had accepted, too
  expect(await store.use("ck", "tok", "accepted by a new pod", now)).toBe(true);
  await loseUnloggedTables();
  expect(await oldPodClaims("ck", "tok", "accepted by a new pod", now)).toBe(false);

  // the maintenance deletes what old pods left once it expired
  await sql`update nonce_keys set expires_at = ${now - 301}`.execute(tdb.db);
  expect((await store.maintain()).legacyPurged).toBeGreaterThan(0);
  expect(await tdb.db.selectFrom("nonce_keys").select("key").execute()).toEqual([]);
});
