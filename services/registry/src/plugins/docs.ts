// The OpenAPI 3.1 document of the admin API (/docs/json, /docs): built from the routes'
// TypeBox schemas, so it cannot drift from what is validated and served. Registered before
// the routes, which it collects as they are added.
import fp from "fastify-plugin";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";

export const docs = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: "3.1.0",
        servers: [{ url: "/", description: "this registry, as you call it (port 8001 by default)" }],
        info: {
          title: "Signet registry admin API",
          version: "0.1.0",
          description:
            "Consumers, users, the audit log and the data pods the registry knows. Revocations are confirmed by the data pods over NATS.",
        },
        components: {
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", description: "a token from SIGNET_ADMIN_TOKENS" },
          },
        },
        security: [{ bearer: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: "/docs" });
  },
  { name: "docs" },
);
