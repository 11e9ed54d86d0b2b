// The revocation path. Every state change that pods must hear about goes through
// `commitAndAnnounce`:
//   1. one transaction: the state change, its audit event and its outbox row;
//   2. commit;
//   3. publish the event at once and collect the data pods' confirmations for a short,
//      bounded window (`bus.gather`), stopping early when `expected` pods answered;
//   4. mark the outbox row published when at least one pod confirmed.
// If the process dies after 2, or NATS is down, or nobody confirmed, the row stays
// unpublished and the outbox relay (outbox-relay.ts) publishes it later. PostgreSQL is
// the source of truth either way: the answer is only sent after the commit.
import type { Kysely, Transaction } from "kysely";
import type { FastifyBaseLogger } from "fastify";
import {
  ApiError,
  SUBJECTS,
  addOutboxEvent,
  consumerContext,
  disableUser,
  findUserByUsername,
  markPublished,
  notFound,
  recordAudit,
  revokeConsumerTokens,
  revokeUserTokens,
  rotateConsumer,
  setPassword,
  type Bus,
  type ConsumerRevokedEvent,
  type ConsumerRotatedEvent,
  type Database,
  type Keyring,
  type UserDisabledEvent,
} from "@signet/shared";

export interface AnnouncedEvent {
  subject: string;
  payload: Record<string, unknown>;
  outboxId: string;
}

export interface AnnouncerOptions {
  db: Kysely<Database>;
  bus: Bus;
  log: FastifyBaseLogger;
  /** How long to collect confirmations. */
  windowMs: number;
  /** Stop collecting once this many pods confirmed; 0 = wait the whole window. */
  expected: number;
  /**
   * Runs right after the commit, before anything is published. A failure injection point
   * for tests ("the registry dies between commit and publish"): when it throws, nothing is
   * published and the request fails; the outbox row stays for the relay.
   */
  afterCommit?: (event: AnnouncedEvent) => void | Promise<void>;
  /** Observes each announcement (metrics, benchmarks). */
  onAnnounced?: (
    event: AnnouncedEvent & { confirmedPods: number; committedAt: number; gatheredAt: number },
  ) => void;
}

/** A data pod's answer after evicting (EvictionConfirmation in @signet/shared/events). */
export function isConfirmation(reply: unknown, subject: string): boolean {
  if (!reply || typeof reply !== "object") return false;
  const r = reply as { evicted?: unknown; subject?: unknown };
  return r.evicted === true && (r.subject === undefined || r.subject === subject);
}

export class Announcer {
  constructor(readonly options: AnnouncerOptions) {}

  /**
   * Runs `work` in a transaction that also writes the outbox row for the event it returns,
   * commits, then publishes and collects confirmations.
   */
  async commitAndAnnounce<R>(
    subject: string,
    work: (trx: Transaction<Database>) => Promise<{ payload: Record<string, unknown>; result: R }>,
  ): Promise<{ result: R; confirmedPods: number }> {
    const { db, bus, log } = this.options;
    const { result, payload, outboxId } = await db.transaction().execute(async (trx) => {
      const done = await work(trx);
      const id = await addOutboxEvent(trx, subject, done.payload);
      return { ...done, outboxId: id };
    });
    const committedAt = performance.now();
    const event = { subject, payload, outboxId };
    await this.options.afterCommit?.(event);

    let confirmedPods = 0;
    if (bus.isConnected()) {
      try {
        const replies = await bus.gather(subject, payload, {
          windowMs: this.options.windowMs,
          ...(this.options.expected > 0 ? { expected: this.options.expected } : {}),
        });
        confirmedPods = replies.filter((r) => isConfirmation(r, subject)).length;
      } catch (error) {
        log.warn(
          { err: error, subject, outbox_id: outboxId },
          "publishing failed; the outbox relay will retry",
        );
      }
    } else {
      log.warn(
        { subject, outbox_id: outboxId },
        "NATS is not connected; the outbox relay will publish the event",
      );
    }
    const gatheredAt = performance.now();
    // Nobody confirmed: leave the row to the relay, which publishes it again once (harmless
    // for pods that did evict, a second chance for any that did not).
    if (confirmedPods > 0) {
      await markPublished(db, [outboxId]).catch((error: unknown) => {
        log.warn(
          { err: error, outbox_id: outboxId },
          "could not mark the outbox row published; the relay will republish it",
        );
      });
    }
    this.options.onAnnounced?.({ ...event, confirmedPods, committedAt, gatheredAt });
    return { result, confirmedPods };
  }
}

export interface RevokeResult {
  key: string;
  status: "revoked";
  revoked_at: string;
  confirmed_pods: number;
}

/**
 * Revokes a consumer: status revoked, revoked_at, reason, every token issued through it,
 * the audit event and the outbox row in one transaction; then the confirmed announcement.
 * Revoking an already revoked consumer keeps the first revoked_at and reason, and
 * announces again (a way to re-confirm every pod forgot it).
 */
