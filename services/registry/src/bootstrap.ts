// SIGNET_BOOTSTRAP_CONSUMERS, imported at start, idempotently:
//  - key absent: created with that key and secret (audited as consumer.create by "bootstrap");
//  - key present, same secret: nothing changes;
//  - key present, active, different secret: the secret is REPLACED (no grace period),
//    audited as consumer.rotate by "bootstrap" and announced as signet.consumer.rotated —
//    the environment is the source of truth for bootstrap credentials, so a chart that
//    changes the secret gets it applied;
//  - key present but revoked: left revoked (a revocation is deliberate and is never undone
//    by a restart); a warning is logged.
// A name already used by another key is an error that stops the start.
import type { FastifyBaseLogger } from "fastify";
import { safeEqual } from "@signet/shared/crypto";
import { ApiError } from "@signet/shared/http";
import { consumerContext, createConsumer, findConsumer, recordAudit } from "@signet/shared/repos";
import type { BootstrapConsumer } from "./config.js";
import type { RegistryDeps } from "./deps.js";
import { replaceConsumerSecret } from "./revocation.js";

export const BOOTSTRAP_ACTOR = "bootstrap";

export type BootstrapOutcome = "created" | "unchanged" | "secret_replaced" | "revoked_left_alone";

export async function importBootstrapConsumers(
  deps: Pick<RegistryDeps, "db" | "keyring" | "announcer">,
  consumers: readonly BootstrapConsumer[],
  log: FastifyBaseLogger,
): Promise<Record<string, BootstrapOutcome>> {
  const outcomes: Record<string, BootstrapOutcome> = {};
  for (const wanted of consumers) {
    outcomes[wanted.key] = await importOne(deps, wanted, log);
  }
  return outcomes;
}

async function importOne(
  deps: Pick<RegistryDeps, "db" | "keyring" | "announcer">,
  wanted: BootstrapConsumer,
  log: FastifyBaseLogger,
): Promise<BootstrapOutcome> {
  const { db, keyring, announcer } = deps;
  let existing = await findConsumer(db, wanted.key);
  if (!existing) {
    try {
      await db.transaction().execute(async (trx) => {
        await createConsumer(trx, keyring, wanted);
        await recordAudit(trx, {
          actor: BOOTSTRAP_ACTOR,
          action: "consumer.create",
          target: wanted.key,
          details: { name: wanted.name, scopes: [], bootstrap: true },
        });
      });
      log.info({ key: wanted.key, name: wanted.name }, "bootstrap consumer created");
      return "created";
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 409) throw error;
      existing = await findConsumer(db, wanted.key); // another replica won the race?
      if (!existing) {
        throw new Error(
          `SIGNET_BOOTSTRAP_CONSUMERS: the name "${wanted.name}" already belongs to another consumer key`,
          { cause: error },
        );
      }
    }
  }
  if (existing.status === "revoked") {
    log.warn(
      { key: wanted.key },
      "bootstrap consumer is revoked; left revoked (issue a new key to replace it)",
    );
    return "revoked_left_alone";
  }
  let current: string | undefined;
  try {
    current = keyring.open(existing.secret_sealed, consumerContext(existing.key));
  } catch {
    current = undefined; // sealed under a master key we no longer have: replace it
  }
  if (current !== undefined && safeEqual(current, wanted.secret)) {
    if (existing.name !== wanted.name)
      log.warn({ key: wanted.key, name: existing.name }, "bootstrap consumer keeps its existing name");
    return "unchanged";
  }
  await replaceConsumerSecret(announcer, keyring, {
    key: wanted.key,
    secret: wanted.secret,
    actor: BOOTSTRAP_ACTOR,
  });
  log.warn(
    { key: wanted.key },
    "bootstrap consumer secret differed from SIGNET_BOOTSTRAP_CONSUMERS; replaced",
  );
  return "secret_replaced";
}
