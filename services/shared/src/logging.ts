// pino settings shared by every service: JSON on stdout, pretty only on a TTY,
// secrets redacted, request ids kept from x-request-id.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import type { LoggerOptions } from "pino";

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
    requestIdHeader: false as const,
    ...extra,
  };
}
