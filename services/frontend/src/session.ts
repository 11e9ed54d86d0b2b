// What a session holds, server-side only: the user's public profile and the access token
// with its secret. The cookie carries nothing but the signed session id. Only signed-in
// users have a stored session (the CSRF secret lives in its own cookie: see csrf.ts).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { DataUser, TokenCredentials } from "./data-client.js";

declare module "fastify" {
  interface Session {
    user?: DataUser;
    /** The OAuth access token and its secret (never sent to the browser). */
    auth?: { token: string; secret: string; expiresAt: string };
    /** When the session was last written to the store (ms since the epoch): see refreshIfDue. */
    refreshedAt?: number;
  }
}

/**
 * Sliding expiry without a store write per page view (@fastify/session's `rolling` would
 * re-save the session, a KV put, on every response): a signed-in session is marked modified
 * — so saved, with a new TTL in the bucket and a new cookie expiry — at most once per
 * `intervalMs`. It can therefore expire up to `intervalMs` earlier than a strictly rolling one.
 */
export function refreshIfDue(request: FastifyRequest, intervalMs: number, now = Date.now()): void {
  const session = request.session as FastifyRequest["session"] | undefined;
  if (!session?.user) return;
  if (session.refreshedAt === undefined || now - session.refreshedAt >= intervalMs) session.refreshedAt = now;
}

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
 * Gives the request's session a new id unless it provably has one already. A session loaded
 * from the store under the id the browser presented is regenerated (new id, the old one
 * destroyed): no fixation. An anonymous visitor's session was made for this request
 * (saveUninitialized: false), so its id was never stored nor sent and is new already;
 * regenerating it would only write a purge marker into the bucket for a key that never existed.
 * In doubt (a cookie this check cannot read), it regenerates.
 */
export async function ensureFreshSessionId(request: FastifyRequest, cookieName: string): Promise<void> {
  const presented = request.cookies[cookieName];
  if (presented) {
    const unsigned = request.unsignCookie(presented);
    if (!unsigned.valid || unsigned.value === request.session.sessionId) {
      await request.session.regenerate();
    }
  }
}

/** The page cookies: the session id, the CSRF secret, and whether both are Secure. */
export interface PageCookies {
  session: string;
  csrf: string;
  secure: boolean;
}

/**
 * Removes the session from the store, and the session and CSRF cookies from the browser (the
 * next form gets a fresh CSRF secret: none spans a sign-in boundary).
 */
export async function endSession(
  request: FastifyRequest,
  reply: FastifyReply,
  cookies: PageCookies,
): Promise<void> {
  const session = request.session as FastifyRequest["session"] | null | undefined;
  if (session && typeof session.destroy === "function" && session.sessionId) {
    try {
      await session.destroy();
    } catch (error) {
      request.log.warn({ err: error }, "could not remove the session from the store");
    }
  }
  expireCookie(reply, cookies.session, cookies.secure);
  expireCookie(reply, cookies.csrf, cookies.secure);
}

/** Expires a page cookie (a `__Host-` cookie is only replaced by one that is Secure too). */
export function expireCookie(reply: FastifyReply, name: string, secure: boolean): void {
  reply.clearCookie(name, { path: "/", httpOnly: true, sameSite: "lax", secure });
}
