// Rate limits for the routes that ask for one in their `config.rateLimit` (POST /login and
// POST /signup, per client address and minute; docs/api.md, "Rate limits"). Above the limit
// the error handler shows the 429 page with Retry-After.
import rateLimit from "@fastify/rate-limit";
import fp from "fastify-plugin";

export const rateLimits = fp(
  async (app) => {
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error("too many requests"), {
          statusCode: 429,
          retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
        }),
    });
  },
  { name: "rate-limit" },
);

/** The route option of a form limited to `perMinute` POSTs per client address. */
export const perMinute = (max: number) => ({ rateLimit: { max, timeWindow: 60_000 } });
