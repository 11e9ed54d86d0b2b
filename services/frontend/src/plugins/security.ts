// Security headers (docs/api.md, "Headers"): a Content Security Policy under which no script
// may run at all (the site works without JavaScript), HSTS and upgrade-insecure-requests
// when cookies are Secure, no framing, same-origin referrers.
import helmet from "@fastify/helmet";
import fp from "fastify-plugin";

export const security = fp(
  async (app) => {
    const secure = app.frontendConfig.cookieSecure;
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
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
        },
      },
      hsts: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      referrerPolicy: { policy: "same-origin" },
      crossOriginEmbedderPolicy: false,
      xFrameOptions: { action: "deny" },
    });
  },
  { name: "security" },
);
