// One error shape for every JSON API (data, registry): {"error": CODE, "message": TEXT}
// (docs/api.md, "Error shape"), for errors thrown anywhere, for unknown routes, for what
// Fastify refuses before routing (a URL that does not decode) and for query strings that
// break the parameter rules (oauth/parameters.ts).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseParameters } from "../oauth/parameters.js";
import { OAuthError } from "../oauth/types.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what = "resource") => new ApiError(404, "not_found", `${what} not found`);
export const invalidInput = (message: string) => new ApiError(400, "invalid_input", message);
export const unavailable = (message = "a backing service is unavailable, try again shortly") =>
  new ApiError(503, "unavailable", message);

/** Errors that mean the database (or another backing service) cannot be reached. */
function isUnavailableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as Error | null)?.message ?? "");
  return (
    (typeof code === "string" &&
      ([
        "ECONNREFUSED",
        "ECONNRESET",
        "ETIMEDOUT",
        "EPIPE",
        "ENOTFOUND",
        "EHOSTUNREACH",
        "57P01",
        "57P03",
        "53300",
      ].includes(code) ||
        code.startsWith("08"))) ||
    /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(
      message,
    )
  );
}

/**
 * PostgreSQL "data exception" codes that mean the value sent cannot be stored or compared
 * — bad input that slipped past a schema, not a fault: 22021 invalid byte sequence (NUL in
 * text), 22P05 untranslatable character (\u0000 in jsonb), 22P02 invalid text
 * representation, 22001 too long, 22003 out of range, 22007/22008 bad date or time.
 */
const BAD_VALUE_CODES = new Set(["22021", "22P05", "22P02", "22001", "22003", "22007", "22008"]);

function isBadValueError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && BAD_VALUE_CODES.has(code);
}

function send(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  return reply
    .code(status)
    .headers(headers)
    .type("application/json; charset=utf-8")
    .send({ error: code, message });
}

const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: "the request URL cannot be percent-decoded",
  FST_ERR_MAX_PARAM_LENGTH: "a path segment is longer than the router accepts",
};

/**
 * The `frameworkErrors` server option of the JSON APIs: what Fastify refuses before any
 * route or hook runs — a URL that cannot be percent-decoded (`/%ZZ`), a path parameter
 * over the router's limit — answered in the error shape instead of Fastify's own.
 */
export function jsonFrameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (status >= 500) return send(reply, 500, "internal", "internal error");
  // Fastify's messages quote the path: answer with our own words instead.
  const message = FRAMEWORK_MESSAGES[error.code] ?? "the request URL cannot be read";
  return send(reply, status, "invalid_input", message);
}

/**
 * Installs the JSON error and not-found handlers, and refuses, before anything else reads
 * it, a query string that breaks the parameter rules (oauth/parameters.ts): 400 invalid_input.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    const url = request.url;
    const start = url.indexOf("?");
    if (start < 0 || start === url.length - 1) return;
    const { refused } = parseParameters(url.slice(start + 1), { checkValues: true });
    if (refused !== undefined) throw invalidInput(refused);
  });
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OAuthError) {
      return send(reply, error.status, error.problem, error.message, {
        "www-authenticate": `OAuth realm="signet", oauth_problem="${error.problem}"`,
      });
    }
    if (error instanceof ApiError) return send(reply, error.status, error.code, error.message, error.headers);
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) return send(reply, 400, "invalid_input", error.message);
    if (isBadValueError(error)) {
      request.log.info({ err: error }, "the database refused a value: answered as invalid input");
      return send(reply, 400, "invalid_input", "a value cannot be stored (invalid characters or encoding)");
    }
    if (fastifyError.statusCode === 429) {
      return send(reply, 429, "rate_limited", "too many requests, slow down");
    }
    if (isUnavailableError(error)) {
      request.log.warn({ err: error }, "backing service unavailable");
      return send(reply, 503, "unavailable", "a backing service is unavailable, try again shortly", {
        "retry-after": "1",
      });
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: bad JSON, body too large, unsupported media type…
      return send(reply, status, "invalid_input", error.message);
    }
    request.log.error({ err: error }, "unhandled error");
    return send(reply, 500, "internal", "internal error");
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, "not_found", `no route for ${request.method} ${request.url.split("?")[0]}`),
  );
}
