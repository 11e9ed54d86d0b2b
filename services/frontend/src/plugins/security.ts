// Security headers (docs/api.md, "Headers"): a Content Security Policy under which no script
// may run at all (the site works without JavaScript), HSTS and upgrade-insecure-requests
// when cookies are Secure, no framing, same-origin referrers. Helmet sets them on every
// response that goes through the routes; `baseHeaders` are the same headers for the one page
// sent outside them (a URL Fastify cannot decode: routes/errors.ts, frameworkErrorPage).
// Helmet's middleware is built once, here: @fastify/helmet rebuilt it — re-parsing the CSP
// and every option — on each request, 14 KB of garbage per page view (README,
// "Performance").
import fp from "fastify-plugin";
import helmet from "helmet";

const HSTS_MAX_AGE = 31_536_000;

/** The CSP directives, in helmet's form. */
function cspDirectives(secure: boolean): Record<string, string[]> {
  return {
    defaultSrc: ["'none'"],
    scriptSrc: ["'none'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
    ...(secure ? { upgradeInsecureRequests: [] } : {}),
  };
}

/** The essential headers of a page sent without the request hooks (so without helmet). */
export function baseHeaders(secure: boolean): Record<string, string> {
  const csp = Object.entries(cspDirectives(secure))
    .map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...values].join(" "))
    .join(";");
  return {
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    ...(secure ? { "strict-transport-security": `max-age=${HSTS_MAX_AGE}; includeSubDomains` } : {}),
  };
}

export const security = fp(
  async (app) => {
    const secure = app.frontendConfig.cookieSecure;
    const setHeaders = helmet({
      contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(secure) },
      hsts: secure ? { maxAge: HSTS_MAX_AGE, includeSubDomains: true } : false,
      referrerPolicy: { policy: "same-origin" },
      crossOriginEmbedderPolicy: false,
      xFrameOptions: { action: "deny" },
    });
    app.addHook("onRequest", (request, reply, done) =>
      setHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)),
    );
  },
  { name: "security" },
);
