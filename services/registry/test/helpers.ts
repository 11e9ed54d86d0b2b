// Shared set-up for the registry tests: config, admin headers, app construction.
import { Keyring } from "@signet/shared/crypto";
import { registryConfigDefaults, type RegistryConfig } from "../src/config.js";

export const MASTER_KEY = Keyring.generateKey();
export const ADMIN = { name: "alice-ops", token: "adm_" + "a".repeat(40) };
export const OTHER_ADMIN = { name: "bob-ops", token: "adm_" + "b".repeat(40) };
export const auth = (token = ADMIN.token) => ({ authorization: `Bearer ${token}` });

export function registryConfig(
  databaseUrl: string,
  natsUrl: string,
  overrides: Partial<RegistryConfig> = {},
): RegistryConfig {
  return registryConfigDefaults({
    port: 0,
    logLevel: "warn",
    databaseUrl,
    natsUrl,
    keyring: Keyring.fromEnv(MASTER_KEY),
    adminTokens: [ADMIN, OTHER_ADMIN],
    ...overrides,
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
