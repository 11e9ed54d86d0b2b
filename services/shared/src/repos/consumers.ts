// Consumers (calling services): created with a CSPRNG key and secret sealed at rest,
// rotated with a grace period (two valid secrets), revoked without being deleted, expiring
// at expires_at (the database's clock), with the last use of each secret as the data pods
// report it (docs/design.md, "Credential lifecycle").
import { createHash } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import type { Keyring } from "../crypto.js";
import { randomToken } from "../crypto.js";
import type { Consumer, Database } from "../db/schema.js";
import { isUniqueViolation } from "./users.js";
import { ApiError } from "../http/errors.js";

type Db = Kysely<Database> | Transaction<Database>;

export const consumerContext = (key: string) => `consumer:${key}`;

/** A secret's last use: when (to the second, the reporting pod's clock corrected to the database's) and where. */
export interface LastUsed {
  at: string;
  pod: string;
}

export interface ConsumerView {
  key: string;
  name: string;
  scopes: string[];
  status: Consumer["status"];
  created_at: string;
  revoked_at: string | null;
  expires_at: string | null;
  /** The latest use of any of its secrets. */
  last_used: LastUsed | null;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/**
 * A secret's public id: derived from its sealed value (random IV, so every seal differs),
 * never from the secret; the data pods and the registry compute the same id.
 */
export const secretId = (sealed: string) =>
  `sec_${createHash("sha256").update(sealed).digest("hex").slice(0, 16)}`;

export type UsageBySecret = Map<string, LastUsed>;

export const consumerView = (c: Consumer, usage: UsageBySecret = new Map()): ConsumerView => {
  let last: LastUsed | null = null;
  for (const used of usage.values()) if (!last || used.at > last.at) last = used;
  return {
    key: c.key,
    name: c.name,
    scopes: c.scopes,
    status: c.status,
    created_at: c.created_at.toISOString(),
    revoked_at: iso(c.revoked_at),
    expires_at: iso(c.expires_at),
    last_used: last,
  };
};

export interface SecretView {
  id: string;
  created_at: string;
  /** When a rotation's grace ends for the old secret; null for the current one. */
  ends_at: string | null;
  /** Set while the old secret's rotation ends once it has been unused this long. */
  finish_when_quiet_seconds: number | null;
  last_used: LastUsed | null;
}

/** The live secrets: the current one, and the previous one during its grace (the database's clock `now`). */
export function secretViews(c: Consumer, usage: UsageBySecret, now: Date): SecretView[] {
  const current = secretId(c.secret_sealed);
  const views: SecretView[] = [
    {
      id: current,
      created_at: (c.secret_created_at ?? c.created_at).toISOString(),
      ends_at: null,
      finish_when_quiet_seconds: null,
      last_used: usage.get(current) ?? null,
    },
  ];
  if (c.previous_secret_sealed && c.previous_secret_expires_at && c.previous_secret_expires_at > now) {
    const previous = secretId(c.previous_secret_sealed);
    views.push({
      id: previous,
      created_at: (c.previous_secret_created_at ?? c.created_at).toISOString(),
      ends_at: c.previous_secret_expires_at.toISOString(),
      finish_when_quiet_seconds: c.previous_secret_quiet_seconds,
      last_used: usage.get(previous) ?? null,
    });
  }
  return views;
}

export async function createConsumer(
  db: Db,
  keyring: Keyring,
  /** `scopes`: what it is granted; `["*"]` everything, `[]` nothing (docs/api.md, "Scopes"). */
  input: { name: string; scopes: string[]; key?: string; secret?: string; expires_at?: Date | null },
): Promise<{ consumer: Consumer; secret: string }> {
  const key = input.key ?? `ck_${randomToken(18)}`;
  const secret = input.secret ?? randomToken(32);
  try {
    const consumer = await db
      .insertInto("consumers")
      .values({
        key,
        name: input.name,
        scopes: input.scopes,
        secret_sealed: keyring.seal(secret, consumerContext(key)),
        // secret_created_at stays null: the first secret is as old as the consumer
        ...(input.expires_at ? { expires_at: input.expires_at } : {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { consumer, secret };
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ApiError(409, "conflict", "a consumer with that key or name exists");
    throw error;
  }
}

/** Replaces what a consumer is granted (`["*"]` everything, `[]` nothing). */
export function setConsumerScopes(db: Db, key: string, scopes: string[]): Promise<Consumer | undefined> {
  return updateConsumer(db, key, { scopes });
}

/** Changes scopes and/or expiry (`expires_at: null` clears it); undefined fields stay. */
export function updateConsumer(
  db: Db,
  key: string,
  change: { scopes?: string[]; expires_at?: Date | null },
): Promise<Consumer | undefined> {
  return db
    .updateTable("consumers")
    .set({
      ...(change.scopes !== undefined ? { scopes: change.scopes } : {}),
      ...(change.expires_at !== undefined ? { expires_at: change.expires_at } : {}),
    })
    .where("key", "=", key)
    .returningAll()
    .executeTakeFirst();
}

/** The database's clock. */
export async function databaseNow(db: Db): Promise<Date> {
  const row = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
  return row.rows[0]!.now;
}

/**
 * A consumer as a data pod verifies it, with the database's clock at the read (the pod
 * compares expiry and grace ends on that clock, never on its own).
 */
export function findConsumerForVerification(db: Db, key: string) {
  return db
    .selectFrom("consumers")
    .selectAll()
    .select(sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8`.as("db_now_ms"))
    .where("key", "=", key)
    .executeTakeFirst();
}

export function findConsumer(db: Db, key: string): Promise<Consumer | undefined> {
  return db.selectFrom("consumers").selectAll().where("key", "=", key).executeTakeFirst();
}

/** The consumer's row, locked until the transaction ends (revoke and rotate read, then change it). */
export function lockConsumer(trx: Transaction<Database>, key: string): Promise<Consumer | undefined> {
  return trx.selectFrom("consumers").selectAll().where("key", "=", key).forUpdate().executeTakeFirst();
}

/** Every consumer; with `expiringWithinSeconds`, the active ones whose expiry falls between now and then. */
export function listConsumers(db: Db, options: { expiringWithinSeconds?: number } = {}): Promise<Consumer[]> {
  let query = db.selectFrom("consumers").selectAll().orderBy("created_at");
  const within = options.expiringWithinSeconds;
  if (within !== undefined) {
    query = query
      .where("status", "=", "active")
      .where("expires_at", ">", sql<Date>`now()`)
      .where("expires_at", "<=", sql<Date>`now() + (${within}::bigint * interval '1 second')`);
  }
  return query.execute();
}

/** The last use of each secret of the given consumers, by consumer key then secret id. */
export async function consumerUsage(db: Db, keys: string[]): Promise<Map<string, UsageBySecret>> {
  const usage = new Map<string, UsageBySecret>();
  if (keys.length === 0) return usage;
  const rows = await db.selectFrom("consumer_usage").selectAll().where("consumer_key", "in", keys).execute();
  for (const row of rows) {
    let bySecret = usage.get(row.consumer_key);
    if (!bySecret) usage.set(row.consumer_key, (bySecret = new Map()));
    bySecret.set(row.secret_id, { at: row.at.toISOString(), pod: row.pod });
  }
  return usage;
}

/**
 * How often a data pod writes the last uses it saw (services/data/src/last-used.ts): a
 * last_used time lags the real last use by at most this, plus the truncation to the second.
 */
export const LAST_USED_FLUSH_MS = 5_000;

export interface UsageReport {
  consumer_key: string;
  secret_id: string;
  /** The use, on the database's clock (the pod corrects its own), truncated to the second. */
  at: Date;
  pod: string;
}

/** A data pod's batch of last uses, one statement; a row only ever moves forward in time. */
export async function recordUsage(db: Db, reports: UsageReport[]): Promise<void> {
  if (reports.length === 0) return;
  await db
    .insertInto("consumer_usage")
    .values(reports)
    .onConflict((oc) =>
      oc
        .columns(["consumer_key", "secret_id"])
        .doUpdateSet({ at: sql`excluded.at`, pod: sql`excluded.pod` })
        .where("consumer_usage.at", "<", sql<Date>`excluded.at`),
    )
    .execute();
}

/** Consumers in the middle of a rotation (an old secret still sealed), for the registry's lifecycle timer. */
export function rotatingConsumers(db: Db): Promise<Consumer[]> {
  return db
    .selectFrom("consumers")
    .selectAll()
    .where("previous_secret_sealed", "is not", null)
    .where("status", "=", "active")
    .execute();
}

/** The same consumer locked for a change, or undefined when another transaction holds it (skip locked). */
export function lockConsumerIfFree(trx: Transaction<Database>, key: string): Promise<Consumer | undefined> {
  return trx
    .selectFrom("consumers")
    .selectAll()
    .where("key", "=", key)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
}

/** Ends a rotation's grace now: the old secret is dropped. */
export async function finishRotation(db: Db, key: string): Promise<void> {
  await db
    .updateTable("consumers")
    .set({
      previous_secret_sealed: null,
      previous_secret_expires_at: null,
      previous_secret_created_at: null,
      previous_secret_quiet_seconds: null,
    })
    .where("key", "=", key)
    .execute();
}

export type ConsumerState = "active" | "rotating" | "expired" | "revoked";

/** How many consumers are in each state, on the database's clock (metrics). */
export async function countConsumersByState(db: Db): Promise<Record<ConsumerState, number>> {
  const rows = await db
    .selectFrom("consumers")
    .select([
      sql<ConsumerState>`case when status = 'revoked' then 'revoked'
        when expires_at <= now() then 'expired'
        when previous_secret_sealed is not null and previous_secret_expires_at > now() then 'rotating'
        else 'active' end`.as("state"),
      sql<string>`count(*)`.as("count"),
    ])
    .groupBy("state")
    .execute();
  const counts: Record<ConsumerState, number> = { active: 0, rotating: 0, expired: 0, revoked: 0 };
  for (const row of rows) counts[row.state] = Number(row.count);
  return counts;
}

/** Seconds since each active consumer's last use (any secret), on the database's clock (metrics). */
export async function secondsSinceLastUse(db: Db): Promise<{ key: string; name: string; seconds: number }[]> {
  const rows = await db
    .selectFrom("consumers as c")
    .innerJoin("consumer_usage as u", "u.consumer_key", "c.key")
    .select(["c.key", "c.name", sql<number>`extract(epoch from (now() - max(u.at)))::float8`.as("seconds")])
    .where("c.status", "=", "active")
    .groupBy(["c.key", "c.name"])
    .execute();
  return rows.map((r) => ({ key: r.key, name: r.name, seconds: Math.max(0, Number(r.seconds)) }));
}

/** The secrets that verify right now, with their ids: the current one, and the previous one during its grace period. */
export function liveSecrets(
  keyring: Keyring,
  c: Consumer,
  now = Date.now(),
): { id: string; secret: string }[] {
  const secrets = [
    { id: secretId(c.secret_sealed), secret: keyring.open(c.secret_sealed, consumerContext(c.key)) },
  ];
  if (
    c.previous_secret_sealed &&
    c.previous_secret_expires_at &&
    c.previous_secret_expires_at.getTime() > now
  ) {
    secrets.push({
      id: secretId(c.previous_secret_sealed),
      secret: keyring.open(c.previous_secret_sealed, consumerContext(c.key)),
    });
  }
  return secrets;
}

/** The secrets that verify right now: the current one, and the previous one during its grace period. */
export function consumerSecrets(keyring: Keyring, c: Consumer, now = Date.now()): string[] {
  return liveSecrets(keyring, c, now).map((s) => s.secret);
}

/** Earliest moment the set of valid secrets changes on its own (a grace period ending). */
export function secretsValidUntil(c: Consumer, now = Date.now()): number {
  const end = c.previous_secret_expires_at?.getTime();
  return end && end > now ? end : Number.POSITIVE_INFINITY;
}

/**
 * A new secret (`secret`, else a fresh random one); the old one keeps verifying for
 * `graceSeconds` (0: replaced outright, as a bootstrap secret changed in the environment is),
 * or less: until it has been unused for `quietSeconds` (the registry's lifecycle timer ends
 * it). Times on the database's clock.
 */
export async function rotateConsumer(
  db: Db,
  keyring: Keyring,
  key: string,
  graceSeconds: number,
  secret = randomToken(32),
  quietSeconds: number | null = null,
): Promise<{ consumer: Consumer; secret: string } | undefined> {
  const current = await findConsumer(db, key);
  if (!current) return undefined;
  const grace = graceSeconds > 0;
  const consumer = await db
    .updateTable("consumers")
    .set({
      secret_sealed: keyring.seal(secret, consumerContext(key)),
      secret_created_at: sql<Date>`now()`,
      previous_secret_sealed: grace ? current.secret_sealed : null,
      previous_secret_expires_at: grace
        ? sql<Date>`now() + (${graceSeconds}::int * interval '1 second')`
        : null,
      previous_secret_created_at: grace ? (current.secret_created_at ?? current.created_at) : null,
      previous_secret_quiet_seconds: grace ? quietSeconds : null,
    })
    .where("key", "=", key)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { consumer, secret };
}

export function revokeConsumer(
  db: Db,
  key: string,
  reason: string,
  at = new Date(),
): Promise<Consumer | undefined> {
  return db
    .updateTable("consumers")
    .set({ status: "revoked", revoked_at: at, revoke_reason: reason })
    .where("key", "=", key)
    .returningAll()
    .executeTakeFirst();
}
