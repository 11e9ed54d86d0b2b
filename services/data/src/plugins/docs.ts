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
  "Scopes: a route's scope must be granted to the consumer (403 insufficient_scope); an empty scope list grants nothing. " +
  "How to call Signet from another service, with Node and Python examples: docs/calling-signet.md in the repository.";

/** The routes that take a form body as well as JSON (plugins/body-parsers.ts parses both everywhere). */
const FORM_ROUTES = new Set(["POST /authenticate", "POST /users"]);
const FORM_AND_JSON = ["application/x-www-form-urlencoded", "application/json"];

export const docs = fp(
  async (app) => {
    if (!app.dataConfig.docs) return;
    const { publicUrl } = app.dataConfig;
    await app.register(swagger, {
      openapi: {
        openapi: "3.1.0",
        // The URL requests are signed for: SIGNET_PUBLIC_URL when set, else the address the
        // document itself was fetched from (docs/calling-signet.md, "The base URL rule").
        servers: [
          publicUrl
            ? {
                url: publicUrl.replace(/\/$/, ""),
                description: "SIGNET_PUBLIC_URL: sign requests for this URL",
              }
            : { url: "/", description: "this data service, as you call it: sign requests for that address" },
        ],
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
      transform: ({ schema, url, route }) => {
        const methods = ([] as string[]).concat(route.method);
        const form = methods.some((m) => FORM_ROUTES.has(`${m} ${url}`));
        return { schema: form && schema ? { ...schema, consumes: FORM_AND_JSON } : schema, url };
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
