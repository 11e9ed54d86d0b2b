// Shared set-up for the registry tests: config, admin headers, admin API calls.
import type { FastifyInstance } from "fastify";
import { MASTER_KEY, keyring } from "@signet/test-support/keys";
import { registryConfigDefaults, type RegistryConfig } from "../src/config.js";

export { MASTER_KEY };
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
    keyring,
    adminTokens: [ADMIN, OTHER_ADMIN],
    defaultMetrics: false, // many apps in one process
    ...overrides,
  });
}

/** An admin API call over app.inject; `answeredAt` is performance.now() once it answered. */
export async function admin<T = Record<string, unknown>>(
  app: FastifyInstance,
  method: "GET" | "POST",
  url: string,
  payload?: object,
): Promise<{ status: number; body: T; answeredAt: number }> {
  const res = await app.inject({ method, url, headers: auth(), ...(payload ? { payload } : {}) });
  const answeredAt = performance.now();
  return { status: res.statusCode, body: res.json() as T, answeredAt };
}
