// SIGNET_BOOTSTRAP_CONSUMERS, imported at start (before the app is ready), idempotently:
//  - key absent: created with that key, secret and scopes — `*` when the entry names none
//    (audited as consumer.create by "bootstrap");
//  - key present, active, and the entry names scopes other than its own: they are applied
//    (consumer.update, announced like a rotation so every pod re-reads the consumer); an
//    entry without scopes leaves an existing consumer's scopes alone;
//  - key present, same secret: nothing changes;
//  - key present, active, different secret: the secret is REPLACED (no grace period),
//    audited as consumer.rotate by "bootstrap" and announced as signet.consumer.rotated —
//    the environment is the source of truth for bootstrap credentials, so a chart that
//    changes the secret gets it applied;
//  - key present but revoked: left revoked (a revocation is deliberate and is never undone
//    by a restart); a warning is logged.
// A name already used by another key is an error that stops the start.
import fp from "fastify-plugin";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Announcer } from "@signet/shared/announce";
import { safeEqual, type Keyring } from "@signet/shared/crypto";
import type { Database } from "@signet/shared/db";
import { ApiError } from "@signet/shared/http";
import { consumerContext, findConsumer } from "@signet/shared/repos";
import type { BootstrapConsumer } from "../config.js";
import { addConsumer, replaceBootstrapSecret, setBootstrapScopes } from "../operations/consumers.js";

const actor = "bootstrap";

interface Importer {
  db: Kysely<Database>;
  keyring: Keyring;
  announcer: Announcer;
  log: FastifyBaseLogger;
}

const sameScopes = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((scope) => b.includes(scope));

async function importOne(
  { db, keyring, announcer, log }: Importer,
  wanted: BootstrapConsumer,
): Promise<void> {
  let existing = await findConsumer(db, wanted.key);
  if (!existing) {
    try {
      await addConsumer(db, keyring, { ...wanted, scopes: wanted.scopes ?? ["*"], actor, bootstrap: true });
      log.info({ key: wanted.key, name: wanted.name }, "bootstrap consumer created");
      return;
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
    return;
  }
  if (wanted.scopes && !sameScopes(existing.scopes, wanted.scopes)) {
    await setBootstrapScopes(announcer, { key: wanted.key, scopes: wanted.scopes, actor });
    log.warn(
      { key: wanted.key, scopes: wanted.scopes, previous: existing.scopes },
      "bootstrap consumer scopes differed from SIGNET_BOOTSTRAP_CONSUMERS; replaced",
    );
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
    return;
  }
  await replaceBootstrapSecret(announcer, keyring, { key: wanted.key, secret: wanted.secret, actor });
  log.warn(
    { key: wanted.key },
    "bootstrap consumer secret differed from SIGNET_BOOTSTRAP_CONSUMERS; replaced",
  );
}

export const bootstrapConsumers = fp(
  async (app) => {
    const { bootstrapConsumers: wanted, keyring } = app.registryConfig;
    const importer = { db: app.db, keyring, announcer: app.announcer, log: app.log };
    for (const consumer of wanted) await importOne(importer, consumer);
  },
  {
    name: "bootstrap-consumers",
    dependencies: ["db", "announcer"],
    decorators: { fastify: ["registryConfig"] },
  },
);
