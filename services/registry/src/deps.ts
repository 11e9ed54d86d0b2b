// What the routes need, built once per app instance.
import type { Kysely } from "kysely";
import type { Bus } from "@signet/shared/bus";
import type { Keyring } from "@signet/shared/crypto";
import type { Database } from "@signet/shared/db";
import type { RegistryConfig } from "./config.js";
import type { Announcer } from "./revocation.js";

export interface RegistryDeps {
  config: RegistryConfig;
  db: Kysely<Database>;
  bus: Bus;
  keyring: Keyring;
  announcer: Announcer;
}
