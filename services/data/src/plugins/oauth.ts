// The `oauth` plugin: every data route behind an OAuth 1.0a signature (docs/api.md,
// "Signing requests", "Scopes"). A route declares `config: { oauth: { token: true|false,
// scopes?: [...] } }`; before validation, the plugin rebuilds what the client signed
// (absolute URL, method, Authorization header, content type, raw body bytes), verifies it
// against the credential caches and the nonce store, checks the user and the scopes, and
// decorates request.consumer, request.user and request.token; records which consumer secret
// signed it (app.lastUsed, batched). Counts outcomes in signet_auth_outcomes_total.
import fp from "fastify-plugin";
import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import { Counter } from "prom-client";
import { ApiError } from "@signet/shared/http";
import { baseUrlFor, createVerifier, OAuthError, type Verifier } from "@signet/shared/oauth";
import type { AuthConsumer, AuthToken, AuthUser } from "./credentials.js";

interface OAuthRouteOptions {
  /** true: consumer + access token (three-legged); false: consumer only (two-legged). */
  token: boolean;
  /**
   * Scopes the consumer needs (all of them). Without any, the route still needs a consumer
   * granted something: an empty scope list grants nothing (docs/api.md, "Scopes").
   */
  scopes?: string[];
}

declare module "fastify" {
  interface FastifyContextConfig {
    oauth?: OAuthRouteOptions;
  }
  interface FastifyRequest {
    /** The verified consumer (OAuth routes only). */
    consumer: AuthConsumer | null;
    /** The user behind the verified access token (token routes only). */
    user: AuthUser | null;
    /** The verified access token (token routes only). */
    token: AuthToken | null;
  }
}

/** Marks the check a route's preValidation starts with (see failClosed). */
const OAUTH_GUARD = Symbol("signet.oauthGuard");

/**
 * Fails closed: every route declared from here on with `config.oauth` must start its
 * preValidation with the oauth plugin's check by the time the app is ready, or `ready()`
 * throws, naming the route. The plugin gives the check only to routes declared after it, so a
 * route declared before it (a plugin registered too early) would otherwise go unchecked.
 * Call it first, before any plugin that declares routes.
 */
export function failClosed(app: FastifyInstance): void {
  const declared: RouteOptions[] = [];
  app.addHook("onRoute", (route) => {
    if (route.config?.oauth) declared.push(route);
  });
  app.addHook("onReady", async () => {
    const unchecked = declared.filter((route) => {
      const first = Array.isArray(route.preValidation) ? route.preValidation[0] : route.preValidation;
      return !(first && OAUTH_GUARD in first);
    });
    if (unchecked.length > 0) {
      const names = unchecked.map((r) => `${String(r.method)} ${r.url}`).join(", ");
      throw new Error(
        `routes declaring config.oauth without the OAuth check (declared before the oauth plugin?): ${names}`,
      );
    }
  });
}

/**
 * Whether a consumer granted `granted` may do what `required` names: `*` grants every
 * scope, an empty list none (not even a route that names no scope).
 */
export function holdsScopes(granted: readonly string[], required: readonly string[] = []): boolean {
  if (granted.length === 0) return false;
  if (granted.includes("*")) return true;
  return required.every((scope) => granted.includes(scope));
}

export const oauth = fp(
  async (app) => {
    // outcome → count, plain numbers on the hot path, handed to the metric when it is scraped
    // (a prom-client inc with labels hashes them every time)
    const outcomes = new Map<string, number>();
    const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    new Counter({
      name: "signet_auth_outcomes_total",
      help: "OAuth verification outcomes by problem code (ok when the request was accepted)",
      labelNames: ["outcome"],
      registers: [app.metrics],
      collect() {
        this.reset();
        for (const [outcome, n] of outcomes) this.inc({ outcome }, n);
      },
    });
    const { timestampWindow, publicUrl } = app.dataConfig;
    const { lastUsed } = app;
    const common = { credentials: app.credentials, nonces: app.nonces, timestampWindow };
    const verifiers: Record<"token" | "consumer", Verifier<AuthConsumer, AuthToken>> = {
      token: createVerifier({ ...common, requireToken: true }),
      consumer: createVerifier({ ...common, requireToken: false }),
    };
    /** The absolute URL the client signed. */
    const signedUrl = (request: FastifyRequest) =>
      baseUrlFor({ publicUrl, protocol: request.protocol, host: request.host, url: request.url });

    app.decorateRequest("consumer", null);
    app.decorateRequest("user", null);
    app.decorateRequest("token", null);

    /** The check one OAuth route runs, its settings read once, when the route is declared. */
    const guard = (route: OAuthRouteOptions) => {
      const verify = verifiers[route.token ? "token" : "consumer"];
      const scopes = route.scopes;
      const scopeMessage = scopes?.length
        ? `this consumer lacks the scope(s): ${scopes.join(", ")}`
        : "this consumer is granted no scope";
      const check = async (request: FastifyRequest) => {
        const header = request.headers.authorization;
        try {
          const verified = await verify({
            method: request.method,
            url: signedUrl(request),
            authorization: Array.isArray(header) ? header.join(", ") : header,
            contentType: request.headers["content-type"],
            body: request.rawBody,
          });
          request.consumer = verified.consumer;
          // the secret was used: a map entry, written in the pod's next batch (../last-used.ts)
          const secretId = verified.consumer.secretIds[verified.consumerSecretIndex];
          if (secretId !== undefined) lastUsed.record(verified.consumerKey, secretId);
          if (verified.token) {
            request.token = verified.token;
            request.user = verified.token.user;
            if (verified.token.user.status !== "active") {
              throw new ApiError(403, "user_disabled", "this user account is disabled");
            }
          }
          if (!holdsScopes(verified.consumer.scopes, scopes)) {
            throw new ApiError(403, "insufficient_scope", scopeMessage);
          }
          count("ok");
        } catch (error) {
          count(
            error instanceof OAuthError ? error.problem : error instanceof ApiError ? error.code : "error",
          );
          throw error;
        }
      };
      return Object.assign(check, { [OAUTH_GUARD]: true });
    };

    // Each route that declares `config.oauth` gets its check as its first preValidation hook:
    // after the body is read (the signature covers it), before schema validation (an unsigned
    // request learns nothing about the expected input) and before the route's own
    // preValidation. Per route rather than one hook for all: the other routes (health,
    // metrics) run nothing, and the route's settings are not looked up per request.
    app.addHook("onRoute", (routeOptions) => {
      const route = routeOptions.config?.oauth;
      if (!route) return;
      // (a GET route's HEAD twin comes here too, with the options as declared: a check of its own)
      const own = routeOptions.preValidation;
      routeOptions.preValidation = [
        guard(route),
        ...(own === undefined ? [] : Array.isArray(own) ? own : [own]),
      ];
    });
  },
  {
    name: "oauth",
    dependencies: ["signet-observability", "body-parsers", "credentials", "nonces"],
  },
);