export async function revokeConsumerEverywhere(
  announcer: Announcer,
  input: { key: string; reason: string; actor: string },
): Promise<RevokeResult> {
  const { result, confirmedPods } = await announcer.commitAndAnnounce(
    SUBJECTS.consumerRevoked,
    async (trx) => {
      const current = await trx
        .selectFrom("consumers")
        .selectAll()
        .where("key", "=", input.key)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw notFound("consumer");
      const alreadyRevoked = current.status === "revoked" && current.revoked_at !== null;
      const revokedAt = alreadyRevoked ? current.revoked_at! : new Date();
      if (!alreadyRevoked) {
        await trx
          .updateTable("consumers")
          .set({ status: "revoked", revoked_at: revokedAt, revoke_reason: input.reason })
          .where("key", "=", input.key)
          .execute();
      }
      const tokensRevoked = await revokeConsumerTokens(trx, input.key);
      await recordAudit(trx, {
        actor: input.actor,
        action: "consumer.revoke",
        target: input.key,
        details: {
          reason: input.reason,
          tokens_revoked: tokensRevoked,
          ...(alreadyRevoked ? { already_revoked: true } : {}),
        },
      });
      const payload: ConsumerRevokedEvent = {
        key: input.key,
        at: revokedAt.toISOString(),
        reason: alreadyRevoked ? (current.revoke_reason ?? input.reason) : input.reason,
        actor: input.actor,
      };
      return { payload: { ...payload }, result: revokedAt.toISOString() };
    },
  );
  return { key: input.key, status: "revoked", revoked_at: result, confirmed_pods: confirmedPods };
}

/** Rotates a consumer's secret; the old one keeps verifying for `graceSeconds`. */
export async function rotateConsumerEverywhere(
  announcer: Announcer,
  keyring: Keyring,
  input: { key: string; graceSeconds: number; actor: string },
): Promise<{ key: string; secret: string; confirmed_pods: number }> {
  const { result, confirmedPods } = await announcer.commitAndAnnounce(
    SUBJECTS.consumerRotated,
    async (trx) => {
      const current = await trx
        .selectFrom("consumers")
        .select("status")
        .where("key", "=", input.key)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw notFound("consumer");
      if (current.status === "revoked")
        throw new ApiError(409, "conflict", "a revoked consumer cannot be rotated");
      const rotated = await rotateConsumer(trx, keyring, input.key, input.graceSeconds);
      if (!rotated) throw notFound("consumer");
      await recordAudit(trx, {
        actor: input.actor,
        action: "consumer.rotate",
        target: input.key,
        details: { grace_seconds: input.graceSeconds },
      });
      const payload: ConsumerRotatedEvent = {
        key: input.key,
        at: new Date().toISOString(),
        actor: input.actor,
      };
      return { payload: { ...payload }, result: rotated.secret };
    },
  );
  return { key: input.key, secret: result, confirmed_pods: confirmedPods };
}

/** Replaces a consumer's secret outright (bootstrap credentials changed in the environment). */
export async function replaceConsumerSecret(
  announcer: Announcer,
  keyring: Keyring,
  input: { key: string; secret: string; actor: string },
): Promise<void> {
  await announcer.commitAndAnnounce(SUBJECTS.consumerRotated, async (trx) => {
    await trx
      .updateTable("consumers")
      .set({
        secret_sealed: keyring.seal(input.secret, consumerContext(input.key)),
        previous_secret_sealed: null,
        previous_secret_expires_at: null,
      })
      .where("key", "=", input.key)
      .execute();
    await recordAudit(trx, {
      actor: input.actor,
      action: "consumer.rotate",
      target: input.key,
      details: { bootstrap: true, grace_seconds: 0 },
    });
    const payload: ConsumerRotatedEvent = {
      key: input.key,
      at: new Date().toISOString(),
      actor: input.actor,
    };
    return { payload: { ...payload }, result: undefined };
  });
}

export interface UserChangeResult {
  id: string;
  username: string;
  status: "active" | "disabled";
  tokens_revoked: number;
  confirmed_pods: number;
}

/** Disables a user and kills every token of theirs, announced as signet.user.disabled. */
export async function disableUserEverywhere(
  announcer: Announcer,
  input: { username: string; actor: string },
): Promise<UserChangeResult> {
  const { result, confirmedPods } = await announcer.commitAndAnnounce(SUBJECTS.userDisabled, async (trx) => {
    const user = await disableUser(trx, input.username);
    if (!user) throw notFound("user");
    const tokensRevoked = await revokeUserTokens(trx, user.id);
    await recordAudit(trx, {
      actor: input.actor,
      action: "user.disable",
      target: user.username,
      details: { user_id: user.id, tokens_revoked: tokensRevoked },
    });
    const payload: UserDisabledEvent = { user_id: user.id, at: new Date().toISOString(), actor: input.actor };
    return {
      payload: { ...payload },
      result: { id: user.id, username: user.username, status: user.status, tokens_revoked: tokensRevoked },
    };
  });
  return { ...result, confirmed_pods: confirmedPods };
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
  if (!(await findUserByUsername(announcer.options.db, input.username))) throw notFound("user");
  const { result, confirmedPods } = await announcer.commitAndAnnounce(SUBJECTS.userDisabled, async (trx) => {
    const user = await setPassword(trx, input.username, input.password);
    if (!user) throw notFound("user");
    const tokensRevoked = await revokeUserTokens(trx, user.id);
    await recordAudit(trx, {
      actor: input.actor,
      action: "user.password",
      target: user.username,
      details: { user_id: user.id, tokens_revoked: tokensRevoked },
    });
    const payload: UserDisabledEvent = { user_id: user.id, at: new Date().toISOString(), actor: input.actor };
    return {
      payload: { ...payload },
      result: { id: user.id, username: user.username, status: user.status, tokens_revoked: tokensRevoked },
    };
  });
  return { ...result, confirmed_pods: confirmedPods };
}
