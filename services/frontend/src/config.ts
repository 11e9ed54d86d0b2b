// The frontend's settings, read once from the environment and typed.
// Production mode (`npm run start:frontend`) needs SESSION_SECRET, SIGNET_CONSUMER_KEY,
// SIGNET_CONSUMER_SECRET, DATA_URL and NATS_URL; every missing one is named in one ConfigError.
import { EnvReader, readCommon, readTrustProxy, type CommonConfig } from "@signet/shared/config";

export interface RateLimitSetting {
  /** Attempts allowed per client address and window. */
  max: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

export interface FrontendConfig extends CommonConfig {
  /** Base URL of the data service (DATA_URL). */
  dataUrl: string;
  /** The frontend's own consumer credentials. */
  consumerKey: string;
  consumerSecret: string;
  /** Signs the session cookie; at least 32 characters. Comma-separated: the first signs, all verify (rotation). */
  sessionSecret: string;
  /** NATS server list; sessions live in a JetStream KV bucket there. Optional only when a store or bus is passed in. */
  natsUrl?: string;
  /** KV bucket holding sessions (SESSION_BUCKET). */
  sessionBucket: string;
  /** Session lifetime in seconds (SESSION_TTL); also the bucket's TTL. */
  sessionTtl: number;
  /**
   * A signed-in session's expiry slides with use, but it is written back to the bucket (and
   * its cookie re-issued) at most this often, in milliseconds (SESSION_REFRESH_MS; default
   * the smaller of 5 minutes and a tenth of the lifetime) — not once per page view.
   */
  sessionRefreshMs?: number;
  /** Replicas of the session bucket's stream when it is created (SESSION_BUCKET_REPLICAS: 1, 3 or 5). */
  sessionBucketReplicas: number;
  /** Secure attribute of the session cookie (COOKIE_SECURE). */
  cookieSecure: boolean;
  /** Fastify's trustProxy (TRUST_PROXY): true/false, or a comma-separated list of addresses/CIDRs. */
  trustProxy: boolean | string;
  /** POST /login attempts per client address (LOGIN_RATE_LIMIT per minute). */
  loginRateLimit: RateLimitSetting;
  /** POST /signup attempts per client address (SIGNUP_RATE_LIMIT per minute). */
  signupRateLimit: RateLimitSetting;
  /** Timeout of each data-service call in milliseconds (DATA_TIMEOUT_MS). */
  dataTimeoutMs: number;
  /** Collect process metrics (off in tests that build many apps). */
  defaultMetrics: boolean;
}

export const FRONTEND_DEFAULT_PORT = 4444;

/** The smaller of 5 minutes and a tenth of the session lifetime (seconds), in milliseconds. */
export function defaultSessionRefreshMs(sessionTtlSeconds: number): number {
  return Math.min(5 * 60_000, sessionTtlSeconds * 100);
}
export const DEFAULT_SESSION_BUCKET = "signet-sessions";

/** Defaults for everything but credentials; used by tests and `npm start` (cookies not Secure there). */
export function frontendConfigDefaults(
  overrides: Partial<FrontendConfig> &
    Pick<FrontendConfig, "consumerKey" | "consumerSecret" | "sessionSecret">,
): FrontendConfig {
  return {
    host: "127.0.0.1",
    port: FRONTEND_DEFAULT_PORT,
    logLevel: "info",
    dataUrl: "http://127.0.0.1:8000",
    sessionBucket: DEFAULT_SESSION_BUCKET,
    sessionTtl: 28_800,
    sessionBucketReplicas: 1,
    cookieSecure: false,
    trustProxy: false,
    loginRateLimit: { max: 20, windowMs: 60_000 },
    signupRateLimit: { max: 10, windowMs: 60_000 },
    dataTimeoutMs: 10_000,
    defaultMetrics: true,
    ...overrides,
  };
}

const BUCKET_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Production mode: everything from the environment, required settings enforced. */
export function loadFrontendConfig(env: Record<string, string | undefined> = process.env): FrontendConfig {
  const read = new EnvReader(env);
  const common = readCommon(read, FRONTEND_DEFAULT_PORT, { drainDelayMs: 2_000 });
  const sessionSecret = read.required("SESSION_SECRET");
  const consumerKey = read.required("SIGNET_CONSUMER_KEY");
  const consumerSecret = read.required("SIGNET_CONSUMER_SECRET");
  const dataUrl = read.required("DATA_URL");
  const natsUrl = read.required("NATS_URL");
  if (sessionSecret && sessionSecret.split(",").some((s) => s.trim().length < 32)) {
    read.fail("SESSION_SECRET must be at least 32 characters");
  }
  if (dataUrl) {
    try {
      const url = new URL(dataUrl);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    } catch {
      read.fail(`DATA_URL must be an http(s) URL (got "${dataUrl}")`);
    }
  }
  const sessionBucket = read.string("SESSION_BUCKET", DEFAULT_SESSION_BUCKET);
  if (!BUCKET_RE.test(sessionBucket)) read.fail("SESSION_BUCKET may hold only letters, digits, '-' and '_'");
  const sessionTtl = read.int("SESSION_TTL", 28_800, { min: 60, max: 30 * 86_400 });
  const config: FrontendConfig = {
    ...common,
    dataUrl,
    consumerKey,
    consumerSecret,
    sessionSecret,
    natsUrl,
    sessionBucket,
    sessionTtl,
    sessionRefreshMs: read.int("SESSION_REFRESH_MS", defaultSessionRefreshMs(sessionTtl), {
      min: 0,
      max: 86_400_000,
    }),
    sessionBucketReplicas: read.int("SESSION_BUCKET_REPLICAS", 1, { min: 1, max: 5 }),
    cookieSecure: read.bool("COOKIE_SECURE", true),
    trustProxy: readTrustProxy(read),
    loginRateLimit: { max: read.int("LOGIN_RATE_LIMIT", 20, { min: 1, max: 100_000 }), windowMs: 60_000 },
    signupRateLimit: { max: read.int("SIGNUP_RATE_LIMIT", 10, { min: 1, max: 100_000 }), windowMs: 60_000 },
    dataTimeoutMs: read.int("DATA_TIMEOUT_MS", 10_000, { min: 100, max: 120_000 }),
    defaultMetrics: true,
  };
  read.done("frontend");
  return config;
}
