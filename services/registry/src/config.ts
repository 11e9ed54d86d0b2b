// The registry's settings, read once from the environment and validated together.
import { EnvReader, readCommon, readMasterKey, type CommonConfig } from "@signet/shared/config";
import { Keyring } from "@signet/shared/crypto";

export interface AdminToken {
  /** The actor written to the audit log. */
  name: string;
  token: string;
}

export interface BootstrapConsumer {
  name: string;
  key: string;
  secret: string;
}

export interface RegistryConfig extends CommonConfig {
  databaseUrl: string;
  natsUrl: string;
  /** SIGNET_MASTER_KEY: base64 keys, the sealing key first. */
  masterKey: string;
  adminTokens: AdminToken[];
  bootstrapConsumers: BootstrapConsumer[];
  /** How long a revoke (rotate, disable, password reset) waits for pod confirmations. */
  confirmWindowMs: number;
  /** Stop waiting as soon as this many pods confirmed (SIGNET_CONFIRM_EXPECTED); 0 = always wait the window. */
  confirmExpected: number;
  /** How often the outbox relay looks for unpublished events. */
  relayIntervalMs: number;
  /**
   * The relay leaves rows younger than this alone: the request that wrote them is still
   * publishing them itself (avoids double publishing). Default: confirm window + 2 s.
   */
  relayMinAgeMs: number;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const KEY = /^[A-Za-z0-9._~-]{8,128}$/;

export function parseAdminTokens(raw: string, fail: (message: string) => void): AdminToken[] {
  const tokens: AdminToken[] = [];
  for (const entry of raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(":");
    const name = colon > 0 ? entry.slice(0, colon) : "";
    const token = colon > 0 ? entry.slice(colon + 1) : "";
    if (!NAME.test(name) || token.length < 16) {
      fail(
        `SIGNET_ADMIN_TOKENS entries must be name:token with a token of at least 16 characters (bad entry for "${name || "?"}")`,
      );
      continue;
    }
    tokens.push({ name, token });
  }
  return tokens;
}

export function parseBootstrapConsumers(
  raw: string | undefined,
  fail: (message: string) => void,
): BootstrapConsumer[] {
  if (!raw) return [];
  const consumers: BootstrapConsumer[] = [];
  for (const entry of raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = "", key = "", ...rest] = entry.split(":");
    const secret = rest.join(":");
    if (!name || name.length > 100 || !KEY.test(key) || secret.length < 16) {
      fail(
        `SIGNET_BOOTSTRAP_CONSUMERS entries must be name:key:secret (key 8-128 of [A-Za-z0-9._~-], secret at least 16 characters; bad entry "${name || "?"}")`,
      );
      continue;
    }
    consumers.push({ name, key, secret });
  }
  return consumers;
}

/** Reads and validates the registry's environment; throws one ConfigError naming every problem. */
export function loadRegistryConfig(env: Record<string, string | undefined> = process.env): RegistryConfig {
  const reader = new EnvReader(env);
  const common = readCommon(reader, 8001);
  const databaseUrl = reader.required("DATABASE_URL");
  const natsUrl = reader.required("NATS_URL");
  const masterKey = readMasterKey(reader, Keyring.fromEnv);
  const rawTokens = reader.required("SIGNET_ADMIN_TOKENS");
  const adminTokens = rawTokens ? parseAdminTokens(rawTokens, (m) => reader.fail(m)) : [];
  const bootstrapConsumers = parseBootstrapConsumers(reader.optional("SIGNET_BOOTSTRAP_CONSUMERS"), (m) =>
    reader.fail(m),
  );
  const confirmWindowMs = reader.int("SIGNET_CONFIRM_WINDOW_MS", 500, { min: 0, max: 30_000 });
  const confirmExpected = reader.int("SIGNET_CONFIRM_EXPECTED", 0, { min: 0, max: 10_000 });
  const relayIntervalMs = reader.int("SIGNET_OUTBOX_INTERVAL_MS", 1_000, { min: 10, max: 600_000 });
  const relayMinAgeMs = reader.int("SIGNET_OUTBOX_MIN_AGE_MS", confirmWindowMs + 2_000, {
    min: 0,
    max: 600_000,
  });
  reader.done("registry");
  return {
    ...common,
    databaseUrl,
    natsUrl,
    masterKey,
    adminTokens,
    bootstrapConsumers,
    confirmWindowMs,
    confirmExpected,
    relayIntervalMs,
    relayMinAgeMs,
  };
}
