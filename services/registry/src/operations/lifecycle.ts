// The credential lifecycle (docs/design.md, "Credential lifecycle"): changing a consumer's
// scopes or expiry, ending a rotation's grace (by hand, or by the lifecycle timer once the
// old secret went quiet or its grace ran out), killing a consumer's or a user's tokens, and
// the emergency not-before. Each is one transaction (repos, audit row, outbox row), then the
// confirmed announcement; the audit row then gets how many pods confirmed. No SQL here.
import type { Transaction } from "kysely";
import type { Announcer } from "@signet/shared/announce";
import { SUBJECTS } from "@signet/shared/bus";
import type { Consumer, Database } from "@signet/shared/db";
import type { ConsumerUpdatedEvent, TokensNotBeforeEvent, UserDisabledEvent } from "@signet/shared/events";
import { ApiError, notFound } from "@signet/shared/http";
import {
  addAuditDetails,
  consumerView,
  databaseNow,
  finishRotation,
  findConsumer,
  findUserByUsername,
  lockConsumer,
  lockConsumerIfFree,
  recordAudit,
  revokeConsumerTokens,
  revokeUserTokens,
  setNotBefore,
  updateConsumer,
  type ConsumerView,
} from "@signet/shared/repos";

type Subject = (typeof SUBJECTS)[keyof typeof SUBJECTS];

/**
 * commitAndAnnounce, with the audit row the change wrote (`auditId`) completed afterwards
 * with `confirmed_pods`: the audit log says how many pods confirmed each announcement.
 */
async function announceAudited<R>(
  announcer: Announcer,
  subject: Subject,
  kind: string,
  change: (trx: Transaction<Database>) => Promise<{ payload: object; result: R; auditId: string }>,
): Promise<{ result: R; confirmedPods: number }> {
  const { result, confirmedPods } = await announcer.commitAndAnnounce(
    subject,
    async (trx) => {
      const done = await change(trx);
      return { payload: { ...done.payload }, result: { value: done.result, auditId: done.auditId } };
    },
    { kind },
  );
  await addAuditDetails(announcer.db, result.auditId, { confirmed_pods: confirmedPods }).catch(
    () => undefined,
  );
  return { result: result.value, confirmedPods };
}

const consumerEvent = (key: string, actor: string, change: string): ConsumerUpdatedEvent => ({
  key,
  at: new Date().toISOString(),
  actor,
  change,
});

/** The consumer, locked: 404 when absent, 409 when revoked. */
async function lockActive(trx: Transaction<Database>, key: string, doing: string): Promise<Consumer> {
  const current = await lockConsumer(trx, key);
  if (!current) throw notFound("consumer");
  if (current.status === "revoked")
    throw new ApiError(409, "conflict", `a revoked consumer cannot be ${doing}`);
  return current;
}

const sameScopes = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((s) => b.includes(s));

/**
 * A narrowing (some scope removed, or `*` replaced): the one kind of scope change that must
 * be in force on every pod before the answer. Widening is announced the same way.
 */
const narrows = (before: readonly string[], after: readonly string[]) =>
  before.some((s) => !after.includes(s)) && !after.includes("*");

/**
 * PATCH /consumers/:key: new scopes and/or expiry, announced as signet.consumer.updated and
 * confirmed before the answer (a narrowing is a revocation too).
 */
export async function updateConsumerEverywhere(
  announcer: Announcer,
  input: { key: string; scopes?: string[]; expires_at?: Date | null; actor: string },
): Promise<ConsumerView & { confirmed_pods: number }> {
  // the kind (metrics) from the row as it is now; the change itself reads it locked
  const before = await findConsumer(announcer.db, input.key);
  const kind =
    before && input.scopes !== undefined && narrows(before.scopes, input.scopes) ? "narrow_scopes" : "update";
  const { result, confirmedPods } = await announceAudited(
    announcer,
    SUBJECTS.consumerUpdated,
    kind,
    async (trx) => {
      const current = await lockActive(trx, input.key, "updated");
      const updated = await updateConsumer(trx, input.key, {
        ...(input.scopes !== undefined ? { scopes: input.scopes } : {}),
        ...(input.expires_at !== undefined ? { expires_at: input.expires_at } : {}),
      });
      if (!updated) throw notFound("consumer");
      const details: Record<string, unknown> = {};
      if (input.scopes !== undefined && !sameScopes(current.scopes, updated.scopes)) {
        Object.assign(details, {
          scopes: updated.scopes,
          previous_scopes: current.scopes,
          narrowed: narrows(current.scopes, updated.scopes),
        });
      }
      if (input.expires_at !== undefined) {
        Object.assign(details, {
          expires_at: updated.expires_at?.toISOString() ?? null,
          previous_expires_at: current.expires_at?.toISOString() ?? null,
        });
      }
      const auditId = await recordAudit(trx, {
        actor: input.actor,
        action: "consumer.update",
        target: input.key,
        details,
      });
      const change = details.narrowed ? "scopes_narrowed" : "updated";
      return { payload: consumerEvent(input.key, input.actor, change), result: updated, auditId };
    },
  );
  return { ...consumerView(result), confirmed_pods: confirmedPods };
}

/** Thrown inside the lifecycle timer's transaction when the rotation is no longer due: nothing happens. */
class NotDue extends Error {}

