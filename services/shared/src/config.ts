// Configuration as one declarative table per service. Each setting is written once —
// environment name, how its text is parsed (type and bounds), its production default, the
// default under tests and `npm start` where that differs, and which services read it — and
// both the production loader (`loadConfig`) and the defaults tests and `npm start` build on
// (`configDefaults`) derive from the same table. A loader names every problem at once.
// The settings more than one service reads are defined here (`common`); each service's
// config.ts lists the rest. The tables are documented in docs/api.md, "Environment".
import { Keyring } from "./crypto.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;
export type ServiceName = "data" | "registry" | "frontend";

/** One setting of a table. `T` is its parsed value. */
export interface Setting<T> {
  /** The environment variable; undefined for a value only code sets (never read from the environment). */
  env?: string;
  /** The text, trimmed and non-empty, turned into the value; call `fail` (and return anything) when it is invalid. */
  parse: (raw: string, fail: (problem: string) => void) => T;
  /** Production: a missing value is a problem named by the loader. */
  required?: boolean;
  /** The value when the variable is absent; a function may read settings listed before it. */
  default?: T | ((earlier: Record<string, unknown>) => T);
  /** The value under tests and `npm start`, where it differs from `default`. */
  dev?: T | ((earlier: Record<string, unknown>) => T);
  /** Which services read it (docs/api.md lists them). */
  services: readonly ServiceName[];
}

export type Table = Record<string, Setting<unknown>>;
export type ConfigOf<T extends Table> = { [K in keyof T]: T[K] extends Setting<infer V> ? V : never };

type Bounds = { min?: number; max?: number };
type Extra<T> = Pick<Setting<T>, "required" | "dev" | "services">;

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

function intParser(env: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: Bounds) {
  return (raw: string, fail: (problem: string) => void): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      fail(`${env} must be an integer between ${min} and ${max} (got "${raw}")`);
    }
    return value;
  };
}

/** A text setting's own rule: a problem to report, or undefined when the value is fine. */
type Checked = { check?: (value: string) => string | undefined };

const checkedText =
  (check: Checked["check"]) =>
  (raw: string, fail: (problem: string) => void): string => {
    const problem = check?.(raw);
    if (problem) fail(problem);
    return raw;
  };

/** Setting builders: `int`, `bool`, `text`, `optional` and `custom` for anything else. */
export const setting = {
  int(
    env: string,
    fallback: number | ((earlier: Record<string, unknown>) => number),
    options: Bounds & Extra<number>,
  ): Setting<number> {
    const { min, max, ...extra } = options;
    return { env, parse: intParser(env, { min, max }), default: fallback, ...extra };
  },
  bool(env: string, fallback: boolean, extra: Extra<boolean>): Setting<boolean> {
    return {
      env,
      parse: (raw, fail) => {
        const lower = raw.toLowerCase();
        if (TRUE.includes(lower)) return true;
        if (!FALSE.includes(lower)) fail(`${env} must be true or false (got "${raw}")`);
        return false;
      },
      default: fallback,
      ...extra,
    };
  },
  /** A string with a default, or required (production) when `fallback` is undefined. */
  text(env: string, fallback: string | undefined, extra: Extra<string> & Checked): Setting<string> {
    const { check, ...rest } = extra;
    return {
      env,
      parse: checkedText(check),
      ...(fallback === undefined ? { required: true } : { default: fallback }),
      ...rest,
    };
  },
  /** A string that may be absent; `required` makes it required in production only (tests may leave it out). */
  optional(env: string, extra: Extra<string | undefined> & Checked): Setting<string | undefined> {
    const { check, ...rest } = extra;
    return { env, parse: checkedText(check), default: undefined, ...rest };
  },
  custom<T>(definition: Setting<T>): Setting<T> {
    return definition;
  },
  /** A value only code sets (never read from the environment), e.g. by `npm start`. */
  code<T>(fallback: T, services: readonly ServiceName[]): Setting<T> {
    return { parse: () => fallback, default: fallback, services };
  },
};

/** Reads a table from the environment (production mode); throws one ConfigError naming every problem. */
export function loadConfig<T extends Table>(service: string, table: T, env: Env = process.env): ConfigOf<T> {
  const missing: string[] = [];
  const invalid: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const raw = spec.env ? env[spec.env]?.trim() : undefined;
    if (raw) {
      let failed = false;
      const value = spec.parse(raw, (problem) => {
        failed = true;
        invalid.push(problem);
      });
      if (!failed) {
        config[key] = value;
        continue;
      }
    } else if (spec.required) {
      missing.push(spec.env ?? key);
    }
    config[key] = valueOf(spec.default, config);
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`missing required setting(s): ${missing.join(", ")}`);
  problems.push(...invalid);
  if (problems.length) throw new ConfigError(`${service}: ${problems.join("; ")}`);
  return config as ConfigOf<T>;
}

