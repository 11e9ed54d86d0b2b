// The `docs` plugin: the OpenAPI 3.1 document at /docs/json and swagger-ui at /docs, built
// from the routes' TypeBox schemas (registered before the routes, so it sees them all).
// Off with SIGNET_DOCS=false. The referenced schemas keep their $id as component names.
import fp from "fastify-plugin";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";

const OAUTH1_DESCRIPTION =
  "OAuth 1.0a (RFC 5849) in `Authorization: OAuth …`: HMAC-SHA256 or HMAC-SHA1 over the signature base string " +
  "(method, the absolute URL clients sign against — SIGNET_PUBLIC_URL behind a proxy — query and form parameters). " +
  "Signing key `enc(consumer_secret)&enc(token_secret)`; consumer-only routes leave the token part empty and send no oauth_token. " +
  "A JSON body needs `oauth_body_hash` (base64 SHA-256 for HMAC-SHA256, SHA-1 for HMAC-SHA1 of the raw bytes). " +
  "oauth_timestamp within SIGNET_TIMESTAMP_WINDOW seconds; an oauth_nonce is accepted once per consumer and token across every pod. " +
  'Failures are 401 with `WWW-Authenticate: OAuth realm="signet", oauth_problem="CODE"`. ' +
  "Scopes: a consumer with an empty scope list may call every route; otherwise a route's scope must be granted (403 insufficient_scope).";

export const docs = fp(
  async (app) => {
    if (!app.dataConfig.docs) return;
    await app.register(swagger, {
      openapi: {
        openapi: "3.1.0",
        info: {
          title: "Signet data API",
          version: "0.1.0",
          description:
            "Users, tokens and notes. Every route but /healthz, /readyz and /metrics needs an OAuth 1.0a (RFC 5849) signed request. " +
            'Errors are `{"error": CODE, "message": TEXT}`.',
        },
        components: {
          securitySchemes: { oauth1: { type: "http", scheme: "OAuth", description: OAUTH1_DESCRIPTION } },
        },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === "string" ? json.$id : `def-${i}`,
      },
    });
    await app.register(swaggerUi, { routePrefix: "/docs" });
  },
  { name: "docs" },
);
