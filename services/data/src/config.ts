// The data service's settings: one table (shared/src/config.ts explains the shape) from
// which both the production loader and the test/`npm start` defaults derive.
// Production mode (`npm run start:data`) needs DATABASE_URL, NATS_URL and SIGNET_MASTER_KEY;
// every missing one is named in a single ConfigError.
import { hostname } from "node:os";
import {
  common,
  configDefaults,
  loadConfig,
  natsSettings,
  setting,
  type ConfigOf,
} from "@signet/shared/config";

const DATA = ["data"] as const;
const PUBLIC_URL_RE = /^https?:\/\/[^/?#]+\/?$/i;
const podIdFallback = () => `${hostname()}-${process.pid}`;

/** A throttle budget: 1–10,000 attempts per window (each one counted is a stamp in its row). */
const budget = (env: string, fallback: number) =>
  setting.int(env, fallback, { min: 1, max: 10_000, services: DATA });

export const dataSettings = {
  host: common.host,
  port: common.port(8000),
  logLevel: common.logLevel,
  drainDelayMs: common.drainDelayMs(0),
  databaseUrl: common.databaseUrl,
  ...natsSettings,
  keyring: common.keyring,
  trustProxy: common.trustProxy,
  /** scheme://host[:port] clients sign against, behind a proxy. */
  publicUrl: setting.optional("SIGNET_PUBLIC_URL", {
    services: DATA,
    check: (v) =>
      PUBLIC_URL_RE.test(v) ? undefined : `SIGNET_PUBLIC_URL must be scheme://host[:port] (got "${v}")`,
  }),
  /** Seconds either side of the server clock. */
  timestampWindow: setting.int("SIGNET_TIMESTAMP_WINDOW", 300, { min: 1, max: 86_400, services: DATA }),
  /** Access-token lifetime in seconds. */
  tokenTtl: setting.int("SIGNET_TOKEN_TTL", 28_800, { min: 60, max: 31_536_000, services: DATA }),
  /** Names this pod in eviction confirmations, heartbeats and its NATS connection name. */
  podId: setting.custom<string>({
    env: "SIGNET_POD_ID",
    parse: (raw) => raw,
    default: () => process.env.POD_NAME?.trim() || process.env.HOSTNAME?.trim() || podIdFallback(),
    dev: podIdFallback,
    services: DATA,
  }),
  /** Largest accepted request body, in bytes (413 above it). */
  bodyLimit: setting.int("SIGNET_BODY_LIMIT", 64 * 1024, {
    min: 1024,
    max: 10 * 1024 * 1024,
    services: DATA,
  }),
  /** Upper bound on the age of any cached consumer or token, in milliseconds. */
  cacheMaxAgeMs: setting.int("SIGNET_CACHE_MAX_AGE_MS", 30_000, { min: 0, max: 300_000, services: DATA }),
  /** Entries per cache (consumers, tokens), least recently used evicted first. */
  cacheMaxEntries: setting.int("SIGNET_CACHE_MAX_ENTRIES", 10_000, {
    min: 0,
    max: 10_000_000,
    services: DATA,
  }),
  /** How often expired nonces are purged, in milliseconds. */
  noncePurgeIntervalMs: setting.int("SIGNET_NONCE_PURGE_INTERVAL_MS", 60_000, {
    min: 1_000,
    max: 3_600_000,
    services: DATA,
  }),
  /** Batched nonce claims allowed in flight at once. */
  nonceMaxInFlight: setting.int("SIGNET_NONCE_MAX_IN_FLIGHT", 3, { min: 1, max: 16, services: DATA }),
  /** Most nonces in one claim call. */
  nonceMaxBatch: setting.int("SIGNET_NONCE_MAX_BATCH", 500, { min: 1, max: 5_000, services: DATA }),
  /** Width of one nonce partition in seconds; the same on every pod (partitions are shared). */
  noncePartitionSeconds: setting.int("SIGNET_NONCE_PARTITION_SECONDS", 60, {
    min: 10,
    max: 86_400,
    services: DATA,
  }),
  /**
   * Nonce partitions UNLOGGED (no WAL per nonce; after a crash or failover the guard refuses
   * every timestamp the lost rows could have held, for a window) or logged.
   */
  nonceUnlogged: setting.bool("SIGNET_NONCE_UNLOGGED", true, { services: DATA }),
  /**
   * A PostgreSQL database of the nonce store's own (migrated like DATABASE_URL's), so that
   * nonces and user data do not share a primary; unset: DATABASE_URL's.
   */
  nonceDatabaseUrl: setting.optional("SIGNET_NONCE_DATABASE_URL", { services: DATA }),
  /**
   * Failed-login budgets per (username, client address) and per client address, per sliding
   * window, shared by every pod (plugins/rate-limit.ts); sign-ups per client address share
   * the window.
   */
  loginLimitPerUser: budget("SIGNET_LOGIN_LIMIT_PER_USER", 10),
  loginLimitPerAddress: budget("SIGNET_LOGIN_LIMIT_PER_ADDRESS", 100),
  loginLimitWindowMs: setting.int("SIGNET_LOGIN_LIMIT_WINDOW_MS", 60_000, {
    min: 1_000,
    max: 86_400_000,
    services: DATA,
  }),
  signupLimitPerAddress: budget("SIGNET_SIGNUP_LIMIT_PER_ADDRESS", 10),
  /** Collect process metrics (code only: one app per process collects them under `npm start`). */
  defaultMetrics: setting.code(true, DATA),
  /** Serve the OpenAPI document at /docs/json and swagger-ui at /docs. */
  docs: setting.bool("SIGNET_DOCS", true, { services: DATA }),
  /** How often this pod announces itself to the registry (signet.pod.heartbeat), in milliseconds. */
  heartbeatIntervalMs: setting.int("SIGNET_HEARTBEAT_INTERVAL_MS", 5_000, {
    min: 100,
    max: 60_000,
    services: DATA,
  }),
};

export type DataConfig = ConfigOf<typeof dataSettings>;

/** Production-mode configuration from the environment; throws one ConfigError naming every problem. */
export const loadDataConfig = (env: Record<string, string | undefined> = process.env): DataConfig =>
  loadConfig("data", dataSettings, env);

/** The table's defaults for tests and `npm start` (which pass the key ring and connections). */
export const dataConfigDefaults = (overrides: Partial<DataConfig> = {}): DataConfig =>
  configDefaults(dataSettings, overrides);
