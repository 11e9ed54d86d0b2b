// The registry (docs/api.md, "Registry admin API"): the admin API (consumers, users, audit,
// known data pods), the confirmed revocation path and the outbox relay, as one Fastify
// plugin tree (docs/design.md, "Plugins and routes"):
//   plugins — db, bus (shared), docs, auth, pod-presence, announcer, outbox-relay,
//             bootstrap-consumers: each decorates what it provides and owns its metrics;
//   routes  — consumers, users, audit, pods: one module per resource, reading decorations;
//   operations — what a route changes: repos inside the announcer's transaction, then the
//             announcement.
// A db or bus handed in (`npm start` shares them between the services) is used and left
// open; otherwise they are created from config and released on close.
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { Kysely } from "kysely";
import type { Bus } from "@signet/shared/bus";
import { dbPlugin, type Database } from "@signet/shared/db";
import { busPlugin, installErrorHandlers, observability } from "@signet/shared/http";
import { baseServerOptions, chooseLogger } from "@signet/shared/logging";
import type { RegistryConfig } from "./config.js";
import { announcer } from "./plugins/announcer.js";
import { auth } from "./plugins/auth.js";
import { bootstrapConsumers } from "./plugins/bootstrap.js";
import { docs } from "./plugins/docs.js";
import { podPresence } from "./plugins/presence.js";
import { outboxRelay } from "./plugins/relay.js";
import { auditRoutes } from "./routes/audit.js";
import { consumerRoutes } from "./routes/consumers.js";
import { podRoutes } from "./routes/pods.js";
import { userRoutes } from "./routes/users.js";
import { ErrorBody } from "./schemas.js";

export { loadRegistryConfig, registryConfigDefaults, type RegistryConfig } from "./config.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The registry's validated settings. */
    registryConfig: RegistryConfig;
  }
}

export interface RegistryAppOptions {
  config: RegistryConfig;
  /** A database the caller owns (`npm start`); not closed by the app. */
  db?: Kysely<Database> | undefined;
  /** A bus the caller owns (`npm start`'s in-process bus); not closed by the app. */
  bus?: Bus | undefined;
}

export const registryApp: FastifyPluginAsync<RegistryAppOptions> = fp(
  async (app: FastifyInstance, { config, db, bus }: RegistryAppOptions) => {
    app.decorate("registryConfig", config);
    installErrorHandlers(app);
    await app.register(observability, { service: "registry", defaultMetrics: config.defaultMetrics });
    await app.register(dbPlugin, { db, url: config.databaseUrl, applicationName: "signet-registry" });
    await app.register(busPlugin, { bus, servers: config.natsUrl, name: `signet-registry-${process.pid}` });
    await app.register(docs);
    await app.register(auth);
    await app.register(podPresence);
    await app.register(announcer);
    await app.register(outboxRelay);
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
    });
  },
  { name: "signet-registry" },
);

export interface BuildRegistryOptions extends RegistryAppOptions {
  /** false: silent; an object: pino options merged over the defaults, or a pino logger. */
  logger?: boolean | object;
}

/** The registry's Fastify instance with the app registered, ready (not listening). */
export async function buildRegistryApp({
  logger,
  ...options
}: BuildRegistryOptions): Promise<FastifyInstance> {
  const base = baseServerOptions(options.config.logLevel, "registry");
  const app = Fastify({
    ...base,
    ...chooseLogger(base.logger, logger),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true } },
  });
  app.register(registryApp, options);
  try {
    await app.ready();
  } catch (error) {
    await app.close().catch(() => undefined); // release what the plugins that did load hold
    throw error;
  }
  return app;
}
