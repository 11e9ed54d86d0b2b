// POST /users: self sign-up, consumer-signed (docs/api.md, "Data routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { createUser, publicUser } from "@signet/shared/repos";
import { oauthErrors, SECURITY, SignUpBody, Username } from "../schemas.js";

export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
      const user = await createUser(app.db, request.body);
      request.log.info({ user_id: user.id }, "user signed up");
      return reply.code(201).send(publicUser(user));
    },
  );
};
