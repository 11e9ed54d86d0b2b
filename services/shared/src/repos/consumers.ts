// Consumers (calling services): created with a CSPRNG key and secret sealed at rest,
// rotated with a grace period (two valid secrets), revoked without being deleted.
import type { Kysely, Transaction } from "kysely";
import type { Keyring } from "../crypto.js";
import { randomToken } from "../crypto.js";
import type { Consumer, Database } from "../db/schema.js";
import { isUniqueViolation } from "./users.js";
import { ApiError } from "../http/errors.js";

type Db = Kysely<Database> | Transaction<Database>;

export const consumerContext = (key: string) => `consumer:${key}`;

export interface ConsumerView {
  key: string;
  name: string;
  scopes: string[];
  status: Consumer["status"];
  created_at: string;
  revoked_at: string | null;
}

export const consumerView = (c: Consumer): ConsumerView => ({
  key: c.key,
  name: c.name,
  scopes: c.scopes,
  status: c.status,
  created_at: c.created_at.toISOString(),
  revoked_at: c.revoked_at ? c.revoked_at.toISOString() : null,
});

export async function createConsumer(
  db: Db,
  keyring: Keyring,
  /** `scopes`: what it is granted; `["*"]` everything, `[]` nothing (docs/api.md, "Scopes"). */
  input: { name: string; scopes: string[]; key?: string; secret?: string },
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
  return db.updateTable("consumers").set({ scopes }).where("key", "=", key).returningAll().executeTakeFirst();
}

export function findConsumer(db: Db, key: string): Promise<Consumer | undefined> {
  return db.selectFrom("consumers").selectAll().where("key", "=", key).executeTakeFirst();
}

/** The consumer's row, locked until the transaction ends (revoke and rotate read, then change it). */
export function lockConsumer(trx: Transaction<Database>, key: string): Promise<Consumer | undefined> {
  return trx.selectFrom("consumers").selectAll().where("key", "=", key).forUpdate().executeTakeFirst();
}

export function listConsumers(db: Db): Promise<Consumer[]> {
  return db.selectFrom("consumers").selectAll().orderBy("created_at").execute();
}

/** The secrets that verify right now: the current one, and the previous one during its grace period. */
export function consumerSecrets(keyring: Keyring, c: Consumer, now = Date.now()): string[] {
  const secrets = [keyring.open(c.secret_sealed, consumerContext(c.key))];
  if (
    c.previous_secret_sealed &&
    c.previous_secret_expires_at &&
    c.previous_secret_expires_at.getTime() > now
  ) {
    secrets.push(keyring.open(c.previous_secret_sealed, consumerContext(c.key)));
  }
  return secrets;
}

/** Earliest moment the set of valid secrets changes on its own (a grace period ending). */
export function secretsValidUntil(c: Consumer, now = Date.now()): number {
  const end = c.previous_secret_expires_at?.getTime();
  return end && end > now ? end : Number.POSITIVE_INFINITY;
}

/**
 * A new secret (`secret`, else a fresh random one); the old one keeps verifying for
 * `graceSeconds` (0: replaced outright, as a bootstrap secret changed in the environment is).
 */
export async function rotateConsumer(
  db: Db,
  keyring: Keyring,
  key: string,
  graceSeconds: number,
  secret = randomToken(32),
): Promise<{ consumer: Consumer; secret: string } | undefined> {
  const current = await findConsumer(db, key);
  if (!current) return undefined;
  const consumer = await db
    .updateTable("consumers")
    .set({
      secret_sealed: keyring.seal(secret, consumerContext(key)),
      previous_secret_sealed: graceSeconds > 0 ? current.secret_sealed : null,
      previous_secret_expires_at: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null,
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
