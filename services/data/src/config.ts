// The data service's settings, read once from the environment and typed.
// Production mode (`npm run start:data`) needs DATABASE_URL, NATS_URL and SIGNET_MASTER_KEY;
// every missing one is named in a single ConfigError.
import { hostname } from "node:os";
import {
  EnvReader,
  readCommon,
  readMasterKey,
  readTrustProxy,
  type CommonConfig,
} from "@signet/shared/config";
import { Keyring } from "@signet/shared/crypto";

export interface RateLimitSetting {
  /** Attempts allowed per window. */
  max: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

export interface DataConfig extends CommonConfig {
  /** PostgreSQL URL; optional only when the caller passes a Kysely instance in. */
  databaseUrl?: string;
  /** NATS server list; optional only when the caller passes a bus in. */
  natsUrl?: string;
  /** SIGNET_MASTER_KEY: base64 of 32 bytes (comma-separated older keys after it). */
  masterKey: string;
  /** SIGNET_PUBLIC_URL: scheme://host[:port] clients sign against, behind a proxy. */
  publicUrl?: string;
  /** Seconds either side of the server clock (SIGNET_TIMESTAMP_WINDOW). */
  timestampWindow: number;
  /** Access-token lifetime in seconds (SIGNET_TOKEN_TTL). */
  tokenTtl: number;
  /** Fastify's trustProxy: true/false, or a comma-separated list of addresses/CIDRs. */
  trustProxy: boolean | string;
  /** Names this pod in eviction confirmations and in its NATS connection name. */
  podId: string;
  /** Largest accepted request body, in bytes (413 above it). */
  bodyLimit: number;
  /** Upper bound on the age of any cached consumer or token, in milliseconds. */
  cacheMaxAgeMs: number;
  /** Entries per cache (consumers, tokens), least recently used evicted first. */
  cacheMaxEntries: number;
  /** How often expired nonces are purged, in milliseconds. */
  noncePurgeIntervalMs: number;
  /** Batched nonce inserts allowed in flight at once. */
  nonceMaxInFlight: number;
  /** Login attempts per username (case-insensitive). */
  loginLimitPerUser: RateLimitSetting;
  /** Login attempts per client address. */
  loginLimitPerAddress: RateLimitSetting;
  /** Collect process metrics (off in tests that build many apps). */
  defaultMetrics: boolean;
  /** Serve the OpenAPI document at /docs/json and swagger-ui at /docs. */
  docs: boolean;
  /** How often this pod announces itself to the registry (signet.pod.heartbeat), in milliseconds. */
  heartbeatIntervalMs: number;
}

export const DATA_DEFAULT_PORT = 8000;

/** Defaults for everything but the connection settings; used by tests and `npm start`. */
export function dataConfigDefaults(overrides: Partial<DataConfig> & { masterKey: string }): DataConfig {
  return {
    host: "127.0.0.1",
    port: DATA_DEFAULT_PORT,
    logLevel: "info",
    timestampWindow: 300,
    tokenTtl: 28_800,
    trustProxy: false,
    podId: `${hostname()}-${process.pid}`,
    bodyLimit: 64 * 1024,
    cacheMaxAgeMs: 30_000,
    cacheMaxEntries: 10_000,
    noncePurgeIntervalMs: 60_000,
    nonceMaxInFlight: 3,
    loginLimitPerUser: { max: 10, windowMs: 60_000 },
    loginLimitPerAddress: { max: 100, windowMs: 60_000 },
    defaultMetrics: true,
    docs: true,
    heartbeatIntervalMs: 5_000,
    ...overrides,
  };
}

/** Production-mode configuration from the environment; throws one ConfigError naming every problem. */
export function loadDataConfig(env: Record<string, string | undefined> = process.env): DataConfig {
  const reader = new EnvReader(env);
  const common = readCommon(reader, DATA_DEFAULT_PORT);
  const databaseUrl = reader.required("DATABASE_URL");
  const natsUrl = reader.required("NATS_URL");
  const masterKey = readMasterKey(reader, Keyring.fromEnv);
  const publicUrl = reader.optional("SIGNET_PUBLIC_URL");
  if (publicUrl && !/^https?:\/\/[^/?#]+\/?$/i.test(publicUrl)) {
    reader.fail(`SIGNET_PUBLIC_URL must be scheme://host[:port] (got "${publicUrl}")`);
  }
  const config: DataConfig = {
    ...common,
    databaseUrl,
    natsUrl,
    masterKey,
    ...(publicUrl ? { publicUrl } : {}),
    timestampWindow: reader.int("SIGNET_TIMESTAMP_WINDOW", 300, { min: 1, max: 86_400 }),
    tokenTtl: reader.int("SIGNET_TOKEN_TTL", 28_800, { min: 60, max: 31_536_000 }),
    trustProxy: readTrustProxy(reader),
    podId:
      reader.optional("SIGNET_POD_ID") ??
      reader.optional("POD_NAME") ??
      reader.optional("HOSTNAME") ??
      `${hostname()}-${process.pid}`,
    bodyLimit: reader.int("SIGNET_BODY_LIMIT", 64 * 1024, { min: 1024, max: 10 * 1024 * 1024 }),
    cacheMaxAgeMs: reader.int("SIGNET_CACHE_MAX_AGE_MS", 30_000, { min: 0, max: 300_000 }),
    cacheMaxEntries: reader.int("SIGNET_CACHE_MAX_ENTRIES", 10_000, { min: 0, max: 10_000_000 }),
    noncePurgeIntervalMs: reader.int("SIGNET_NONCE_PURGE_INTERVAL_MS", 60_000, {
      min: 1_000,
      max: 3_600_000,
    }),
    nonceMaxInFlight: reader.int("SIGNET_NONCE_MAX_IN_FLIGHT", 3, { min: 1, max: 16 }),
    loginLimitPerUser: {
      max: reader.int("SIGNET_LOGIN_LIMIT_PER_USER", 10, { min: 1 }),
      windowMs: reader.int("SIGNET_LOGIN_LIMIT_WINDOW_MS", 60_000, { min: 1_000 }),
    },
    loginLimitPerAddress: {
      max: reader.int("SIGNET_LOGIN_LIMIT_PER_ADDRESS", 100, { min: 1 }),
      windowMs: reader.int("SIGNET_LOGIN_LIMIT_WINDOW_MS", 60_000, { min: 1_000 }),
    },
    defaultMetrics: true,
    docs: reader.bool("SIGNET_DOCS", true),
    heartbeatIntervalMs: reader.int("SIGNET_HEARTBEAT_INTERVAL_MS", 5_000, { min: 100, max: 60_000 }),
  };
  reader.done("data");
  return config;
}
