// CSRF protection that needs no stored session: @fastify/csrf-protection in its cookie mode.
// - The secret lives in its own cookie (signed with SESSION_SECRET, HttpOnly, SameSite=Lax,
//   Secure and `__Host-` prefixed when COOKIE_SECURE), so an anonymous visit to /login or
//   /signup (a person or a crawler) writes nothing to the shared session store.
// - Each token is bound by the library's HMAC (`userInfo`) to who is asking: the session id
//   once signed in, a fixed "anonymous" before. A token from the login page, from another
//   session or from before a login is refused on a signed-in form, and a secret planted in
//   the browser does not let anyone mint tokens for a signed-in session.
import { hkdfSync } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import csrf from "@fastify/csrf-protection";

const ANONYMOUS = "anonymous";

/** The cookie holding the CSRF secret (`__Host-` requires Secure, Path=/ and no Domain). */
export function csrfCookieName(secure: boolean): string {
  return secure ? "__Host-signet.csrf" : "signet.csrf";
}

/** What tokens are bound to: the session id when signed in, else a fixed marker. */
export function csrfUserInfo(request: FastifyRequest): string {
  const session = request.session as FastifyRequest["session"] | null | undefined;
  return session?.user && session.sessionId ? `session:${session.sessionId}` : ANONYMOUS;
}

/** A token for a form on the page being rendered (sets the secret cookie when there is none). */
export function csrfToken(request: FastifyRequest, reply: FastifyReply): string {
  return reply.generateCsrf({ userInfo: csrfUserInfo(request) });
}

/**
 * Registers @fastify/csrf-protection in cookie mode. Needs @fastify/cookie registered with the
 * session secrets (the secret cookie is signed) and @fastify/session (tokens bind to its id).
 */
export async function registerCsrf(
  app: FastifyInstance,
  options: { sessionSecrets: string[]; secure: boolean },
): Promise<void> {
  const [signing] = options.sessionSecrets;
  if (!signing) throw new Error("at least one session secret is required");
  // the token HMAC key: derived from the first session secret, never the secret itself
  const hmacKey = Buffer.from(hkdfSync("sha256", signing, "", "signet-frontend csrf token hmac v1", 32));
  await app.register(csrf, {
    sessionPlugin: "@fastify/cookie",
    cookieKey: csrfCookieName(options.secure),
    // no Max-Age: the secret lasts as long as the browser session (a new one is set when missing)
    cookieOpts: { path: "/", httpOnly: true, sameSite: "lax", secure: options.secure, signed: true },
    getUserInfo: csrfUserInfo,
    csrfOpts: { hmacKey, userInfo: true },
  });
}
