// The registry: admin API (consumers, users, audit, known data pods), the confirmed revocation path and
// the outbox relay, as one Fastify app. Passed-in db/bus are used and left open (npm
// start shares them between services); otherwise they are created from config and
// released in onClose.
import Fastify, { type FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Counter, Gauge, Histogram } from "prom-client";
import { NatsBus, type Bus } from "@signet/shared/bus";
import { createDb, type Database } from "@signet/shared/db";
import { installErrorHandlers, observability } from "@signet/shared/http";
import { baseServerOptions, chooseLogger } from "@signet/shared/logging";
import type { RegistryConfig } from "./config.js";
import type { RegistryDeps } from "./deps.js";
import { bearerHook } from "./auth.js";
import { importBootstrapConsumers } from "./bootstrap.js";
import { OutboxRelay } from "./outbox-relay.js";
import { PodPresence } from "./presence.js";
import { Announcer, type AnnouncerOptions } from "./revocation.js";
import { ErrorBody } from "./schemas.js";
import { consumerRoutes } from "./routes/consumers.js";
import { userRoutes } from "./routes/users.js";
import { auditRoutes } from "./routes/audit.js";
import { podRoutes } from "./routes/pods.js";

export type { RegistryConfig } from "./config.js";
export { loadRegistryConfig, registryConfigDefaults } from "./config.js";

export interface BuildRegistryOptions {
  config: RegistryConfig;
  db?: Kysely<Database>;
  bus?: Bus;
  logger?: boolean | object;
  /** Collect process metrics (default true; tests with many apps turn it off). */
  defaultMetrics?: boolean;
  /** Failure injection / observation points of the revocation path (tests, benchmarks). */
  afterCommit?: AnnouncerOptions["afterCommit"];
  onAnnounced?: AnnouncerOptions["onAnnounced"];
  /** Start the outbox relay (default true). */
  relay?: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The registry's outbox relay (tests drive `tick()` directly). */
    outboxRelay: OutboxRelay;
    /** The data pods the registry knows to be alive (tests, diagnostics). */
    podPresence: PodPresence;
  }
}

export async function buildRegistryApp(options: BuildRegistryOptions): Promise<FastifyInstance> {
  const { config } = options;
  const base = baseServerOptions(config.logLevel, "registry");
  const app = Fastify({
    ...base,
    ...chooseLogger(base.logger, options.logger),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const { keyring } = config;
  const ownDb = !options.db;
  if (!options.db && !config.databaseUrl)
    throw new Error("buildRegistryApp: config.databaseUrl or options.db is required");
  const db = options.db ?? createDb(config.databaseUrl!, { applicationName: "signet-registry" });
  let ownBus = false;
  let bus: Bus;
  if (options.bus) {
    bus = options.bus;
  } else {
    try {
      bus = await NatsBus.connect({ servers: config.natsUrl ?? "", name: `signet-registry-${process.pid}` });
      ownBus = true;
    } catch (error) {
      if (ownDb) await db.destroy();
      throw error;
    }
  }

  installErrorHandlers(app);
  await app.register(observability, { service: "registry", defaultMetrics: options.defaultMetrics ?? true });
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
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

  const confirmed = new Histogram({
    name: "signet_registry_confirmed_pods",
    help: "Data pods that confirmed an announced event within the window",
    labelNames: ["subject"],
    buckets: [0, 1, 2, 3, 5, 8, 13, 21],
    registers: [app.metrics],
  });
  const announceSeconds = new Histogram({
    name: "signet_registry_announce_seconds",
    help: "From commit to the end of confirmation gathering",
    labelNames: ["subject"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [app.metrics],
  });
  const unconfirmed = new Counter({
    name: "signet_registry_unconfirmed_pods_total",
    help: "Known data pods (alive by their heartbeats) that did not confirm an announced event within the window; each is named in a warning log",
    labelNames: ["subject"],
    registers: [app.metrics],
  });
  const presence = new PodPresence({ bus, log: app.log.child({ component: "presence" }) });
  new Gauge({
    name: "signet_registry_known_data_pods",
    help: "Data pods whose heartbeat (signet.pod.heartbeat) the registry heard recently: the confirmations a revoke waits for",
    registers: [app.metrics],
    collect() {
      this.set(presence.size);
    },
  });
  presence.start();
  app.decorate("podPresence", presence);
  const relayed = new Counter({
    name: "signet_registry_outbox_relayed_total",
    help: "Outbox events published by the relay (not by the request that wrote them)",
    registers: [app.metrics],
  });

  const announcer = new Announcer({
    db,
    bus,
    log: app.log,
    windowMs: config.confirmWindowMs,
    expected: config.confirmExpected,
    presence,
    ...(options.afterCommit ? { afterCommit: options.afterCommit } : {}),
    onAnnounced: (event) => {
      confirmed.observe({ subject: event.subject }, event.confirmedPods);
      announceSeconds.observe({ subject: event.subject }, (event.gatheredAt - event.committedAt) / 1000);
      if (event.unconfirmedPods.length > 0)
        unconfirmed.inc({ subject: event.subject }, event.unconfirmedPods.length);
      options.onAnnounced?.(event);
    },
  });
  const deps: RegistryDeps = { config, db, bus, keyring, announcer };

  const relay = new OutboxRelay({
    db,
    bus,
    log: app.log.child({ component: "outbox-relay" }),
    intervalMs: config.relayIntervalMs,
    minAgeMs: config.relayMinAgeMs,
    onPublished: (count) => relayed.inc(count),
  });
  app.decorate("outboxRelay", relay);

  app.addReadinessCheck("database", async () => {
    await sql`select 1`.execute(db);
  });
  if (bus instanceof NatsBus) {
    app.addReadinessCheck("nats", async () => {
      if (!bus.isConnected()) throw new Error("NATS is not connected");
    });
  }

  // The admin API: everything in here needs a bearer token; /healthz, /readyz, /metrics
  // and /docs live outside this scope.
  await app.register(async (admin) => {
    admin.addHook("onRequest", bearerHook(config.adminTokens));
    await admin.register(consumerRoutes, { deps });
    await admin.register(userRoutes, { deps });
    await admin.register(auditRoutes, { deps });
    await admin.register(podRoutes, { presence });
  });

  if (options.relay !== false) app.addHook("onReady", async () => relay.start());
  app.addHook("onClose", async () => {
    await relay.stop();
    presence.stop();
    if (ownBus) await bus.close();
    if (ownDb) await db.destroy();
  });

  try {
    await importBootstrapConsumers(deps, config.bootstrapConsumers, app.log);
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}
