// POST /logout: revoke the access token. The one announcement path (docs/design.md,
// "One announcement path"): the token is revoked and its signet.token.revoked outbox row
// written in one transaction, the event published without gathering confirmations (the
// outbox relay publishes it if that fails), then this pod forgets the token at once.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { Announcer } from "@signet/shared/announce";
import { SUBJECTS } from "@signet/shared/bus";
import { type TokenRevokedEvent } from "@signet/shared/events";
import { revokeToken } from "@signet/shared/repos";
import { oauthErrors, SECURITY } from "../schemas.js";

export const logoutRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Unconfirmed announcements only: no confirmation window, no pods to wait for.
  const announcer = new Announcer({ db: app.db, bus: app.bus, log: app.log, windowMs: 0, expected: 0 });

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
      await announcer.commitAndAnnounce(
        SUBJECTS.tokenRevoked,
        async (trx) => {
          await revokeToken(trx, token);
          const event: TokenRevokedEvent = { token, at: new Date().toISOString() };
          return { payload: { ...event }, result: undefined };
        },
        { confirm: false },
      );
      app.credentials.evictToken(token);
      return reply.code(204).send(null);
    },
  );
};
