// pino settings shared by every service: JSON on stdout, pretty only on a TTY,
// secrets redacted, request ids kept from x-request-id.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import { symbols, type Bindings, type ChildLoggerOptions, type LoggerOptions } from "pino";

const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "headers.authorization",
  "headers.cookie",
  "*.password",
  "*.secret",
  "*.token_secret",
  "*.consumer_secret",
  "*.secret_sealed",
  "*.password_hash",
  "password",
  "secret",
];

function loggerOptions(level: string, name: string): LoggerOptions {
  const options: LoggerOptions = {
    level,
    name,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  if (process.stdout.isTTY && !process.env.CI) {
    options.transport = {
      target: "pino-pretty",
      options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
    };
  }
  return options;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a well-formed incoming x-request-id, otherwise makes a new one. */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * How an app builder's `logger` option becomes Fastify's: false is silent; true or
 * undefined the shared defaults; a pino logger is used as it is; any other object is
 * pino options merged over the defaults (a `stream` replaces the pretty transport).
 */
function chooseLogger(
  base: LoggerOptions,
  logger: boolean | object | undefined,
): { logger: boolean | LoggerOptions } | { loggerInstance: FastifyBaseLogger } {
  if (logger === false) return { logger: false };
  if (logger === undefined || logger === true) return { logger: base };
  const candidate = logger as { child?: unknown; info?: unknown };
  if (typeof candidate.child === "function" && typeof candidate.info === "function") {
    return { loggerInstance: logger as FastifyBaseLogger };
  }
  const merged: Record<string, unknown> = { ...base, ...logger };
  if ("stream" in logger) delete merged.transport;
  return { logger: merged as LoggerOptions };
}

/**
 * Fastify's per-request child logger, `{ reqId }` bound, made without pino's redaction pass
 * over the binding. pino serialises a child's bindings through the wildcard redactor when a
 * redact path starts with `*` (ours do), and that redactor parses its paths on every call:
 * about 3 KB of garbage and 2 µs per request. A request id is a string (`requestId` above
 * or Fastify's counter), never a secret, so it is bound as JSON directly; any other binding
 * or option (a route's logLevel or logSerializers) takes pino's own path.
 */
function requestChildLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) {
  const keys = Object.keys(bindings);
  const parent = (logger as unknown as Record<symbol, unknown>)[symbols.chindingsSym];
  const id: unknown = bindings.reqId;
  if (
    keys.length !== 1 ||
    typeof id !== "string" ||
    typeof parent !== "string" ||
    Object.keys(opts).length > 0
  )
    return logger.child(bindings, opts);
  const child = logger.child({});
  (child as unknown as Record<symbol, unknown>)[symbols.chindingsSym] =
    `${parent},"reqId":${JSON.stringify(id)}`;
  return child;
}

/** How an app builder's caller asks for logs: false silent, pino options, or a pino logger. */
export type LoggerChoice = boolean | object | undefined;

/**
 * Fastify server options every service starts from: its pino logger (named, redacted, at
 * `level`; `logger` as chooseLogger reads it) and request ids; `extra` adds the service's own.
 */
export function serverOptions<E extends object>(name: string, level: string, logger: LoggerChoice, extra: E) {
  const base = loggerOptions(level, name);
  return {
    ...chooseLogger(base, logger),
    genReqId: requestId,
    childLoggerFactory: requestChildLogger,
    requestIdHeader: false as const,
    ...extra,
  };
}
