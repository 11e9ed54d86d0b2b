// What the route plugins share: the database, the bus, the caches, the settings.
import type { Kysely } from "kysely";
import type { Bus } from "@signet/shared/bus";
import type { Keyring } from "@signet/shared/crypto";
import type { Database } from "@signet/shared/db";
import type { DataConfig } from "./config.js";
import type { CredentialCache } from "./credential-cache.js";

export interface DataContext {
  config: DataConfig;
  db: Kysely<Database>;
  bus: Bus;
  keyring: Keyring;
  cache: CredentialCache;
}
