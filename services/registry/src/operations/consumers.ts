// What the admin API (and the bootstrap import) does to consumers. A change the data pods
// must hear about runs as route → operation → repos (inside the announcer's transaction,
// with its audit row) → announcer → bus (docs/design.md, "One announcement path",
// "Confirmed revocation"); the operations hold no SQL of their own.
import type { Kysely, Transaction } from "kysely";
import type { Announcer } from "@signet/shared/announce";
import { SUBJECTS } from "@signet/shared/bus";
import type { Keyring } from "@signet/shared/crypto";
import type { Consumer, Database } from "@signet/shared/db";
import type { ConsumerRevokedEvent, ConsumerRotatedEvent } from "@signet/shared/events";
import { ApiError, notFound } from "@signet/shared/http";
import {
  createConsumer,
  lockConsumer,
  recordAudit,
  revokeConsumer,
  revokeConsumerTokens,
  rotateConsumer,
  setConsumerScopes,
} from "@signet/shared/repos";

/**
 * Creates a consumer (a random key and secret unless given) with its consumer.create audit
 * row, in one transaction. Nothing is announced: pods read a consumer they do not know
 * from PostgreSQL.
 */
export function addConsumer(
  db: Kysely<Database>,
  keyring: Keyring,
  input: {
    name: string;
    scopes: string[];
    actor: string;
    key?: string;
    secret?: string;
    expires_at?: Date | null;
    bootstrap?: true;
  },
): Promise<{ consumer: Consumer; secret: string }> {
  const { actor, bootstrap, ...consumer } = input;
  return db.transaction().execute(async (trx) => {
    const made = await createConsumer(trx, keyring, consumer);
    await recordAudit(trx, {
      actor,
      action: "consumer.create",
      target: made.consumer.key,
      details: {
        name: made.consumer.name,
        scopes: made.consumer.scopes,
        ...(made.consumer.expires_at ? { expires_at: made.consumer.expires_at.toISOString() } : {}),
        ...(bootstrap ? { bootstrap } : {}),
      },
    });
    return made;
  });
}

interface RevokeResult {
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
      const current = await lockConsumer(trx, input.key);
      if (!current) throw notFound("consumer");
      const alreadyRevoked = current.status === "revoked" && current.revoked_at !== null;
      const revokedAt = alreadyRevoked ? current.revoked_at! : new Date();
      if (!alreadyRevoked) await revokeConsumer(trx, input.key, input.reason, revokedAt);
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
    { kind: "consumer_revoke" },
  );
  return { key: input.key, status: "revoked", revoked_at: result, confirmed_pods: confirmedPods };
}

/**
 * Rotates a consumer's secret; the old one keeps verifying for `graceSeconds`, or until it
 * has been unused for `quietSeconds` (the lifecycle timer, plugins/lifecycle.ts, ends it).
 */
export async function rotateConsumerEverywhere(
  announcer: Announcer,
  keyring: Keyring,
  input: { key: string; graceSeconds: number; quietSeconds?: number | null; actor: string },
): Promise<{ key: string; secret: string; confirmed_pods: number }> {
  const quiet = input.graceSeconds > 0 ? (input.quietSeconds ?? null) : null;
  return announceRotation(
    announcer,
    input.actor,
    input.key,
    { grace_seconds: input.graceSeconds, ...(quiet !== null ? { finish_when_quiet_seconds: quiet } : {}) },
    (trx) => rotateConsumer(trx, keyring, input.key, input.graceSeconds, undefined, quiet),
  );
}

/**
 * Replaces a bootstrap consumer's secret outright, with no grace period (its secret in
 * SIGNET_BOOTSTRAP_CONSUMERS changed: the environment is the source of truth for it).
 */
export async function replaceBootstrapSecret(
  announcer: Announcer,
  keyring: Keyring,
  input: { key: string; secret: string; actor: string },
): Promise<void> {
  await announceRotation(announcer, input.actor, input.key, { bootstrap: true, grace_seconds: 0 }, (trx) =>
    rotateConsumer(trx, keyring, input.key, 0, input.secret),
  );
}

/**
 * Sets a bootstrap consumer's scopes to those its SIGNET_BOOTSTRAP_CONSUMERS entry names
 * (the environment is the source of truth for them, as for its secret): one transaction
 * with the consumer.update audit row, announced as signet.consumer.rotated — the event on
 * which every data pod forgets the consumer it cached (its tokens stay) and reads it anew,
 * narrowed scopes included.
 */
export async function setBootstrapScopes(
  announcer: Announcer,
  input: { key: string; scopes: string[]; actor: string },
): Promise<void> {
  await announcer.commitAndAnnounce(SUBJECTS.consumerRotated, async (trx) => {
    const current = await lockConsumer(trx, input.key);
    if (!current) throw notFound("consumer");
    await setConsumerScopes(trx, input.key, input.scopes);
    await recordAudit(trx, {
      actor: input.actor,
      action: "consumer.update",
      target: input.key,
      details: { scopes: input.scopes, previous_scopes: current.scopes, bootstrap: true },
    });
    const payload: ConsumerRotatedEvent = {
      key: input.key,
      at: new Date().toISOString(),
      actor: input.actor,
    };
    return { payload: { ...payload }, result: undefined };
  });
}

/**
 * One transaction: the consumer locked (404 when absent, 409 when revoked), `rotate`, the
 * consumer.rotate audit row; announced as signet.consumer.rotated.
 */
async function announceRotation(
  announcer: Announcer,
  actor: string,
  key: string,
  details: Record<string, unknown>,
  rotate: (trx: Transaction<Database>) => Promise<{ secret: string } | undefined>,
): Promise<{ key: string; secret: string; confirmed_pods: number }> {
  const { result, confirmedPods } = await announcer.commitAndAnnounce(
    SUBJECTS.consumerRotated,
    async (trx) => {
      const current = await lockConsumer(trx, key);
      if (!current) throw notFound("consumer");
      if (current.status === "revoked")
        throw new ApiError(409, "conflict", "a revoked consumer cannot be rotated");
      const rotated = await rotate(trx);
      if (!rotated) throw notFound("consumer");
      await recordAudit(trx, { actor, action: "consumer.rotate", target: key, details });
      const payload: ConsumerRotatedEvent = { key, at: new Date().toISOString(), actor };
      return { payload: { ...payload }, result: rotated.secret };
    },
    { kind: "rotate" },
  );
  return { key, secret: result, confirmed_pods: confirmedPods };
}
