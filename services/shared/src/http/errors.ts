// One error shape for every JSON API: {"error": CODE, "message": TEXT}.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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

/** Installs the JSON error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OAuthError) {
      return send(reply, error.status, error.problem, error.message, {
        "www-authenticate": `OAuth realm="signet", oauth_problem="${error.problem}"`,
      });
    }
    if (error instanceof ApiError) return send(reply, error.status, error.code, error.message, error.headers);
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) return send(reply, 400, "invalid_input", error.message);
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
