// What the admin API does to users. Disabling a user and setting a new password kill the
// user's tokens on every data pod: route → operation → repos (inside the announcer's
// transaction, with the audit row) → announcer → bus (docs/design.md, "One announcement
// path"); the operations hold no SQL of their own.
import type { Kysely, Transaction } from "kysely";
import type { Announcer } from "@signet/shared/announce";
import { SUBJECTS } from "@signet/shared/bus";
import type { Database, User } from "@signet/shared/db";
import type { UserDisabledEvent } from "@signet/shared/events";
import { notFound } from "@signet/shared/http";
import {
  createUser,
  disableUser,
  enableUser,
  findUserByUsername,
  recordAudit,
  revokeUserTokens,
  setPassword,
} from "@signet/shared/repos";

/** Creates a user with the user.create audit row, in one transaction. */
export function addUser(
  db: Kysely<Database>,
  input: { username: string; password: string; display_name: string; actor: string },
): Promise<User> {
  const { actor, ...user } = input;
  return db.transaction().execute(async (trx) => {
    const created = await createUser(trx, user);
    await recordAudit(trx, {
      actor,
      action: "user.create",
      target: created.username,
      details: { user_id: created.id },
    });
    return created;
  });
}

interface UserChangeResult {
  id: string;
  username: string;
  status: "active" | "disabled";
  tokens_revoked: number;
  confirmed_pods: number;
}

/** Disables a user and kills every token of theirs, announced as signet.user.disabled. */
export function disableUserEverywhere(
  announcer: Announcer,
  input: { username: string; actor: string },
): Promise<UserChangeResult> {
  return announceUserTokensKilled(announcer, "user.disable", input.actor, (trx) =>
    disableUser(trx, input.username),
  );
}

/**
 * Sets a new password and kills every token of the user's; announced as
 * signet.user.disabled (the event that makes pods forget a user's cached tokens).
 */
export async function resetPasswordEverywhere(
  announcer: Announcer,
  input: { username: string; password: string; actor: string },
): Promise<UserChangeResult> {
  // Look the user up first so an unknown name does not cost an argon2 hash inside a transaction.
  if (!(await findUserByUsername(announcer.db, input.username))) throw notFound("user");
  return announceUserTokensKilled(announcer, "user.password", input.actor, (trx) =>
    setPassword(trx, input.username, input.password),
  );
}

/**
 * One transaction: `change` (disable, new password), every token of the user revoked, the
 * audit row; announced as signet.user.disabled, the event that makes pods forget the
 * user's cached tokens.
 */
async function announceUserTokensKilled(
  announcer: Announcer,
  action: "user.disable" | "user.password",
  actor: string,
  change: (trx: Transaction<Database>) => Promise<User | undefined>,
): Promise<UserChangeResult> {
  const kind = action === "user.disable" ? "user_disable" : "user_password";
  const { result, confirmedPods } = await announcer.commitAndAnnounce(
    SUBJECTS.userDisabled,
    async (trx) => {
      const user = await change(trx);
      if (!user) throw notFound("user");
      const tokensRevoked = await revokeUserTokens(trx, user.id);
      await recordAudit(trx, {
        actor,
        action,
        target: user.username,
        details: { user_id: user.id, tokens_revoked: tokensRevoked },
      });
      const payload: UserDisabledEvent = { user_id: user.id, at: new Date().toISOString(), actor };
      return {
        payload: { ...payload },
        result: { id: user.id, username: user.username, status: user.status, tokens_revoked: tokensRevoked },
      };
    },
    { kind },
  );
  return { ...result, confirmed_pods: confirmedPods };
}

/**
 * Lets a disabled user log in again, with the user.enable audit row. Nothing is announced:
 * the tokens the disable killed stay revoked, and a new login reads the user anew.
 */
export function enableUserAgain(
  db: Kysely<Database>,
  input: { username: string; actor: string },
): Promise<User> {
  return db.transaction().execute(async (trx) => {
    const user = await enableUser(trx, input.username);
    if (!user) throw notFound("user");
    await recordAudit(trx, {
      actor: input.actor,
      action: "user.enable",
      target: user.username,
      details: { user_id: user.id },
    });
    return user;
  });
}
