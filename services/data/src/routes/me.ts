// GET /me: the user behind the access token (docs/api.md, "Data routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { oauthErrors, SECURITY } from "../schemas.js";

export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
};
