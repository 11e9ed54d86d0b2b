// The revocation path. Every state change that pods must hear about goes through
// `commitAndAnnounce`:
//   1. one transaction: the state change, its audit event and its outbox row;
//   2. commit;
//   3. publish the event at once and collect the data pods' confirmations for a short,
//      bounded window (`bus.gather`), stopping early once every data pod known to be alive
//      (presence.ts) has confirmed — and at least `expected` pods, when that is set;
//      known pods that did not confirm are named in a warning and counted;
//   4. mark the outbox row published when at least one pod confirmed.
// If the process dies after 2, or NATS is down, or nobody confirmed, the row stays
// unpublished and the outbox relay (outbox-relay.ts) publishes it later. PostgreSQL is
// the source of truth either way: the answer is only sent after the commit.
import type { Kysely, Transaction } from "kysely";
import type { FastifyBaseLogger } from "fastify";
import type { PodPresence } from "./presence.js";
import { SUBJECTS, type Bus } from "@signet/shared/bus";
import { type Keyring } from "@signet/shared/crypto";
import { type Database, type User } from "@signet/shared/db";
import {
  type ConsumerRevokedEvent,
  type ConsumerRotatedEvent,
  type UserDisabledEvent,
} from "@signet/shared/events";
import { ApiError, notFound } from "@signet/shared/http";
import {
  addOutboxEvent,
  consumerContext,
  disableUser,
  findUserByUsername,
  markPublished,
  recordAudit,
  revokeConsumerTokens,
  revokeUserTokens,
  rotateConsumer,
  setPassword,
} from "@signet/shared/repos";

export interface AnnouncedEvent {
  subject: string;
  payload: Record<string, unknown>;
  outboxId: string;
}

export interface AnnouncerOptions {
  db: Kysely<Database>;
  bus: Bus;
  log: FastifyBaseLogger;
  /** How long to collect confirmations, at most. */
  windowMs: number;
  /**
   * A floor (SIGNET_CONFIRM_EXPECTED): never stop before this many pods confirmed. 0 = no
   * floor: stop once every known pod confirmed (with no pod known, wait the whole window).
   */
  expected: number;
  /** The data pods known to be alive; without it, only `expected` can end the window early. */
  presence?: Pick<PodPresence, "known">;
  /**
   * Runs right after the commit, before anything is published. A failure injection point
   * for tests ("the registry dies between commit and publish"): when it throws, nothing is
   * published and the request fails; the outbox row stays for the relay.
   */
  afterCommit?: (event: AnnouncedEvent) => void | Promise<void>;
  /** Observes each announcement (metrics, benchmarks). */
  onAnnounced?: (event: AnnouncementReport) => void;
}

export interface AnnouncementReport extends AnnouncedEvent {
  confirmedPods: number;
  /** The pods known to be alive when the event was published. */
  knownPods: string[];
  /** Those of `knownPods` that did not confirm within the window. */
  unconfirmedPods: string[];
  committedAt: number;
  gatheredAt: number;
}

/** A data pod's answer after evicting (EvictionConfirmation in @signet/shared/events). */
export function isConfirmation(reply: unknown, subject: string): boolean {
  if (!reply || typeof reply !== "object") return false;
  const r = reply as { evicted?: unknown; subject?: unknown };
  return r.evicted === true && (r.subject === undefined || r.subject === subject);
}

/** The pod id of a confirmation, when it names one. */
const podOf = (reply: unknown): string | undefined => {
  const pod = (reply as { pod?: unknown } | null)?.pod;
  return typeof pod === "string" ? pod : undefined;
};

export class Announcer {
  constructor(readonly options: AnnouncerOptions) {}

  /**
   * Publishes and gathers confirmations until every pod in `known` and at least `expected`
   * pods confirmed, or the window ends. With no pod known and no floor, nothing tells the
   * registry when it has heard everyone: it waits the window.
   */
  private async gather(
    subject: string,
    payload: Record<string, unknown>,
    known: readonly string[],
  ): Promise<{ confirmations: number; confirmedBy: Set<string> }> {
    const { bus, windowMs, expected } = this.options;
    const waitingFor = new Set(known);
    const confirmedBy = new Set<string>();
    let confirmations = 0;
    const canStop = known.length > 0 || expected > 0;
    await bus.gather(subject, payload, {
      windowMs,
      until: (reply) => {
        if (!isConfirmation(reply, subject)) return false;
        confirmations++;
        const pod = podOf(reply);
        if (pod !== undefined) {
          confirmedBy.add(pod);
          waitingFor.delete(pod);
        }
        return canStop && waitingFor.size === 0 && confirmations >= expected;
      },
    });
    return { confirmations, confirmedBy };
  }

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

    const knownPods = this.options.presence?.known() ?? [];
    let confirmedPods = 0;
    let confirmedBy = new Set<string>();
    if (bus.isConnected()) {
      try {
        ({ confirmations: confirmedPods, confirmedBy } = await this.gather(subject, payload, knownPods));
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
    const unconfirmedPods = knownPods.filter((pod) => !confirmedBy.has(pod));
    if (unconfirmedPods.length > 0) {
      log.warn(
        {
          subject,
          outbox_id: outboxId,
          unconfirmed_pods: unconfirmedPods,
          known_pods: knownPods.length,
          confirmed_pods: confirmedPods,
          window_ms: this.options.windowMs,
        },
        `data pods did not confirm within the window: ${unconfirmedPods.join(", ")}`,
      );
    }
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
    this.options.onAnnounced?.({
      ...event,
      confirmedPods,
      knownPods,
      unconfirmedPods,
      committedAt,
      gatheredAt,
    });
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
  if (!(await findUserByUsername(announcer.options.db, input.username))) throw notFound("user");
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
  const { result, confirmedPods } = await announcer.commitAndAnnounce(SUBJECTS.userDisabled, async (trx) => {
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
  });
  return { ...result, confirmed_pods: confirmedPods };
}
