// Access tokens: issued at login, sealed at rest, killed by logout, user disable,
// password reset and consumer revocation.
import type { Kysely, Transaction } from "kysely";
import type { Keyring } from "../crypto.js";
import { randomToken } from "../crypto.js";
import type { AccessToken, Database } from "../db/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

const tokenContext = (token: string) => `token:${token}`;

export interface IssuedToken {
  token: string;
  secret: string;
  expires_at: Date;
}

export async function issueToken(
  db: Db,
  keyring: Keyring,
  input: { userId: string; consumerKey: string; ttlSeconds: number },
): Promise<IssuedToken> {
  const token = randomToken(24);
  const secret = randomToken(32);
  const expires_at = new Date(Date.now() + input.ttlSeconds * 1000);
  await db
    .insertInto("access_tokens")
    .values({
      token,
      secret_sealed: keyring.seal(secret, tokenContext(token)),
      user_id: input.userId,
      consumer_key: input.consumerKey,
      expires_at,
    })
    .execute();
  return { token, secret, expires_at };
}

/**
 * A token with what verifying it needs: its user (name, status) and its consumer's status,
 * in one query (the data pods' credential lookup on a cache miss).
 */
export function findTokenForVerification(db: Db, token: string) {
  return db
    .selectFrom("access_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .innerJoin("consumers as c", "c.key", "t.consumer_key")
    .select([
      "t.token",
      "t.secret_sealed",
      "t.user_id",
      "t.consumer_key",
      "t.created_at",
      "t.expires_at",
      "t.revoked_at",
      "u.username",
      "u.display_name",
      "u.status as user_status",
      "c.status as consumer_status",
    ])
    .where("t.token", "=", token)
    .executeTakeFirst();
}

export function findToken(db: Db, token: string): Promise<AccessToken | undefined> {
  return db.selectFrom("access_tokens").selectAll().where("token", "=", token).executeTakeFirst();
}

export function openTokenSecret(keyring: Keyring, row: AccessToken): string {
  return keyring.open(row.secret_sealed, tokenContext(row.token));
}

/** Revokes every live token whose `column` equals `value`; returns how many. */
async function revokeWhere(
  db: Db,
  column: "token" | "user_id" | "consumer_key",
  value: string,
): Promise<number> {
  const result = await db
    .updateTable("access_tokens")
    .set({ revoked_at: new Date() })
    .where(column, "=", value)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeToken(db: Db, token: string): Promise<boolean> {
  return (await revokeWhere(db, "token", token)) > 0;
}

/** Revokes every live token of a user; returns how many. */
export function revokeUserTokens(db: Db, userId: string): Promise<number> {
  return revokeWhere(db, "user_id", userId);
}

/** Revokes every live token issued through a consumer; returns how many. */
export function revokeConsumerTokens(db: Db, consumerKey: string): Promise<number> {
  return revokeWhere(db, "consumer_key", consumerKey);
}
