// What a session holds, server-side only: the user's public profile and the access token
// with its secret. The cookie carries nothing but the signed session id.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { DataUser, TokenCredentials } from "./data-client.js";

declare module "fastify" {
  interface Session {
    user?: DataUser;
    /** The OAuth access token and its secret (never sent to the browser). */
    auth?: { token: string; secret: string; expiresAt: string };
    /** @fastify/csrf-protection's secret. */
    _csrf?: string;
  }
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

/** Removes the session from the store and the cookie from the browser. */
export async function endSession(
  request: FastifyRequest,
  reply: FastifyReply,
  cookieName: string,
): Promise<void> {
  const session = request.session as FastifyRequest["session"] | null | undefined;
  if (session && typeof session.destroy === "function" && session.sessionId) {
    try {
      await session.destroy();
    } catch (error) {
      request.log.warn({ err: error }, "could not remove the session from the store");
    }
  }
  reply.clearCookie(cookieName, { path: "/" });
}
