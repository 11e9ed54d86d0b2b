// POST /users: self sign-up, consumer-signed (docs/api.md, "Data routes"). Every sign-up
// that passes validation takes one attempt from its client address's budget, shared by
// every data pod (plugins/rate-limit.ts; docs/api.md, "Login rate limits").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { createUser, publicUser } from "@signet/shared/repos";
import { oauthErrors, SECURITY, SignUpBody, Username } from "../schemas.js";

export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { signupLimitPerAddress, loginLimitWindowMs } = app.dataConfig;

  app.post(
    "/users",
    {
      config: { oauth: { token: false, scopes: ["users:create"] } },
      schema: {
        summary: "Sign up (create a user)",
        description:
          `Signed with consumer credentials only. Scope: \`users:create\`. username ${Username.pattern}, password 8–256 characters, display_name 1–100. ` +
          `At most ${signupLimitPerAddress} sign-ups per client address in any ${loginLimitWindowMs / 1000} s, shared by every data pod (the client address as for POST /authenticate): 429 rate_limited with Retry-After.`,
        tags: ["accounts"],
        security: SECURITY,
        body: SignUpBody,
        response: {
          201: Type.Ref("User"),
          ...oauthErrors,
          409: Type.Ref("Error", { description: "username_taken" }),
          429: Type.Ref("Error", { description: "rate_limited; see Retry-After" }),
        },
      },
    },
    async (request, reply) => {
      const { username, password, display_name, client_ip } = request.body;
      const address = app.throttle.clientAddress(request, client_ip);
      await app.throttle.take([
        { kind: "signup-address", key: address, limit: signupLimitPerAddress, windowMs: loginLimitWindowMs },
      ]);
      const user = await createUser(app.db, { username, password, display_name });
      request.log.info({ user_id: user.id }, "user signed up");
      return reply.code(201).send(publicUser(user));
    },
  );
};
