// The throttle every data pod shares (docs/api.md, "Login rate limits"): budgets of
// attempts per sliding window, kept in PostgreSQL so the budget is the same whichever pod
// a request reaches, and nothing an attacker sends can make a counter be forgotten early.
//
// One row per budget key holds the stamps of the attempts counted in the window: µs since
// the epoch on the database's clock, at ms precision with the last three digits random, so
// two attempts on one key never share a stamp in practice (a release removes its own).
// takeThrottle() is ONE statement: an upsert that, per key and under the row's lock, drops
// the stamps older than the window and appends the attempt's stamp only when fewer than
// the limit remain. So concurrent attempts on any pod are counted exactly (no
// check-then-write race), and a refused attempt takes nothing. When one budget of several
// refuses, the ones that granted are given back at once. releaseThrottle() gives an
// attempt back (a login whose password was right does not count).
//
// Rows are locked in one global order (by key bytes) by both statements: no deadlock.
import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema.js";

/** One budget an attempt draws from: `limit` attempts per `windowMs` for this kind and key. */
export interface ThrottleBudget {
  /** What is counted, e.g. "login-address"; part of the row key. */
  kind: string;
  /** Whose attempts, e.g. the client address; hashed with the kind. */
  key: string;
  limit: number;
  windowMs: number;
}

export type ThrottleResult =
  | { granted: true; /** The attempt's stamp, for releaseThrottle. */ stamp: number; keys: Buffer[] }
  | {
      granted: false;
      /** Milliseconds until every refusing budget has room again. */
      retryAfterMs: number;
      /** The kinds of the budgets that refused. */
      refused: string[];
    };

/** The row key: the first 16 bytes of SHA-256 over the kind, a NUL and the key text. */
export function throttleKey(kind: string, key: string): Buffer {
  return createHash("sha256").update(kind).update("\0").update(key).digest().subarray(0, 16);
}

interface Row {
  key: Buffer | Uint8Array;
  granted: boolean;
  stamp: number | string;
  /** The stamps the row holds after the statement (int8[]: strings from pg). */
  hits: (number | string | bigint)[];
}

/** Takes one attempt from every budget, or from none (then `retryAfterMs` says how long to wait). */
export async function takeThrottle(db: Kysely<Database>, budgets: ThrottleBudget[]): Promise<ThrottleResult> {
  const wanted = budgets
    .map((b) => ({
      kind: b.kind,
      key: throttleKey(b.kind, b.key),
      limit: b.limit,
      windowUs: b.windowMs * 1000,
    }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const rowsIn = sql.join(wanted.map((w, n) => sql`(${w.key}::bytea, ${w.windowUs}::bigint, ${n}::int)`));
  const limit = sql`case t.key ${sql.join(
    wanted.map((w) => sql`when ${w.key}::bytea then ${w.limit}::int`),
    sql` `,
  )} end`;
  // In the update, excluded.hits[1] is the attempt's stamp and excluded.expires_at the stamp
  // plus the window, so the window starts at 2 × stamp − expires_at.
  const kept = sql`array(select h from unnest(t.hits) h where h > 2 * excluded.hits[1] - excluded.expires_at order by h)`;
  const { rows } = await sql<Row>`
    with attempt as (
      select floor(extract(epoch from clock_timestamp()) * 1000)::bigint * 1000 + floor(random() * 1000)::bigint as now_us
    )
    insert into throttle as t (key, hits, expires_at)
    select w.key, array[a.now_us], a.now_us + w.window_us
    from attempt a, (values ${rowsIn}) as w(key, window_us, n)
    order by w.n
    on conflict (key) do update set
      hits = ${kept} || case when cardinality(${kept}) < ${limit} then excluded.hits else '{}'::bigint[] end,
      expires_at = greatest(t.expires_at, excluded.expires_at)
    returning t.key, t.hits[cardinality(t.hits)] = (select now_us from attempt) as granted,
      (select now_us from attempt) as stamp, t.hits
  `.execute(db);
  const stamp = Number(rows[0]!.stamp);
  const budgetOf = (key: Buffer | Uint8Array) => wanted.find((w) => Buffer.compare(w.key, key) === 0)!;
  const refused = rows.filter((r) => !r.granted);
  if (refused.length === 0) return { granted: true, stamp, keys: wanted.map((w) => w.key) };
  const granted = rows.filter((r) => r.granted).map((r) => Buffer.from(r.key));
  if (granted.length > 0) await releaseThrottle(db, granted, stamp);
  // A refusing budget has room again once its oldest (count − limit + 1) stamps leave the window.
  const waits = refused.map((r) => {
    const { limit: max, windowUs } = budgetOf(r.key);
    const hits = r.hits.map(Number).sort((x, y) => x - y);
    const freeing = hits[Math.max(0, hits.length - max)] ?? stamp;
    return freeing + windowUs - stamp;
  });
  return {
    granted: false,
    retryAfterMs: Math.max(0, Math.ceil(Math.max(...waits) / 1000)),
    refused: refused.map((r) => budgetOf(r.key).kind),
  };
}

/**
 * Gives an attempt back: removes one occurrence of `stamp` from each key's row. An upsert
 * (an absent row comes back empty and is purged) so rows lock in the same order as in
 * takeThrottle.
 */
export async function releaseThrottle(db: Kysely<Database>, keys: Buffer[], stamp: number): Promise<void> {
  const sorted = [...keys].sort(Buffer.compare);
  const values = sql.join(sorted.map((key, n) => sql`(${key}::bytea, ${n}::int)`));
  const at = sql`array_position(t.hits, ${stamp}::bigint)`;
  await sql`
    with wanted(key, n) as (values ${values})
    insert into throttle as t (key, hits, expires_at)
    select key, '{}'::bigint[], 0 from wanted order by n
    on conflict (key) do update set
      hits = case when ${at} is null then t.hits else t.hits[:${at} - 1] || t.hits[${at} + 1:] end
  `.execute(db);
}

/** Deletes the rows whose window has passed (database clock); returns how many. */
export async function purgeThrottle(db: Kysely<Database>): Promise<number> {
  const result = await sql`
    delete from throttle where expires_at < floor(extract(epoch from clock_timestamp()) * 1000000)::bigint
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
