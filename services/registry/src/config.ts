// The registry's settings: one table (shared/src/config.ts explains the shape) from which
// both the production loader and the test/`npm start` defaults derive.
import {
  common,
  configDefaults,
  loadConfig,
  natsSettings,
  setting,
  type ConfigOf,
} from "@signet/shared/config";
import { SCOPES } from "@signet/shared/rules";

export interface AdminToken {
  /** The actor written to the audit log. */
  name: string;
  token: string;
}

export interface BootstrapConsumer {
  name: string;
  key: string;
  secret: string;
  /**
   * The scopes the entry names, applied at every start; absent: a new consumer gets `["*"]`
   * and an existing one keeps its own.
   */
  scopes?: string[];
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const KEY = /^[A-Za-z0-9._~-]{8,128}$/;

function parseAdminTokens(raw: string, fail: (message: string) => void): AdminToken[] {
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

const KNOWN_SCOPES: readonly string[] = SCOPES;

/**
 * name:key:secret[:scope|scope…]: the secret ends at the first ":" after the key (it may
 * not contain one); what follows is the scope list ("" for none).
 */
function parseBootstrapConsumers(
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
    const [secret = "", ...scopeParts] = rest;
    if (!name || name.length > 100 || !KEY.test(key) || secret.length < 16) {
      fail(
        `SIGNET_BOOTSTRAP_CONSUMERS entries must be name:key:secret[:scope|scope…] (key 8-128 of [A-Za-z0-9._~-], secret at least 16 characters without ":"; bad entry "${name || "?"}")`,
      );
      continue;
    }
    const scopes = scopeParts.length ? scopeParts.join(":").split("|").filter(Boolean) : undefined;
    if (scopes?.some((scope) => !KNOWN_SCOPES.includes(scope))) {
      // Never echo the text: from an entry written when a secret could hold ":", it is secret.
      fail(
        `SIGNET_BOOTSTRAP_CONSUMERS entry "${name}": what follows the secret is not a list of scopes (${SCOPES.join(", ")}, separated by "|"); a secret may not contain ":"`,
      );
      continue;
    }
    consumers.push({ name, key, secret, ...(scopes ? { scopes: [...new Set(scopes)] } : {}) });
  }
  return consumers;
}

const REGISTRY = ["registry"] as const;

/** A list setting: its entries parsed, every bad one named. */
const list = <T>(env: string, parse: (raw: string, fail: (m: string) => void) => T[], required: boolean) =>
  setting.custom<T[]>({ env, parse, default: [], ...(required ? { required } : {}), services: REGISTRY });

export const registrySettings = {
  host: common.host,
  port: common.port(8001),
  logLevel: common.logLevel,
  drainDelayMs: common.drainDelayMs(0),
  databaseUrl: common.databaseUrl,
  ...natsSettings,
  keyring: common.keyring,
  /** SIGNET_ADMIN_TOKENS: name:token pairs; the name is the actor in the audit log. */
  adminTokens: list("SIGNET_ADMIN_TOKENS", parseAdminTokens, true),
  /** SIGNET_BOOTSTRAP_CONSUMERS: consumers created (or re-keyed, re-scoped) at start. */
  bootstrapConsumers: list("SIGNET_BOOTSTRAP_CONSUMERS", parseBootstrapConsumers, false),
  /** How long a revoke (rotate, disable, password reset) waits for pod confirmations. */
  confirmWindowMs: setting.int("SIGNET_CONFIRM_WINDOW_MS", 500, { min: 0, max: 30_000, services: REGISTRY }),
  /** Never stop gathering before this many pods confirmed (a floor); 0 = every known pod. */
  confirmExpected: setting.int("SIGNET_CONFIRM_EXPECTED", 0, { min: 0, max: 10_000, services: REGISTRY }),
  /** How often the outbox relay looks for unpublished events. */
  relayIntervalMs: setting.int("SIGNET_OUTBOX_INTERVAL_MS", 1_000, {
    min: 10,
    max: 600_000,
    services: REGISTRY,
  }),
  /**
   * The relay leaves rows younger than this alone: the request that wrote them is still
   * publishing them itself (avoids double publishing). Default: confirm window + 2 s.
   */
  relayMinAgeMs: setting.int(
    "SIGNET_OUTBOX_MIN_AGE_MS",
    (earlier) => (earlier.confirmWindowMs as number) + 2_000,
    {
      min: 0,
      max: 600_000,
      services: REGISTRY,
    },
  ),
  /**
   * How often the lifecycle timer ends rotations whose grace is over or whose old secret went
   * quiet (plugins/lifecycle.ts).
   */
  lifecycleIntervalMs: setting.int("SIGNET_LIFECYCLE_INTERVAL_MS", 1_000, {
    min: 100,
    max: 600_000,
    services: REGISTRY,
  }),
  /** Collect process metrics (code only: one app per process collects them under `npm start`). */
  defaultMetrics: setting.code(true, REGISTRY),
};

export type RegistryConfig = ConfigOf<typeof registrySettings>;

/** Reads and validates the registry's environment; throws one ConfigError naming every problem. */
export const loadRegistryConfig = (env: Record<string, string | undefined> = process.env): RegistryConfig =>
  loadConfig("registry", registrySettings, env);

/** The table's defaults for tests and `npm start` (which pass the key ring, tokens and connections). */
export const registryConfigDefaults = (overrides: Partial<RegistryConfig> = {}): RegistryConfig =>
  configDefaults(registrySettings, overrides);
