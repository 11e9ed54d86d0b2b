// @fastify/rate-limit without a global limit: only the routes that create a limiter are
// limited (POST /authenticate, routes/authenticate.ts; docs/api.md, "Login rate limits").
import fp from "fastify-plugin";
import rateLimit from "@fastify/rate-limit";

export const rateLimits = fp(
  async (app) => {
    await app.register(rateLimit, { global: false });
  },
  { name: "rate-limit" },
);
