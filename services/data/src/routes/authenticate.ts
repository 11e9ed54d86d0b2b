// POST /authenticate: log a user in (consumer-signed), rate-limited per username and per
// client address (docs/api.md, "Login rate limits").
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ApiError } from "@signet/shared/http";
import { verifyPassword } from "@signet/shared/passwords";
import { findUserByUsername, issueToken, publicUser } from "@signet/shared/repos";
import { USERNAME_RE } from "@signet/shared/rules";
import { LoginBody, LoginResponse, oauthErrors, SECURITY } from "../schemas.js";

export const authenticateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { loginLimitPerUser, loginLimitPerAddress, loginLimitWindowMs, keyring, tokenTtl } = app.dataConfig;

  // Per-pod memory stores (@fastify/rate-limit's LocalStore): with N pods an attacker gets
  // N times the budget; a shared store (Redis) would close that, at a dependency's cost.
  const byUser = app.createRateLimit({
    max: loginLimitPerUser,
    timeWindow: loginLimitWindowMs,
    keyGenerator: (req: FastifyRequest) =>
      `user:${String((req.body as { username?: unknown } | undefined)?.username ?? "").toLowerCase()}`,
  });
  const byAddress = app.createRateLimit({
    max: loginLimitPerAddress,
    timeWindow: loginLimitWindowMs,
    keyGenerator: (req: FastifyRequest) =>
      `addr:${(req.body as { client_ip?: string } | undefined)?.client_ip ?? req.ip}`,
  });

  app.post(
    "/authenticate",
    {
      config: { oauth: { token: false, scopes: ["authenticate"] } },
      schema: {
        summary: "Log a user in",
        description:
          "Signed with consumer credentials only (two-legged). Scope: `authenticate`. Body as a form (signed through the base string) or JSON (signed through oauth_body_hash). " +
          "An unknown user and a wrong password get the same 401 invalid_credentials in the same time; a disabled user gets 403 user_disabled after a correct password. " +
          "Rate-limited per username and per client address (`client_ip` when the consumer sends it, otherwise the socket address): 429 rate_limited with Retry-After.",
        tags: ["accounts"],
        security: SECURITY,
        body: LoginBody,
        response: {
          200: LoginResponse,
          ...oauthErrors,
          401: Type.Ref("Error", { description: `invalid_credentials, or ${oauthErrors[401].description}` }),
          429: Type.Ref("Error", { description: "rate_limited; see Retry-After" }),
        },
      },
      preHandler: async (request) => {
        for (const limiter of [byUser, byAddress]) {
          const result = await limiter(request);
          if (!result.isAllowed && result.isExceeded) {
            throw new ApiError(429, "rate_limited", "too many login attempts, try again later", {
              "retry-after": String(Math.max(1, result.ttlInSeconds)),
            });
          }
        }
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const user = USERNAME_RE.test(username) ? await findUserByUsername(app.db, username) : undefined;
      // verifyPassword(null) burns the same time as a real check, so an unknown user is not faster.
      const ok = await verifyPassword(user?.password_hash ?? null, password);
      if (!user || !ok) throw new ApiError(401, "invalid_credentials", "wrong username or password");
      if (user.status !== "active") throw new ApiError(403, "user_disabled", "this user account is disabled");
      const issued = await issueToken(app.db, keyring, {
        userId: user.id,
        consumerKey: request.consumer!.key,
        ttlSeconds: tokenTtl,
      });
      request.log.info({ user_id: user.id, consumer: request.consumer!.key }, "login");
      return {
        token: issued.token,
        secret: issued.secret,
        expires_at: issued.expires_at.toISOString(),
        user: publicUser(user),
      };
    },
  );
};
