// oauthRequired: the Fastify plugin that puts every contract route behind an OAuth 1.0a
// signature. A route declares `config: { oauth: { token: true|false, scopes?: [...] } }`;
// before validation, the plugin rebuilds what the client signed (absolute URL, method,
// Authorization header, content type, raw body bytes), verifies it, checks the user and
// the scopes, and decorates request.consumer, request.user and request.token.
import fp from "fastify-plugin";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Counter } from "prom-client";
import { ApiError } from "@signet/shared/http";
import {
  baseUrlFor,
  createVerifier,
  OAuthError,
  type CredentialStore,
  type NonceStore,
  type Verifier,
} from "@signet/shared/oauth";
import type { AuthConsumer, AuthToken, AuthUser } from "./credential-cache.js";

export interface OAuthRouteOptions {
  /** true: consumer + access token (three-legged); false: consumer only (two-legged). */
  token: boolean;
  /** Scopes the consumer needs; a consumer with an empty scope list is unrestricted. */
  scopes?: string[];
}

declare module "fastify" {
  interface FastifyContextConfig {
    oauth?: OAuthRouteOptions;
  }
  interface FastifyRequest {
    /** The raw body bytes, as signed (set by the data service's content-type parsers). */
    rawBody: Buffer | undefined;
    /** The verified consumer (OAuth routes only). */
    consumer: AuthConsumer | null;
    /** The user behind the verified access token (token routes only). */
    user: AuthUser | null;
    /** The verified access token (token routes only). */
    token: AuthToken | null;
  }
}

export interface OAuthPluginOptions {
  credentials: CredentialStore<AuthConsumer, AuthToken>;
  nonces: NonceStore;
  timestampWindow: number;
  /** SIGNET_PUBLIC_URL: the origin clients sign against (otherwise the request's protocol and host). */
  publicUrl?: string | undefined;
  /** Clock in seconds (tests). */
  now?: () => number;
}

/** Scopes must all be granted; an empty grant list means unrestricted. */
export function hasScopes(granted: readonly string[], required: readonly string[] | undefined): boolean {
  if (!required || required.length === 0 || granted.length === 0) return true;
  return required.every((scope) => granted.includes(scope));
}

/** The absolute URL the client signed. */
export function signedUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  return baseUrlFor({ publicUrl, protocol: request.protocol, host: request.host, url: request.url });
}

export const oauthRequired = fp(
  async (app: FastifyInstance, options: OAuthPluginOptions) => {
    const outcomes = new Counter({
      name: "signet_auth_outcomes_total",
      help: "OAuth verification outcomes by problem code (ok when the request was accepted)",
      labelNames: ["outcome"],
      registers: [app.metrics],
    });
    const common = {
      credentials: options.credentials,
      nonces: options.nonces,
      timestampWindow: options.timestampWindow,
      ...(options.now ? { now: options.now } : {}),
    };
    const verifiers: Record<"token" | "consumer", Verifier<AuthConsumer, AuthToken>> = {
      token: createVerifier({ ...common, requireToken: true }),
      consumer: createVerifier({ ...common, requireToken: false }),
    };

    app.decorateRequest("rawBody", undefined);
    app.decorateRequest("consumer", null);
    app.decorateRequest("user", null);
    app.decorateRequest("token", null);

    // preValidation: after the body is read (the signature covers it), before schema
    // validation (an unsigned request learns nothing about the expected input).
    app.addHook("preValidation", async (request) => {
      const route = request.routeOptions.config.oauth;
      if (!route) return;
      const header = request.headers.authorization;
      try {
        const verified = await verifiers[route.token ? "token" : "consumer"]({
          method: request.method,
          url: signedUrl(request, options.publicUrl),
          authorization: Array.isArray(header) ? header.join(", ") : header,
          contentType: request.headers["content-type"],
          body: request.rawBody,
        });
        request.consumer = verified.consumer;
        if (verified.token) {
          request.token = verified.token;
          request.user = verified.token.user;
          if (verified.token.user.status !== "active") {
            throw new ApiError(403, "user_disabled", "this user account is disabled");
          }
        }
        if (!hasScopes(verified.consumer.scopes, route.scopes)) {
          throw new ApiError(
            403,
            "insufficient_scope",
            `this consumer lacks the scope(s): ${route.scopes?.join(", ")}`,
          );
        }
        outcomes.inc({ outcome: "ok" });
      } catch (error) {
        outcomes.inc({
          outcome:
            error instanceof OAuthError ? error.problem : error instanceof ApiError ? error.code : "error",
        });
        throw error;
      }
    });
  },
  { name: "oauth-required", dependencies: ["signet-observability"] },
);
