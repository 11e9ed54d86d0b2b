// A request's session, as the routes see it: who is signed in, starting a session at login
// (under a new id: no fixation) and ending it at logout or when the data service refuses the
// token. The cookie carries nothing but the signed session id; what a session holds is
// declared in plugins/sessions.ts.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { DataUser, LoginResult, TokenCredentials } from "./plugins/data-client.js";
import { csrfCookieName } from "./plugins/csrf.js";
import { sessionCookieName } from "./plugins/sessions.js";
import { loginUrl } from "./safe-next.js";

export interface SignedIn {
  user: DataUser;
  token: TokenCredentials;
}

/** The signed-in user, or why there is none ("none" or "expired"). */
export function signedIn(request: FastifyRequest): SignedIn | "none" | "expired" {
  const session = request.session;
  if (!session || !session.user || !session.auth) return "none";
  const expiresAt = Date.parse(session.auth.expiresAt);
  if (Number.isFinite(expiresAt) && expiresAt <= Date.now()) return "expired";
  return { user: session.user, token: { key: session.auth.token, secret: session.auth.secret } };
}

/**
 * The signed-in user, or undefined after sending the browser to /login (ending an expired
 * session first), to come back to `next` (the page asked for: GET; the home page after a form).
 */
export async function requireUser(
  request: FastifyRequest,
  reply: FastifyReply,
  next = "/",
): Promise<SignedIn | undefined> {
  const state = signedIn(request);
  if (state === "none") {
    await reply.redirect(loginUrl(next), request.method === "GET" ? 302 : 303);
    return undefined;
  }
  if (state === "expired") {
    await endSession(request, reply);
    await reply.redirect(loginUrl(next, "session_expired"), 303);
    return undefined;
  }
  return state;
}

/**
 * Gives the request's session a new id unless it provably has one already. A session loaded
 * from the store under the id the browser presented is regenerated (new id, the old one
 * destroyed): no fixation. An anonymous visitor's session was made for this request
 * (saveUninitialized: false), so its id was never stored nor sent and is new already;
 * regenerating it would only write a purge marker into the bucket for a key that never existed.
 * In doubt (a cookie this check cannot read), it regenerates.
 */
async function ensureFreshSessionId(request: FastifyRequest, cookieName: string): Promise<void> {
  const presented = request.cookies[cookieName];
  if (presented) {
    const unsigned = request.unsignCookie(presented);
    if (!unsigned.valid || unsigned.value === request.session.sessionId) {
      await request.session.regenerate();
    }
  }
}

/**
 * Starts the session (a new id: no fixation) of a user the data service just authenticated:
 * the first one stored for this browser. The anonymous CSRF secret is dropped too.
 */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  login: LoginResult,
  timeZone?: string,
): Promise<void> {
  const secure = request.server.frontendConfig.cookieSecure;
  await ensureFreshSessionId(request, sessionCookieName(secure));
  request.session.user = {
    id: login.user.id,
    username: login.user.username,
    display_name: login.user.display_name,
  };
  request.session.auth = { token: login.token, secret: login.secret, expiresAt: login.expires_at };
  if (timeZone !== undefined) request.session.timeZone = timeZone;
  request.session.refreshedAt = Date.now(); // written now; the next refresh is due an interval later
  expireCookie(reply, csrfCookieName(secure), secure);
}

/**
 * A new session id for a signed-in session, keeping what it holds (after a password change:
 * whoever learnt the old id loses it). The CSRF tokens are bound to the id: forms are sent anew.
 */
export async function renewSessionId(request: FastifyRequest): Promise<void> {
  await request.session.regenerate(["user", "auth", "timeZone", "refreshedAt"]);
}

/**
 * Removes the session from the store, and the session and CSRF cookies from the browser (the
 * next form gets a fresh CSRF secret: none spans a sign-in boundary).
 */
export async function endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const session = request.session as FastifyRequest["session"] | null | undefined;
  if (session && typeof session.destroy === "function" && session.sessionId) {
    try {
      await session.destroy();
    } catch (error) {
      request.log.warn({ err: error }, "could not remove the session from the store");
    }
  }
  const secure = request.server.frontendConfig.cookieSecure;
  expireCookie(reply, sessionCookieName(secure), secure);
  expireCookie(reply, csrfCookieName(secure), secure);
}

/** Expires a page cookie (a `__Host-` cookie is only replaced by one that is Secure too). */
function expireCookie(reply: FastifyReply, name: string, secure: boolean): void {
  reply.clearCookie(name, { path: "/", httpOnly: true, sameSite: "lax", secure });
}
