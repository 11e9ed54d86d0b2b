// What a failed page request shows (docs/api.md, "Error pages"): a friendly page with the
// right status, or — when the data service refused the user's token — the end of the session
// and /login saying why. Set by app.ts: notFoundPage and errorPage for every route,
// pageErrorHandler in the pages' context (where sessions exist), frameworkErrorPage for what
// Fastify refuses before any route (a URL it cannot decode).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import { sendPage, type PageKind } from "../pages.js";
import { baseHeaders } from "../plugins/security.js";
import { loginUrl, safeNext } from "../safe-next.js";
import { endSession, signedIn } from "../session.js";

type PageError = Error & { statusCode?: number; code?: string; retryAfterSeconds?: number };

/** OAuth problems that mean the user's own token is dead: the session ends, the user logs in again. */
const TOKEN_PROBLEMS = new Set(["token_revoked", "token_expired", "token_rejected"]);

/** Problems that mean the frontend itself (its consumer, its clock, its signing) is refused. */
const CONSUMER_PROBLEMS = new Set([
  "consumer_key_unknown",
  "consumer_key_rejected",
  "signature_invalid",
  "signature_method_rejected",
  "timestamp_refused",
  "nonce_used",
  "parameter_absent",
  "parameter_rejected",
  "version_rejected",
  "body_hash_invalid",
  "insufficient_scope",
]);

export type DataFailure =
  | { kind: "session_ended"; reason: string }
  | { kind: "page"; page: PageKind; retryAfter?: number | undefined };

/**
 * What a failed data-service call means for the browser user. `withToken`: the call carried
 * the session's token. The data service tells a token's state only to a request signed with
 * the token's secret (docs/design.md, "No oracle without a signature"): a token it no longer
 * knows (a database reset) makes a signed-in call fail as signature_invalid, which — the
 * frontend's own consumer being good, or no one could have logged in — ends the session.
 */
export function classifyDataError(error: SignetApiError, withToken = false): DataFailure {
  const problem = error.problem ?? error.code;
  if (TOKEN_PROBLEMS.has(problem)) return { kind: "session_ended", reason: problem };
  if (withToken && problem === "signature_invalid")
    return { kind: "session_ended", reason: "token_rejected" };
  if (error.code === "user_disabled") return { kind: "session_ended", reason: "user_disabled" };
  if (CONSUMER_PROBLEMS.has(problem)) return { kind: "page", page: "misconfigured" };
  if (error.code === "unavailable" || error.status === 503 || error.status === 502 || error.status === 504) {
    return { kind: "page", page: "unavailable", retryAfter: error.retryAfter };
  }
  if (error.status === 429) return { kind: "page", page: "rate_limited", retryAfter: error.retryAfter };
  return { kind: "page", page: "internal" };
}

export function notFoundPage(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
  return sendPage(this.views, request, reply, "not_found");
}

/**
 * Fastify's `frameworkErrors`: a URL it cannot decode (`/%ZZ`, `/%E0%A4%A`) or a route
 * parameter over its length gets the 400 page instead of Fastify's JSON. No request hook has
 * run (no helmet), so the page's security headers are set here.
 */
export function frameworkErrorPage(error: PageError, request: FastifyRequest, reply: FastifyReply) {
  const app = request.server;
  request.log.info({ code: error.code, url: request.url }, "request refused before routing");
  reply.headers(baseHeaders(app.frontendConfig.cookieSecure));
  const clientError = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500;
  return sendPage(app.views, request, reply, clientError ? "bad_request" : "internal");
}

/** Errors outside the data calls: CSRF, rate limits, bad requests, an unreachable session store, bugs. */
export function errorPage(
  this: FastifyInstance,
  error: PageError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const views = this.views;
  if (error.code === "FST_CSRF_INVALID_TOKEN" || error.code === "FST_CSRF_MISSING_SECRET") {
    request.log.warn({ code: error.code }, "form refused: CSRF token missing or invalid");
    return sendPage(views, request, reply, "csrf");
  }
  if (error.statusCode === 429) {
    return sendPage(views, request, reply, "rate_limited", { retryAfter: error.retryAfterSeconds });
  }
  if (error.statusCode === 404) return sendPage(views, request, reply, "not_found");
  if (error.statusCode === 503) {
    request.log.warn({ err: error }, "a backing service is unavailable");
    return sendPage(views, request, reply, "unavailable", { retryAfter: 5 });
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ err: error }, "bad request");
    return sendPage(views, request, reply, "bad_request");
  }
  request.log.error({ err: error }, "unhandled error");
  return sendPage(views, request, reply, "internal");
}

/** A failed page request: a data-service refusal is classified, anything else is an errorPage. */
export async function pageErrorHandler(
  this: FastifyInstance,
  error: PageError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!(error instanceof SignetApiError)) return errorPage.call(this, error, request, reply);
  const failure = classifyDataError(error, typeof signedIn(request) === "object");
  if (failure.kind === "session_ended") {
    request.log.info(
      { reason: failure.reason, request_id: error.requestId },
      "data service refused the session's token; session ended",
    );
    await endSession(request, reply);
    const next = request.method === "GET" ? safeNext(request.url) : "/";
    return reply.redirect(loginUrl(next, failure.reason), 303);
  }
  const level = failure.page === "misconfigured" || failure.page === "internal" ? "error" : "warn";
  request.log[level](
    { err: error, code: error.code, problem: error.problem, status: error.status },
    "data service call failed",
  );
  return sendPage(this.views, request, reply, failure.page, { retryAfter: failure.retryAfter });
}
