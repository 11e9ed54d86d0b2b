// POST /logout (docs/api.md, "Pages and forms"): the token is revoked at the data service
// (its failure is logged, not shown), the session ends, back to /login saying so.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { loginUrl } from "../safe-next.js";
import { endSession, signedIn } from "../session.js";

export const logoutRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post("/logout", { preHandler: app.csrfProtection }, async (request, reply) => {
    const state = signedIn(request);
    if (typeof state === "object") {
      try {
        await app.dataClient.logout(state.token, request.id);
      } catch (error) {
        // the session ends here whatever the data service says; a dead token is already logged out
        request.log.warn({ err: error }, "data service logout failed");
      }
    }
    await endSession(request, reply);
    return reply.redirect(loginUrl("/", "logged_out"), 303);
  });
};
