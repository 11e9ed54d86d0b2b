// POST /revoke-all: the emergency not-before (docs/api.md, "Admin routes"; docs/design.md,
// "Credential lifecycle").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { revokeAllEverywhere } from "../operations/lifecycle.js";
import { RevokeAllBody, RevokedAll, errors } from "../schemas.js";

export const revokeAllRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/revoke-all",
    {
      schema: {
        tags: ["tokens"],
        summary: "Every token issued before an instant is refused on every data pod; consumers untouched",
        description:
          'issued_before: an ISO 8601 instant not in the future, or "now" (the database\'s clock, to the millisecond). The not-before only moves forward; the answer gives the one in force, once the pods confirmed.',
        body: RevokeAllBody,
        response: { 200: RevokedAll, ...errors(400) },
      },
    },
    async (request) =>
      revokeAllEverywhere(app.announcer, {
        ...(request.body.issued_before !== "now"
          ? { issuedBefore: new Date(request.body.issued_before) }
          : {}),
        reason: request.body.reason,
        actor: request.actor,
      }),
  );
};
