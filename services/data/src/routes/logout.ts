// POST /logout: revoke the access token, or with {"everywhere": true} every token of the
// user. The one announcement path (docs/design.md, "One announcement path"): the token is
// revoked and its signet.token.revoked outbox row written in one transaction, the event
// published without gathering confirmations (the outbox relay publishes it if that fails),
// then this pod forgets the token at once. Several tokens at once (everywhere, a password
// change: routes/me.ts) go through revokeUserTokensAnnounced below: one transaction, one
// outbox row per token, each published after the commit.
import type { FastifyInstance } from "fastify";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Transaction } from "kysely";
import { Announcer } from "@signet/shared/announce";
import { SUBJECTS } from "@signet/shared/bus";
import type { Database } from "@signet/shared/db";
import { type TokenRevokedEvent } from "@signet/shared/events";
import { revokeToken, revokeUserTokens } from "@signet/shared/repos";
import { LogoutBody, oauthErrors, SECURITY } from "../schemas.js";

/**
 * Revokes every live token of a user but `exceptToken`, with `change` (a new password), in
 * one transaction that also writes one signet.token.revoked outbox row per token (the
 * contract's event names one token; a user has a few live tokens, one per signed-in device):
 * `Announcer.commitAndPublishAll`. This pod forgets the user's cached tokens right after the
 * commit. Returns how many tokens were revoked.
 */
export async function revokeUserTokensAnnounced(
  app: FastifyInstance,
  userId: string,
  options: { exceptToken?: string; change?: (trx: Transaction<Database>) => Promise<void> } = {},
): Promise<number> {
  const at = new Date().toISOString();
  const announcer = new Announcer({ db: app.db, bus: app.bus, log: app.log, windowMs: 0, expected: 0 });
  const revoked = await announcer.commitAndPublishAll(SUBJECTS.tokenRevoked, async (trx) => {
    await options.change?.(trx);
    const tokens = await revokeUserTokens(trx, userId, {
      ids: true,
      ...(options.exceptToken !== undefined ? { exceptToken: options.exceptToken } : {}),
    });
    const payloads = tokens.map((token): TokenRevokedEvent => ({ token, at }));
    return { payloads: payloads.map((payload) => ({ ...payload })), result: tokens.length };
  });
  // this pod at once (the one asking keeps its token: its entry is simply read again)
  app.credentials.evictUser(userId);
  return revoked;
}

export const logoutRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Unconfirmed announcements only: no confirmation window, no pods to wait for.
  const announcer = new Announcer({ db: app.db, bus: app.bus, log: app.log, windowMs: 0, expected: 0 });

  app.post(
    "/logout",
    {
      config: { oauth: { token: true } },
      // no body at all is the plain logout (after the signature check, before validation)
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: "Revoke the access token (or, with everywhere, every token of the user)",
        description:
          'Signed with consumer + token. No scope needed. Optional JSON body `{"everywhere": true}` (signed through oauth_body_hash): every token of the user, this one included ("sign out everywhere"). Each token is revoked in the database and `signet.token.revoked` is announced for it (through the outbox), so every pod forgets it.',
        tags: ["accounts"],
        security: SECURITY,
        body: LogoutBody,
        response: { 204: Type.Null({ description: "logged out" }), ...oauthErrors },
      },
    },
    async (request, reply) => {
      const token = request.token!.token;
      if (request.body?.everywhere === true) {
        const revoked = await revokeUserTokensAnnounced(app, request.user!.id);
        request.log.info({ user_id: request.user!.id, tokens_revoked: revoked }, "signed out everywhere");
        return reply.code(204).send(null);
      }
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
