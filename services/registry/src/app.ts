// The registry (docs/api.md, "Registry admin API"): the admin API (consumers, users, audit,
// known data pods), the confirmed revocation path and the outbox relay, as one Fastify
// plugin tree (docs/design.md, "Plugins and routes"):
//   plugins — db, bus (shared), docs, auth, pod-presence, announcer, outbox-relay,
//             lifecycle (rotations that end by themselves, lifecycle metrics),
//             bootstrap-consumers: each decorates what it provides and owns its metrics;
//   routes  — consumers, users, audit, pods, revoke-all: one module per resource, reading decorations;
//   operations — what a route changes: repos inside the announcer's transaction, then the
//             announcement.
// A db or bus handed in (`npm start` shares them between the services) is used and left
// open; otherwise they are created from config and released on close.
import { natsAuthOf } from "@signet/shared/config";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { dbPlugin } from "@signet/shared/db";
import {
  busPlugin,
  installErrorHandlers,
  jsonFrameworkErrors,
  observability,
  readyApp,
  type AppOptions,
} from "@signet/shared/http";
import { serverOptions, type LoggerChoice } from "@signet/shared/logging";
import type { RegistryConfig } from "./config.js";
import { announcer } from "./plugins/announcer.js";
import { auth } from "./plugins/auth.js";
import { bootstrapConsumers } from "./plugins/bootstrap.js";
import { docs } from "./plugins/docs.js";
import { lifecycle } from "./plugins/lifecycle.js";
import { podPresence } from "./plugins/presence.js";
import { outboxRelay } from "./plugins/relay.js";
import { auditRoutes } from "./routes/audit.js";
import { consumerRoutes } from "./routes/consumers.js";
import { podRoutes } from "./routes/pods.js";
import { revokeAllRoutes } from "./routes/revoke-all.js";
import { userRoutes } from "./routes/users.js";
import { ErrorBody } from "./schemas.js";

export { loadRegistryConfig, registryConfigDefaults, type RegistryConfig } from "./config.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The registry's validated settings. */
    registryConfig: RegistryConfig;
  }
}

export type RegistryAppOptions = AppOptions<RegistryConfig>;

export const registryApp: FastifyPluginAsync<RegistryAppOptions> = fp(
  async (app: FastifyInstance, { config, db, bus }: RegistryAppOptions) => {
    app.decorate("registryConfig", config);
    installErrorHandlers(app);
    await app.register(observability, { service: "registry", defaultMetrics: config.defaultMetrics });
    await app.register(dbPlugin, { db, url: config.databaseUrl, applicationName: "signet-registry" });
    await app.register(busPlugin, {
      bus,
      servers: config.natsUrl,
      name: `signet-registry-${process.pid}`,
      auth: natsAuthOf(config),
      keyring: config.keyring,
    });
    await app.register(docs);
    await app.register(auth);
    await app.register(podPresence);
    await app.register(announcer);
    await app.register(outboxRelay);
    await app.register(lifecycle);
    await app.register(bootstrapConsumers);

    app.addSchema(ErrorBody);
    // The admin API: everything in here needs a bearer token; /healthz, /readyz, /metrics
    // and /docs live outside this scope.
    await app.register(async (admin) => {
      admin.addHook("onRequest", admin.authenticateAdmin);
      await admin.register(consumerRoutes);
      await admin.register(userRoutes);
      await admin.register(auditRoutes);
      await admin.register(podRoutes);
      await admin.register(revokeAllRoutes);
    });
  },
  { name: "signet-registry" },
);

/** The registry's Fastify instance with the app registered, ready (not listening). */
export const buildRegistryApp = ({ logger, ...options }: RegistryAppOptions & { logger?: LoggerChoice }) =>
  readyApp(
    serverOptions("registry", options.config.logLevel, logger, {
      ajv: { customOptions: { removeAdditional: false, coerceTypes: "array" as const, useDefaults: true } },
      frameworkErrors: jsonFrameworkErrors,
    }),
    registryApp,
    options,
  );
