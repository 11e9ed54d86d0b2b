// GET /pods: the data pods the registry knows from their heartbeats (plugins/presence.ts)
// — the set a revoke waits on. Read-only, so not audited (docs/api.md, "Admin routes").
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { PodView, errors } from "../schemas.js";

export const podRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/pods",
    {
      schema: {
        tags: ["pods"],
        summary: "The data pods known from their heartbeats (the confirmations a revoke waits for), by name",
        response: { 200: Type.Object({ pods: Type.Array(PodView) }), ...errors() },
      },
    },
    async () => ({
      pods: app.podPresence.list().map((p) => ({
        pod: p.pod,
        last_seen: p.lastSeen.toISOString(),
        interval_ms: p.intervalMs,
      })),
    }),
  );
};
