// Friendly pages for everything that is not the happy path (docs/api.md, "Error pages"): what
// the user sees, and the status it is sent with. No stack trace or internal message ever
// reaches the page.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Views } from "./plugins/views.js";

export type PageKind =
  "not_found" | "csrf" | "rate_limited" | "unavailable" | "misconfigured" | "bad_request" | "internal";

interface PageText {
  status: number;
  heading: string;
  message: string;
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
    kind === "csrf" ? { href: "/", label: "Back to Signet" } : { href: "/", label: "Go to your notes" };
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

/** Messages shown on /login?reason=… (fixed texts: nothing from the URL is echoed). */
export const LOGIN_REASONS: Record<string, string> = {
  token_revoked: "Your session was ended because your access was revoked. Please log in again.",
  token_expired: "Your session has expired. Please log in again.",
  token_rejected: "Your session is no longer valid. Please log in again.",
  user_disabled: "Your account has been disabled. Contact an administrator if you think this is a mistake.",
  session_expired: "Your session has expired. Please log in again.",
  logged_out: "You have been logged out. See you soon!",
  signed_out_everywhere: "You have been signed out everywhere: on this device and on every other one.",
};
