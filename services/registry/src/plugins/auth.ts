// Bearer authentication of the admin API against SIGNET_ADMIN_TOKENS (docs/api.md,
// "Authentication"). The presented token is compared with every configured token in
// constant time (safeEqual hashes both sides first), with no early exit, so neither timing
// nor the order of the list tells anything about which tokens exist.
// The `auth` plugin decorates `app.authenticateAdmin`, the onRequest hook of the admin
// scope, which sets `request.actor` (the audit log's actor) or answers 401.
import fp from "fastify-plugin";
import type { FastifyRequest } from "fastify";
import { safeEqual } from "@signet/shared/crypto";
import { ApiError } from "@signet/shared/http";
import type { AdminToken } from "../config.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The name of the admin token that authenticated this request: the audit log's actor. */
    actor: string;
  }
  interface FastifyInstance {
    /** The admin scope's onRequest hook: a valid admin token, or 401. */
    authenticateAdmin(request: FastifyRequest): Promise<void>;
  }
}

const BEARER = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i;

function authenticate(tokens: readonly AdminToken[], header: string | undefined): string | undefined {
  const presented = header ? (BEARER.exec(header)?.[1] ?? "") : "";
  let actor: string | undefined;
  for (const candidate of tokens) {
    const match = safeEqual(presented, candidate.token);
    if (match && actor === undefined) actor = candidate.name;
  }
  return presented ? actor : undefined;
}

export const auth = fp(
  async (app) => {
    const tokens = app.registryConfig.adminTokens;
    app.decorateRequest("actor", "");
    app.decorate("authenticateAdmin", async (request: FastifyRequest) => {
      const actor = authenticate(tokens, request.headers.authorization);
      if (actor === undefined) {
        throw new ApiError(
          401,
          "unauthorized",
          "a valid admin token is required (Authorization: Bearer <token>)",
          { "www-authenticate": 'Bearer realm="signet-registry"' },
        );
      }
      request.actor = actor;
    });
  },
  { name: "auth", decorators: { fastify: ["registryConfig"] } },
);
