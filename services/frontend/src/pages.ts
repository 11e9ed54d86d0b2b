// Friendly pages for everything that is not the happy path: what the user sees, and the
// status it is sent with. No stack trace or internal message ever reaches the page.
import type { FastifyReply, FastifyRequest } from "fastify";
import { SignetApiError } from "@signet/shared/client";
import type { Views } from "./views.js";

export type PageKind =
  "not_found" | "csrf" | "rate_limited" | "unavailable" | "misconfigured" | "bad_request" | "internal";

interface PageText {
  status: number;
  heading: string;
  message: string;
  action?: { href: string; label: string };
}

const PAGES: Record<PageKind, PageText> = {
  not_found: {
    status: 404,
    heading: "Page not found",
    message:
      "We looked everywhere, but there is no page at this address. It may have moved, or the link may be mistyped.",
  },
  csrf: {
    status: 403,
    heading: "This form has expired",
    message:
      "For your safety we only accept forms we sent you, and this one arrived without a valid security token (perhaps it was open for a long time, or you signed in elsewhere). Go back, reload the page and try again.",
  },
  rate_limited: {
    status: 429,
    heading: "Too many attempts",
    message: "You have tried that a lot in a short time. Take a short break, then try again.",
  },
  unavailable: {
    status: 503,
    heading: "We can't reach your notes right now",
    message:
      "A service Signet needs is not answering at the moment. Nothing is lost: please try again in a minute.",
  },
  misconfigured: {
    status: 503,
    heading: "Signet is temporarily unavailable",
    message:
      "The data service refused to talk to this site, so we can't sign you in or show your notes right now. The operators have been alerted; please try again later.",
  },
  bad_request: {
    status: 400,
    heading: "We couldn't understand that request",
    message: "Something in the request was not what we expected. Go back and try again.",
  },
  internal: {
    status: 500,
    heading: "Something went wrong",
    message: "An unexpected error happened on our side. It has been logged; please try again in a moment.",
  },
};

export function sendPage(
  views: Views,
  request: FastifyRequest,
  reply: FastifyReply,
  kind: PageKind,
  extra: { retryAfter?: number | undefined } = {},
): FastifyReply {
  const page = PAGES[kind];
  if (extra.retryAfter !== undefined) reply.header("retry-after", String(extra.retryAfter));
  const action =
    page.action ??
    (kind === "csrf" ? { href: "/", label: "Back to Signet" } : { href: "/", label: "Go to your notes" });
  return views.send(
    reply,
    "error",
    {
      title: page.heading,
      heading: page.heading,
      message: page.message,
      statusCode: page.status,
      retryAfter: extra.retryAfter,
      action,
      requestId:
        kind === "internal" || kind === "unavailable" || kind === "misconfigured" ? request.id : undefined,
      showAuthLinks: false,
    },
    page.status,
  );
}

/** OAuth problems that mean the user's own token is dead: the session ends, the user logs in again. */
export const TOKEN_PROBLEMS = new Set(["token_revoked", "token_expired", "token_rejected"]);

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

/** What a failed data-service call means for the browser user. */
export function classifyDataError(error: SignetApiError): DataFailure {
  const problem = error.problem ?? error.code;
  if (TOKEN_PROBLEMS.has(problem)) return { kind: "session_ended", reason: problem };
  if (error.code === "user_disabled") return { kind: "session_ended", reason: "user_disabled" };
  if (CONSUMER_PROBLEMS.has(problem)) return { kind: "page", page: "misconfigured" };
  if (error.code === "unavailable" || error.status === 503 || error.status === 502 || error.status === 504) {
    return { kind: "page", page: "unavailable", retryAfter: error.retryAfter };
  }
  if (error.status === 429) return { kind: "page", page: "rate_limited", retryAfter: error.retryAfter };
  return { kind: "page", page: "internal" };
}

/** Messages shown on /login?reason=… (fixed texts: nothing from the URL is echoed). */
export const LOGIN_REASONS: Record<string, string> = {
  token_revoked: "Your session was ended because your access was revoked. Please log in again.",
  token_expired: "Your session has expired. Please log in again.",
  token_rejected: "Your session is no longer valid. Please log in again.",
  user_disabled: "Your account has been disabled. Contact an administrator if you think this is a mistake.",
  session_expired: "Your session has expired. Please log in again.",
  logged_out: "You have been logged out. See you soon!",
};

export { SignetApiError };
