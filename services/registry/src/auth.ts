// Bearer authentication of the admin API against SIGNET_ADMIN_TOKENS. The presented
// token is compared with every configured token in constant time (safeEqual hashes both
// sides first), with no early exit, so neither timing nor the order of the list tells
// anything about which tokens exist.
import type { FastifyRequest } from "fastify";
import { safeEqual } from "@signet/shared/crypto";
import { ApiError } from "@signet/shared/http";
import type { AdminToken } from "./config.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The name of the admin token that authenticated this request: the audit log's actor. */
    actor: string;
  }
}

const BEARER = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i;

export function authenticate(tokens: readonly AdminToken[], header: string | undefined): string | undefined {
  const presented = header ? (BEARER.exec(header)?.[1] ?? "") : "";
  let actor: string | undefined;
  for (const candidate of tokens) {
    const match = safeEqual(presented, candidate.token);
    if (match && actor === undefined) actor = candidate.name;
  }
  return presented ? actor : undefined;
}

export function bearerHook(tokens: readonly AdminToken[]) {
  return async (request: FastifyRequest) => {
    const actor = authenticate(tokens, request.headers.authorization);
    if (actor === undefined) {
      throw new ApiError(
        401,
        "unauthorized",
        "a valid admin token is required (Authorization: Bearer <token>)",
        {
          "www-authenticate": 'Bearer realm="signet-registry"',
        },
      );
    }
    request.actor = actor;
  };
}
