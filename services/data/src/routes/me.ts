// The signed-in user's own account (docs/api.md, "Data routes"): GET /me, PATCH /me (display
// name), POST /me/password (current + new password; every other token of the user dies on
// every pod, this one stays). A wrong current password is a failed login: it draws from the
// same shared budgets as POST /authenticate (routes/authenticate.ts) and is given back only
// when right, so a stolen token buys no extra guesses.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { ApiError, invalidInput, notFound } from "@signet/shared/http";
import { hashPassword, verifyPassword } from "@signet/shared/passwords";
import { findUserById, publicUser, setDisplayName, setPasswordHash } from "@signet/shared/repos";
import { passwordProblem } from "@signet/shared/rules";
import { passwordGuessBudgets } from "../plugins/rate-limit.js";
import { oauthErrors, PasswordChangeBody, ProfilePatchBody, SECURITY } from "../schemas.js";
import { revokeUserTokensAnnounced } from "./logout.js";

export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { loginLimitPerUser, loginLimitPerAddress, loginLimitWindowMs } = app.dataConfig;

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

  app.patch(
    "/me",
    {
      config: { oauth: { token: true } },
      schema: {
        summary: "Change the user's display name",
        description:
          "Signed with consumer + token; JSON body signed through oauth_body_hash. No scope needed. `display_name`: 1–100 characters, one line.",
        tags: ["accounts"],
        security: SECURITY,
        body: ProfilePatchBody,
        response: { 200: Type.Ref("User"), ...oauthErrors },
      },
    },
    async (request) => {
      const user = await setDisplayName(app.db, request.user!.id, request.body.display_name);
      if (!user) throw notFound("user");
      // this pod's cached tokens of the user carry the old name; other pods' entries age out
      app.credentials.evictUser(user.id);
      return publicUser(user);
    },
  );

  app.post(
    "/me/password",
    {
      config: { oauth: { token: true } },
      schema: {
        summary: "Change the user's password",
        description:
          "Signed with consumer + token; JSON body signed through oauth_body_hash. No scope needed. " +
          "`new_password`: 8–256 characters, not the username nor containing it (400 invalid_input). " +
          "A wrong `current_password` is 401 invalid_credentials and counts as a failed login " +
          `(${loginLimitPerUser} per (username, client address), ${loginLimitPerAddress} per client address in any ${loginLimitWindowMs / 1000} s, shared with POST /authenticate; over a limit 429 rate_limited). ` +
          "On success every other token of the user is revoked and announced (signet.token.revoked), so it dies on every pod; the token that asked stays.",
        tags: ["accounts"],
        security: SECURITY,
        body: PasswordChangeBody,
        response: {
          204: Type.Null({ description: "changed" }),
          ...oauthErrors,
          401: Type.Ref("Error", { description: `invalid_credentials, or ${oauthErrors[401].description}` }),
          429: Type.Ref("Error", { description: "rate_limited; see Retry-After" }),
        },
      },
    },
    async (request, reply) => {
      const { current_password, new_password, client_ip } = request.body;
      const { id, username } = request.user!;
      const problem = passwordProblem(username, new_password);
      if (problem) throw invalidInput(problem);
      const address = app.throttle.clientAddress(request, client_ip);
      const giveBack = await app.throttle.take(passwordGuessBudgets(app.dataConfig, username, address));
      const user = await findUserById(app.db, id);
      const ok = await verifyPassword(user?.password_hash ?? null, current_password);
      if (!user || !ok) throw new ApiError(401, "invalid_credentials", "the current password is wrong");
      await giveBack();
      const passwordHash = await hashPassword(new_password);
      const revoked = await revokeUserTokensAnnounced(app, id, {
        exceptToken: request.token!.token,
        change: (trx) => setPasswordHash(trx, id, passwordHash),
      });
      request.log.info({ user_id: id, tokens_revoked: revoked }, "password changed");
      return reply.code(204).send(null);
    },
  );
};
