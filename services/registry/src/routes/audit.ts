// GET /audit?limit=n: newest first (docs/api.md, "Admin routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { listAudit } from "@signet/shared/repos";
import { AuditEventView, AuditQuery, errors } from "../schemas.js";

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/audit",
    {
      schema: {
        tags: ["audit"],
        summary: "The audit log, newest first",
        querystring: AuditQuery,
        response: { 200: Type.Object({ events: Type.Array(AuditEventView) }), ...errors(400) },
      },
    },
    async (request) => {
      const events = await listAudit(app.db, request.query.limit ?? 50);
      return {
        events: events.map((e) => ({
          at: e.at.toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target,
          details: e.details,
        })),
      };
    },
  );
};
