// The list of frozen migrations, in order. Add a line for each new file.
// (A static list instead of Kysely's FileMigrationProvider: it works unchanged under
// vitest, tsx and compiled JavaScript, where a directory scan would find .ts in one
// and .js in another.)
import type { Migration } from "kysely";
import * as initial from "./2026-11-28T00-00-initial.js";
import * as nonceKeys from "./2026-11-29T00-00-nonce-keys.js";
import * as consumerScopes from "./2026-11-30T00-00-consumer-scopes.js";
import * as throttle from "./2026-11-30T00-01-throttle.js";
import * as noncePartitions from "./2026-12-01T00-00-nonce-partitions.js";
import * as credentialLifecycle from "./2026-12-01T00-01-credential-lifecycle.js";
import * as notesPages from "./2026-12-01T00-02-notes-pages.js";
import * as nonceFastClaim from "./2026-12-02T00-00-nonce-fast-claim.js";

export const migrations: Record<string, Migration> = {
  "2026-11-28T00-00-initial": initial,
  "2026-11-29T00-00-nonce-keys": nonceKeys,
  "2026-11-30T00-00-consumer-scopes": consumerScopes,
  "2026-11-30T00-01-throttle": throttle,
  "2026-12-01T00-00-nonce-partitions": noncePartitions,
  "2026-12-01T00-01-credential-lifecycle": credentialLifecycle,
  "2026-12-01T00-02-notes-pages": notesPages,
  "2026-12-02T00-00-nonce-fast-claim": nonceFastClaim,
};
