// Accounts: login (POST /authenticate), self sign-up (POST /users), GET /me, POST /logout.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { SUBJECTS } from "@signet/shared/bus";
import { type TokenRevokedEvent } from "@signet/shared/events";
import { ApiError } from "@signet/shared/http";
import { verifyPassword } from "@signet/shared/passwords";
import {
  addOutboxEvent,
  createUser,
  findUserByUsername,
  issueToken,
  markPublished,
  publicUser,
  revokeToken,
} from "@signet/shared/repos";
import { USERNAME_RE } from "@signet/shared/rules";
import type { DataContext } from "../context.js";
import { LoginBody, LoginResponse, oauthErrors, SignUpBody, Username } from "../schemas.js";

const SECURITY = [{ oauth1: [] }];

export async function accountRoutes(instance: FastifyInstance, ctx: DataContext): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { config, db, keyring } = ctx;

  // Per-pod memory stores (@fastify/rate-limit's LocalStore): with N pods an attacker gets
  // N times the budget; a shared store (Redis) would close that, at a dependency's cost.
  const byUser = app.createRateLimit({
    max: config.loginLimitPerUser,
    timeWindow: config.loginLimitWindowMs,
    keyGenerator: (req: FastifyRequest) =>
      `user:${String((req.body as { username?: unknown } | undefined)?.username ?? "").toLowerCase()}`,
  });
  const byAddress = app.createRateLimit({
    max: config.loginLimitPerAddress,
    timeWindow: config.loginLimitWindowMs,
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
      const user = USERNAME_RE.test(username) ? await findUserByUsername(db, username) : undefined;
      // verifyPassword(null) burns the same time as a real check, so an unknown user is not faster.
      const ok = await verifyPassword(user?.password_hash ?? null, password);
      if (!user || !ok) throw new ApiError(401, "invalid_credentials", "wrong username or password");
      if (user.status !== "active") throw new ApiError(403, "user_disabled", "this user account is disabled");
      const issued = await issueToken(db, keyring, {
        userId: user.id,
        consumerKey: request.consumer!.key,
        ttlSeconds: config.tokenTtl,
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

  app.post(
    "/users",
    {
      config: { oauth: { token: false, scopes: ["users:create"] } },
      schema: {
        summary: "Sign up (create a user)",
        description: `Signed with consumer credentials only. Scope: \`users:create\`. username ${Username.pattern}, password 8–256 characters, display_name 1–100.`,
        tags: ["accounts"],
        security: SECURITY,
        body: SignUpBody,
        response: {
          201: Type.Ref("User"),
          ...oauthErrors,
          409: Type.Ref("Error", { description: "username_taken" }),
        },
      },
    },
    async (request, reply) => {
      const user = await createUser(db, request.body);
      request.log.info({ user_id: user.id }, "user signed up");
      return reply.code(201).send(publicUser(user));
    },
  );

  app.get(
    "/me",
    {
      config: { oauth: { token: true } },
      schema: {
        summary: "The user behind the access token",
        description: "Signed with consumer + token. No scope needed.",
        tags: ["accounts"],
        security: SECURITY,
        response: { 200: Type.Ref("User"), ...oauthErrors },
      },
    },
    async (request) => {
      const user = request.user!;
      return { id: user.id, username: user.username, display_name: user.display_name };
    },
  );

  app.post(
    "/logout",
    {
      config: { oauth: { token: true } },
      schema: {
        summary: "Revoke the access token",
        description:
          "Signed with consumer + token. No scope needed. The token is revoked in the database and `signet.token.revoked` is announced (through the outbox), so every pod forgets it.",
        tags: ["accounts"],
        security: SECURITY,
        response: { 204: Type.Null({ description: "logged out" }), ...oauthErrors },
      },
    },
    async (request, reply) => {
      const token = request.token!.token;
      const event: TokenRevokedEvent = { token, at: new Date().toISOString() };
      const outboxId = await db.transaction().execute(async (trx) => {
        await revokeToken(trx, token);
        return addOutboxEvent(trx, SUBJECTS.tokenRevoked, { ...event });
      });
      ctx.cache.evictToken(token);
      try {
        await ctx.bus.publish(SUBJECTS.tokenRevoked, event);
        await markPublished(db, [outboxId]);
      } catch (error) {
        // The outbox relay re-publishes it; pods without the event bypass or cap their caches.
        request.log.warn({ err: error }, "could not announce the logout now; left to the outbox relay");
      }
      return reply.code(204).send(null);
    },
  );
}