/**
 * Ends a rotation's grace: the old secret is dropped and every pod forgets the consumer
 * (signet.consumer.updated, confirmed). By hand (POST /consumers/:key/rotate/finish; a
 * consumer with no rotation in progress is announced again, harmlessly), or by the lifecycle
 * timer (`due`: decided again on the locked row, so of several registry replicas exactly one
 * finishes it; undefined when it was not due or another replica holds it).
 */
export async function finishRotationEverywhere(
  announcer: Announcer,
  input: {
    key: string;
    actor: string;
    /** The timer's decision, re-checked on the locked row: why the grace ends (quiet, grace_over), or null. */
    due?: (locked: Consumer, now: Date) => string | null;
  },
): Promise<{ key: string; confirmed_pods: number } | undefined> {
  try {
    const { confirmedPods } = await announceAudited(
      announcer,
      SUBJECTS.consumerUpdated,
      input.due ? "rotate_finish_auto" : "rotate_finish",
      async (trx) => {
        let reason = "by_hand";
        if (input.due) {
          const locked = await lockConsumerIfFree(trx, input.key);
          const why =
            locked && locked.previous_secret_sealed ? input.due(locked, await databaseNow(trx)) : null;
          if (!why) throw new NotDue();
          reason = why;
        } else {
          await lockActive(trx, input.key, "rotated");
        }
        await finishRotation(trx, input.key);
        const auditId = await recordAudit(trx, {
          actor: input.actor,
          action: "consumer.rotate_finish",
          target: input.key,
          details: { reason },
        });
        return {
          payload: consumerEvent(input.key, input.actor, "rotation_finished"),
          result: undefined,
          auditId,
        };
      },
    );
    return { key: input.key, confirmed_pods: confirmedPods };
  } catch (error) {
    if (error instanceof NotDue) return undefined;
    throw error;
  }
}

/** Every token issued through the consumer revoked; the consumer stays active. */
export async function revokeConsumerTokensEverywhere(
  announcer: Announcer,
  input: { key: string; reason?: string; actor: string },
): Promise<{ key: string; revoked_tokens: number; confirmed_pods: number }> {
  const { result, confirmedPods } = await announceAudited(
    announcer,
    SUBJECTS.consumerUpdated,
    "consumer_tokens_revoke",
    async (trx) => {
      await lockActive(trx, input.key, "changed");
      const revoked = await revokeConsumerTokens(trx, input.key);
      const auditId = await recordAudit(trx, {
        actor: input.actor,
        action: "consumer.tokens_revoke",
        target: input.key,
        details: { tokens_revoked: revoked, ...(input.reason ? { reason: input.reason } : {}) },
      });
      return { payload: consumerEvent(input.key, input.actor, "tokens_revoked"), result: revoked, auditId };
    },
  );
  return { key: input.key, revoked_tokens: result, confirmed_pods: confirmedPods };
}

/** Signs a user out everywhere: every token of theirs revoked, announced as signet.user.disabled. */
export async function revokeUserTokensEverywhere(
  announcer: Announcer,
  input: { username: string; actor: string },
): Promise<{ username: string; revoked_tokens: number; confirmed_pods: number }> {
  const { result, confirmedPods } = await announceAudited(
    announcer,
    SUBJECTS.userDisabled,
    "user_tokens_revoke",
    async (trx) => {
      const user = await findUserByUsername(trx, input.username);
      if (!user) throw notFound("user");
      const revoked = await revokeUserTokens(trx, user.id);
      const auditId = await recordAudit(trx, {
        actor: input.actor,
        action: "user.tokens_revoke",
        target: user.username,
        details: { user_id: user.id, tokens_revoked: revoked },
      });
      const payload: UserDisabledEvent = {
        user_id: user.id,
        at: new Date().toISOString(),
        actor: input.actor,
      };
      return { payload, result: { username: user.username, revoked }, auditId };
    },
  );
  return { username: result.username, revoked_tokens: result.revoked, confirmed_pods: confirmedPods };
}

/**
 * The emergency not-before: every token created before `issuedBefore` (the database's
 * `now()` when absent; never in the future) is refused on every pod; consumers untouched.
 */
export async function revokeAllEverywhere(
  announcer: Announcer,
  input: { issuedBefore?: Date; reason: string; actor: string },
): Promise<{ issued_before: string; confirmed_pods: number }> {
  const { result, confirmedPods } = await announceAudited(
    announcer,
    SUBJECTS.tokensNotBefore,
    "revoke_all",
    async (trx) => {
      if (input.issuedBefore && input.issuedBefore > (await databaseNow(trx))) {
        throw new ApiError(400, "invalid_input", "issued_before is in the future");
      }
      const inForce = await setNotBefore(trx, {
        ...(input.issuedBefore ? { issuedBefore: input.issuedBefore } : {}),
        actor: input.actor,
        reason: input.reason,
      });
      const auditId = await recordAudit(trx, {
        actor: input.actor,
        action: "tokens.revoke_all",
        target: "*",
        details: {
          issued_before: inForce.toISOString(),
          requested: input.issuedBefore?.toISOString() ?? "now",
          reason: input.reason,
        },
      });
      const payload: TokensNotBeforeEvent = {
        issued_before: inForce.toISOString(),
        at: new Date().toISOString(),
        actor: input.actor,
      };
      return { payload, result: inForce.toISOString(), auditId };
    },
  );
  return { issued_before: result, confirmed_pods: confirmedPods };
}
