// What the routes need, built once per app instance.
import type { Kysely } from "kysely";
import type { Bus, Database, Keyring } from "@signet/shared";
import type { RegistryConfig } from "./config.js";
import type { Announcer } from "./revocation.js";

export interface RegistryDeps {
  config: RegistryConfig;
  db: Kysely<Database>;
  bus: Bus;
  keyring: Keyring;
  announcer: Announcer;
}
