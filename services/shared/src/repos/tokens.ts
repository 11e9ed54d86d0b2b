// Access tokens: issued at login, sealed at rest, killed by logout, user disable,
// password reset and consumer revocation.
import { sql, type Kysely, type Transaction } from "kysely";
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
 * A token with what verifying it needs: its user (name, status), its consumer's status and
 * expiry, and whether the emergency not-before (POST /revoke-all) covers it, in one query
 * (the data pods' credential lookup on a cache miss). Times compared on the database's clock.
 */
export function findTokenForVerification(db: Db, token: string) {
  return db
    .selectFrom("access_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .innerJoin("consumers as c", "c.key", "t.consumer_key")
    .leftJoin("token_not_before as nb", (join) => join.onTrue())
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
      "nb.issued_before as not_before",
      sql<boolean>`coalesce(c.expires_at <= clock_timestamp(), false)`.as("consumer_expired"),
      sql<boolean>`coalesce(t.created_at < nb.issued_before, false)`.as("before_not_before"),
    ])
    .where("t.token", "=", token)
    .executeTakeFirst();
}

/**
 * Moves the not-before forward to `issuedBefore` (the database's `now()` when absent), never
 * back; returns the instant in force afterwards. `now()` is cut to the millisecond: the
 * instant is answered, announced and held by the pods as a JavaScript Date, so the one the
 * database compares tokens with must be exactly that one (with microseconds kept, a token
 * created in the cut-off fraction was refused though answered as issued after it).
 */
export async function setNotBefore(
  db: Db,
  input: { issuedBefore?: Date; actor: string; reason: string },
): Promise<Date> {
  const row = await db
    .insertInto("token_not_before")
    .values({
      id: 1,
      issued_before: input.issuedBefore ?? sql<Date>`date_trunc('milliseconds', now())`,
      actor: input.actor,
      reason: input.reason,
    })
    .onConflict((oc) =>
      oc.column("id").doUpdateSet({
        issued_before: sql<Date>`greatest(token_not_before.issued_before, excluded.issued_before)`,
        at: sql<Date>`clock_timestamp()`,
        actor: sql<string>`excluded.actor`,
        reason: sql<string>`excluded.reason`,
      }),
    )
    .returning("issued_before")
    .executeTakeFirstOrThrow();
  return row.issued_before;
}

export function findToken(db: Db, token: string): Promise<AccessToken | undefined> {
  return db.selectFrom("access_tokens").selectAll().where("token", "=", token).executeTakeFirst();
}

export function openTokenSecret(keyring: Keyring, row: AccessToken): string {
  return keyring.open(row.secret_sealed, tokenContext(row.token));
}

/** The update that revokes every live token whose `column` equals `value` (but `except`). */
function revokeQuery(db: Db, column: "token" | "user_id" | "consumer_key", value: string, except?: string) {
  const query = db
    .updateTable("access_tokens")
    .set({ revoked_at: new Date() })
    .where(column, "=", value)
    .where("revoked_at", "is", null);
  return except === undefined ? query : query.where("token", "<>", except);
}

/** How many tokens a revokeQuery revoked. */
async function revokedCount(query: ReturnType<typeof revokeQuery>): Promise<number> {
  return Number((await query.executeTakeFirst()).numUpdatedRows);
}

export async function revokeToken(db: Db, token: string): Promise<boolean> {
  return (await revokedCount(revokeQuery(db, "token", token))) > 0;
}

export interface RevokeUserTokensOptions {
  /** A token to leave alive (the one asking: a password change keeps its own session). */
  exceptToken?: string;
}

/**
 * Revokes every live token of a user (but `exceptToken`); returns how many, or with
 * `ids: true` the tokens revoked (to announce each: signet.token.revoked names one token).
 */
export function revokeUserTokens(db: Db, userId: string, options?: RevokeUserTokensOptions): Promise<number>;
export function revokeUserTokens(
  db: Db,
  userId: string,
  options: RevokeUserTokensOptions & { ids: true },
): Promise<string[]>;
export async function revokeUserTokens(
  db: Db,
  userId: string,
  options: RevokeUserTokensOptions & { ids?: boolean } = {},
): Promise<number | string[]> {
  const query = revokeQuery(db, "user_id", userId, options.exceptToken);
  // ids only when asked (a count needs no rows back)
  if (options.ids === true) return (await query.returning("token").execute()).map((row) => row.token);
  return revokedCount(query);
}

/** Revokes every live token issued through a consumer; returns how many. */
export function revokeConsumerTokens(db: Db, consumerKey: string): Promise<number> {
  return revokedCount(revokeQuery(db, "consumer_key", consumerKey));
}
