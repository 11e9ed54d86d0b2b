// CSRF protection that needs no stored session (docs/api.md, "CSRF"): @fastify/csrf-protection
// in its cookie mode.
// - The secret lives in its own cookie (signed with SESSION_SECRET, HttpOnly, SameSite=Lax,
//   Secure and `__Host-` prefixed when COOKIE_SECURE), so an anonymous visit to /login or
//   /signup (a person or a crawler) writes nothing to the shared session store.
// - Each token is bound by the library's HMAC (`userInfo`) to who is asking: the session id
//   once signed in, a fixed "anonymous" before. A token from the login page, from another
//   session or from before a login is refused on a signed-in form, and a secret planted in
//   the browser does not let anyone mint tokens for a signed-in session.
import { hkdfSync } from "node:crypto";
import csrfProtection from "@fastify/csrf-protection";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { sessionSecrets } from "./sessions.js";
import type { Views } from "./views.js";

const ANONYMOUS = "anonymous";

/** The cookie holding the CSRF secret (`__Host-` requires Secure, Path=/ and no Domain). */
export const csrfCookieName = (secure: boolean) => (secure ? "__Host-signet.csrf" : "signet.csrf");

/** What tokens are bound to: the session id when signed in, else a fixed marker. */
function csrfUserInfo(request: FastifyRequest): string {
  const session = request.session as FastifyRequest["session"] | null | undefined;
  return session?.user && session.sessionId ? `session:${session.sessionId}` : ANONYMOUS;
}

/** Sends a page with forms: each carries a token for this request (the secret cookie is set when there is none). */
export function sendForm(
  views: Views,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  data: Record<string, unknown>,
  status = 200,
): FastifyReply {
  return views.send(
    reply,
    name,
    { ...data, csrfToken: reply.generateCsrf({ userInfo: csrfUserInfo(request) }) },
    status,
  );
}

/** Decorates app.csrfProtection, the preHandler of every form POST. */
export const csrf = fp(
  async (app) => {
    const secure = app.frontendConfig.cookieSecure;
    const [signing] = sessionSecrets(app.frontendConfig);
    if (!signing) throw new Error("at least one session secret is required");
    // the token HMAC key: derived from the first session secret, never the secret itself
    const hmacKey = Buffer.from(hkdfSync("sha256", signing, "", "signet-frontend csrf token hmac v1", 32));
    await app.register(csrfProtection, {
      sessionPlugin: "@fastify/cookie",
      cookieKey: csrfCookieName(secure),
      // no Max-Age: the secret lasts as long as the browser session (a new one is set when missing)
      cookieOpts: { path: "/", httpOnly: true, sameSite: "lax", secure, signed: true },
      getUserInfo: csrfUserInfo,
      csrfOpts: { hmacKey, userInfo: true },
    });
  },
  { name: "csrf", dependencies: ["sessions"] },
);
