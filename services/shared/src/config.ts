// Typed configuration read once from the environment at start-up.
// A service declares what it needs; everything missing is reported in one message.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

export class EnvReader {
  private readonly missing: string[] = [];
  private readonly invalid: string[] = [];
  constructor(private readonly env: Env = process.env) {}

  /** A setting that must be present (production mode) — recorded as missing otherwise. */
  required(name: string): string {
    const value = this.env[name]?.trim();
    if (!value) {
      this.missing.push(name);
      return "";
    }
    return value;
  }

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.invalid.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.optional(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    this.invalid.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  /** Record a validation failure found by the caller. */
  fail(message: string): void {
    this.invalid.push(message);
  }

  /** Throws one ConfigError naming every missing or invalid setting. */
  done(service: string): void {
    const problems: string[] = [];
    if (this.missing.length) problems.push(`missing required setting(s): ${this.missing.join(", ")}`);
    problems.push(...this.invalid);
    if (problems.length) throw new ConfigError(`${service}: ${problems.join("; ")}`);
  }
}

/** TRUST_PROXY as Fastify's trustProxy: true/false, or a comma-separated list of addresses/CIDRs. */
export function readTrustProxy(env: EnvReader): boolean | string {
  const raw = env.optional("TRUST_PROXY");
  if (raw === undefined) return false;
  const lower = raw.toLowerCase();
  if (["1", "true", "yes", "on"].includes(lower)) return true;
  if (["0", "false", "no", "off"].includes(lower)) return false;
  return raw;
}

/** SIGNET_MASTER_KEY, required and checked to be usable (base64 of 32 bytes, older keys after commas). */
export function readMasterKey(env: EnvReader, parse: (value: string) => unknown): string {
  const masterKey = env.required("SIGNET_MASTER_KEY");
  if (masterKey) {
    try {
      parse(masterKey);
    } catch (error) {
      env.fail(`SIGNET_MASTER_KEY is invalid: ${(error as Error).message}`);
    }
  }
  return masterKey;
}

/** Settings every service shares. */
export interface CommonConfig {
  host: string;
  port: number;
  logLevel: string;
  /**
   * SIGNET_DRAIN_DELAY_MS: on SIGTERM, how long /readyz answers 503 before the server stops
   * accepting, so load balancers and Service endpoints stop sending first (runServer).
   */
  drainDelayMs?: number;
}

export function readCommon(
  env: EnvReader,
  defaultPort: number,
  defaults: { drainDelayMs?: number } = {},
): CommonConfig {
  return {
    host: env.string("HOST", "0.0.0.0"),
    port: env.int("PORT", defaultPort, { min: 0, max: 65535 }),
    logLevel: env.string("LOG_LEVEL", "info"),
    drainDelayMs: env.int("SIGNET_DRAIN_DELAY_MS", defaults.drainDelayMs ?? 0, { min: 0, max: 60_000 }),
  };
}
