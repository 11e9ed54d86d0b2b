// POST /authenticate: log a user in (consumer-signed). Failed logins are throttled per
// (username, client address) and per client address, in budgets every data pod shares
// (plugins/rate-limit.ts; docs/api.md, "Login rate limits"): an attempt is taken before
// the password is checked and given back when it was right, so only failures count and
// the owner, from another address, still gets in while an attacker's budget is spent.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ApiError } from "@signet/shared/http";
import { verifyPassword } from "@signet/shared/passwords";
import { findUserByUsername, issueToken, publicUser } from "@signet/shared/repos";
import { USERNAME_RE } from "@signet/shared/rules";
import { passwordGuessBudgets } from "../plugins/rate-limit.js";
import { LoginBody, LoginResponse, oauthErrors, SECURITY } from "../schemas.js";

export const authenticateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { loginLimitPerUser, loginLimitPerAddress, loginLimitWindowMs, keyring, tokenTtl } = app.dataConfig;

  app.post(
    "/authenticate",
    {
      config: { oauth: { token: false, scopes: ["authenticate"] } },
      schema: {
        summary: "Log a user in",
        description:
          "Signed with consumer credentials only (two-legged). Scope: `authenticate`. Body as a form (signed through the base string) or JSON (signed through oauth_body_hash). " +
          "An unknown user and a wrong password get the same 401 invalid_credentials in the same time; a disabled user gets 403 user_disabled after a correct password. " +
          `Failed logins are limited to ${loginLimitPerUser} per (username, client address) and ${loginLimitPerAddress} per client address in any ${loginLimitWindowMs / 1000} s, shared by every data pod; ` +
          "the client address is `client_ip` from a consumer holding the `client-address` scope (ignored from any other), else the request's address. Over a limit: 429 rate_limited with Retry-After, even for the right password.",
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
    },
    async (request) => {
      const { username, password, client_ip } = request.body;
      const address = app.throttle.clientAddress(request, client_ip);
      const giveBack = await app.throttle.take(passwordGuessBudgets(app.dataConfig, username, address));
      const user = USERNAME_RE.test(username) ? await findUserByUsername(app.db, username) : undefined;
      // verifyPassword(null) burns the same time as a real check, so an unknown user is not faster.
      const ok = await verifyPassword(user?.password_hash ?? null, password);
      if (!user || !ok) throw new ApiError(401, "invalid_credentials", "wrong username or password");
      await giveBack(); // the right password: not a failed login
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
