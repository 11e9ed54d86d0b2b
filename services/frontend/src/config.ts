// The frontend's settings: one table (shared/src/config.ts explains the shape) from which
// both the production loader and the test/`npm start` defaults derive.
// Production mode (`npm run start:frontend`) needs SESSION_SECRET, SIGNET_CONSUMER_KEY,
// SIGNET_CONSUMER_SECRET, DATA_URL and NATS_URL; every missing one is named in one ConfigError.
import {
  common,
  ConfigError,
  configDefaults,
  loadConfig,
  natsSettings,
  setting,
  type ConfigOf,
} from "@signet/shared/config";

const FRONTEND = ["frontend"] as const;
const BUCKET_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** The smaller of 5 minutes and a tenth of the session lifetime (seconds), in milliseconds. */
function defaultSessionRefreshMs(sessionTtlSeconds: number): number {
  return Math.min(5 * 60_000, sessionTtlSeconds * 100);
}

/** A NATS KV bucket name setting's rule. */
const bucketName = (env: string) => (value: string) =>
  BUCKET_RE.test(value) ? undefined : `${env} may hold only letters, digits, '-' and '_'`;

function httpUrlProblem(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return undefined;
  } catch {
    // reported below
  }
  return `DATA_URL must be an http(s) URL (got "${value}")`;
}

export const frontendSettings = {
  host: common.host,
  port: common.port(4444),
  logLevel: common.logLevel,
  drainDelayMs: common.drainDelayMs(2_000),
  /** NATS server list; sessions live in a JetStream KV bucket there (in memory without it, `npm start` only). */
  ...natsSettings,
  trustProxy: common.trustProxy,
  /** Base URL of the data service. */
  dataUrl: setting.text("DATA_URL", undefined, {
    dev: "http://127.0.0.1:8000",
    services: FRONTEND,
    check: httpUrlProblem,
  }),
  /** The frontend's own consumer credentials. */
  consumerKey: setting.text("SIGNET_CONSUMER_KEY", undefined, { services: FRONTEND }),
  consumerSecret: setting.text("SIGNET_CONSUMER_SECRET", undefined, { services: FRONTEND }),
  /** Signs the session cookie and seals values; comma-separated: the first signs, all verify (rotation). */
  sessionSecret: setting.text("SESSION_SECRET", undefined, {
    services: FRONTEND,
    check: (v) =>
      v.split(",").some((s) => s.trim().length < 32)
        ? "SESSION_SECRET must be at least 32 characters"
        : undefined,
  }),
  /** KV bucket holding sessions. */
  sessionBucket: setting.text("SESSION_BUCKET", "signet-sessions", {
    services: FRONTEND,
    check: bucketName("SESSION_BUCKET"),
  }),
  /** Session lifetime in seconds; also the bucket's TTL. */
  sessionTtl: setting.int("SESSION_TTL", 28_800, { min: 60, max: 30 * 86_400, services: FRONTEND }),
  /**
   * A signed-in session's expiry slides with use, but it is written back to the bucket (and
   * its cookie re-issued) at most this often, in milliseconds — not once per page view.
   */
  sessionRefreshMs: setting.int(
    "SESSION_REFRESH_MS",
    (earlier) => defaultSessionRefreshMs(earlier.sessionTtl as number),
    { min: 0, max: 86_400_000, services: FRONTEND },
  ),
  /** KV bucket holding the POST /login and /signup counters every replica shares (plugins/rate-limit.ts). */
  rateLimitBucket: setting.text("RATE_LIMIT_BUCKET", "signet-rate-limits", {
    services: FRONTEND,
    check: bucketName("RATE_LIMIT_BUCKET"),
  }),
  /** Replicas of the session and rate-limit buckets' streams when they are created (1, 3 or 5). */
  sessionBucketReplicas: setting.int("SESSION_BUCKET_REPLICAS", 1, { min: 1, max: 5, services: FRONTEND }),
  /** Secure attribute of the session cookie. */
  cookieSecure: setting.bool("COOKIE_SECURE", true, { dev: false, services: FRONTEND }),
  /** POST /login and POST /signup attempts per client address and minute. */
  loginRateLimit: setting.int("LOGIN_RATE_LIMIT", 20, { min: 1, max: 100_000, services: FRONTEND }),
  signupRateLimit: setting.int("SIGNUP_RATE_LIMIT", 10, { min: 1, max: 100_000, services: FRONTEND }),
  /**
   * The port serving /metrics (plugins/metrics-port.ts), never the public one; 0: none (the
   * default under tests and `npm start`, where several apps share one process).
   */
  metricsPort: setting.int("METRICS_PORT", 9464, { min: 0, max: 65_535, dev: 0, services: FRONTEND }),
  /** Timeout of each data-service call in milliseconds. */
  dataTimeoutMs: setting.int("DATA_TIMEOUT_MS", 10_000, { min: 100, max: 120_000, services: FRONTEND }),
  /** Collect process metrics (code only: one app per process collects them under `npm start`). */
  defaultMetrics: setting.code(true, FRONTEND),
};

export type FrontendConfig = ConfigOf<typeof frontendSettings>;

/** Production mode: everything from the environment, required settings enforced. */
export function loadFrontendConfig(env: Record<string, string | undefined> = process.env): FrontendConfig {
  const config = loadConfig("frontend", frontendSettings, env);
  if (config.metricsPort !== 0 && config.metricsPort === config.port) {
    throw new ConfigError(`frontend: METRICS_PORT must differ from PORT (both ${config.port})`);
  }
  return config;
}

/** The table's defaults for tests and `npm start` (cookies not Secure there); credentials must be given. */
export const frontendConfigDefaults = (
  overrides: Partial<FrontendConfig> &
    Pick<FrontendConfig, "consumerKey" | "consumerSecret" | "sessionSecret">,
): FrontendConfig => configDefaults(frontendSettings, overrides);