/**
 * The table's values without the environment: `dev` (else `default`) for each setting not
 * in `overrides`, derived defaults computed from the overridden values. For tests and
 * `npm start`.
 */
export function configDefaults<T extends Table>(table: T, overrides: Partial<ConfigOf<T>> = {}): ConfigOf<T> {
  const config: Record<string, unknown> = {};
  const given = overrides as Record<string, unknown>;
  for (const [key, spec] of Object.entries(table)) {
    config[key] = key in given ? given[key] : valueOf("dev" in spec ? spec.dev : spec.default, config);
  }
  return config as ConfigOf<T>;
}

function valueOf<T>(value: T | ((earlier: Record<string, unknown>) => T), earlier: Record<string, unknown>) {
  return typeof value === "function" ? (value as (e: Record<string, unknown>) => T)(earlier) : value;
}

/** Fastify's trustProxy: true/false, addresses/CIDRs, or a function of (address, hop). */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/**
 * Fastify's trustProxy for `hops` proxies in front (what Fastify does with a number, which
 * its types do not declare): the socket's peer and the nearest hops-1 forwarded addresses
 * are proxies, the next one to the left is the client.
 */
export const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/**
 * TRUST_PROXY as Fastify's trustProxy: a whole number is the count of proxy hops in front
 * (their X-Forwarded-For entries are believed, from the right; 0 none: false), else a
 * boolean word (true: every entry, so the client picks its own address) or a
 * comma-separated list of proxy addresses/CIDRs.
 */
function parseTrustProxy(raw: string): TrustProxy {
  if (/^\d{1,3}$/.test(raw)) return Number(raw) === 0 ? false : trustHops(Number(raw));
  const lower = raw.toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  return raw;
}

const ALL: readonly ServiceName[] = ["data", "registry", "frontend"];
const BACKEND: readonly ServiceName[] = ["data", "registry"];

/** The settings more than one service reads; a service's table spreads the ones it uses. */
export const common = {
  host: setting.text("HOST", "0.0.0.0", { dev: "127.0.0.1", services: ALL }),
  port: (fallback: number) => setting.int("PORT", fallback, { min: 0, max: 65_535, services: ALL }),
  logLevel: setting.text("LOG_LEVEL", "info", { services: ALL }),
  /**
   * SIGNET_DRAIN_DELAY_MS: on SIGTERM, how long /readyz answers 503 before the server stops
   * accepting, so load balancers and Service endpoints stop sending first (runServer).
   */
  drainDelayMs: (fallback: number) =>
    setting.int("SIGNET_DRAIN_DELAY_MS", fallback, { min: 0, max: 60_000, services: ALL }),
  /** Production needs it; tests and `npm start` may hand the app a database instead. */
  databaseUrl: setting.optional("DATABASE_URL", { required: true, services: BACKEND }),
  /** Comma-separated server list; production needs it. */
  natsUrl: setting.optional("NATS_URL", { required: true, services: ALL }),
  /** NATS credentials (all optional: an open NATS works without them). */
  natsUser: setting.optional("NATS_USER", { services: ALL }),
  natsPassword: setting.optional("NATS_PASSWORD", { services: ALL }),
  /** A NATS .creds file (JWT + nkey seed), instead of user and password. */
  natsCreds: setting.optional("NATS_CREDS", { services: ALL }),
  /** SIGNET_MASTER_KEY parsed: base64 of 32 bytes, the sealing key first, older ones after commas. */
  keyring: setting.custom<Keyring>({
    env: "SIGNET_MASTER_KEY",
    required: true,
    parse: (raw, fail) => {
      try {
        return Keyring.fromEnv(raw);
      } catch (error) {
        fail(`SIGNET_MASTER_KEY is invalid: ${(error as Error).message}`);
        return undefined as unknown as Keyring;
      }
    },
    services: BACKEND,
  }),
  /** Fastify's trustProxy: proxy hops (a number), true/false, or a comma-separated list of addresses/CIDRs. */
  trustProxy: setting.custom<TrustProxy>({
    env: "TRUST_PROXY",
    parse: parseTrustProxy,
    default: false,
    services: ["data", "frontend"],
  }),
};

/** What runServer needs of every service's config. */
export interface ServerConfig {
  host: string;
  port: number;
  drainDelayMs: number;
}

/** NATS_URL and its credentials: every service spreads these four into its table. */
export const natsSettings = {
  natsUrl: common.natsUrl,
  natsUser: common.natsUser,
  natsPassword: common.natsPassword,
  natsCreds: common.natsCreds,
};

/** The NATS credentials of a config that spreads natsSettings. */
export const natsAuthOf = (config: {
  natsUser: string | undefined;
  natsPassword: string | undefined;
  natsCreds: string | undefined;
}) => ({ user: config.natsUser, password: config.natsPassword, credsFile: config.natsCreds });
