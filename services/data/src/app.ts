// The data service as one Fastify plugin tree (docs/design.md, "Plugins and routes"):
// observability, then the plugins — db, bus, body parsers, rate limits, credentials,
// nonces, revocations, presence, oauth, docs — then one route module per resource.
// Decorations: app.dataConfig, app.db, app.bus, app.credentials, app.nonces.
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
import type { DataConfig } from "./config.js";
import { bodyParsers } from "./plugins/body-parsers.js";
import { credentials } from "./plugins/credentials.js";
import { docs } from "./plugins/docs.js";
import { nonces } from "./plugins/nonces.js";
import { failClosed, oauth } from "./plugins/oauth.js";
import { presence } from "./plugins/presence.js";
import { rateLimits } from "./plugins/rate-limit.js";
import { revocations } from "./plugins/revocations.js";
import { authenticateRoutes } from "./routes/authenticate.js";
import { logoutRoutes } from "./routes/logout.js";
import { meRoutes } from "./routes/me.js";
import { notesRoutes } from "./routes/notes.js";
import { usersRoutes } from "./routes/users.js";
import { ErrorBody, NoteSchema, PublicUserSchema } from "./schemas.js";

export { dataConfigDefaults, type DataConfig } from "./config.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The data service's settings (config.ts). */
    dataConfig: DataConfig;
  }
}

export type DataAppOptions = AppOptions<DataConfig>;

export const dataApp: FastifyPluginAsync<DataAppOptions> = fp(
  async (app: FastifyInstance, { config, db, bus }: DataAppOptions) => {
    const connectionName = `signet-data-${config.podId}`;
    app.decorate("dataConfig", config);
    // fail closed: ready() throws if a route declaring config.oauth lacks the check
    failClosed(app);
    await app.register(observability, { service: "data", defaultMetrics: config.defaultMetrics });
    installErrorHandlers(app);
    // The schemas routes reference by $id ("Error", "User", "Note").
    for (const schema of [ErrorBody, PublicUserSchema, NoteSchema]) app.addSchema(schema);

    await app.register(dbPlugin, { db, url: config.databaseUrl, applicationName: connectionName });
    await app.register(busPlugin, {
      bus,
      servers: config.natsUrl,
      name: connectionName,
      auth: natsAuthOf(config),
      keyring: config.keyring,
    });
    await app.register(bodyParsers);
    await app.register(rateLimits);
    await app.register(credentials);
    await app.register(nonces);
    await app.register(revocations);
    await app.register(presence);
    // before every route: it gives each route that declares config.oauth its check as the
    // route is declared (plugins/oauth.ts); a route declared earlier would go unchecked
    await app.register(oauth);
    await app.register(docs);

    await app.register(authenticateRoutes);
    await app.register(usersRoutes);
    await app.register(meRoutes);
    await app.register(logoutRoutes);
    await app.register(notesRoutes);
  },
  { name: "signet-data" },
);

/** Fastify's server options for the data service (the benchmark builds its own app on them). */
export const dataServerOptions = (config: DataConfig, logger?: LoggerChoice) =>
  serverOptions("data", config.logLevel, logger, {
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimit,
    // Header values and URLs of any size end as a clean 4xx, never a crash.
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: jsonFrameworkErrors,
  });

/** A ready data app (not listening); what it created is released by app.close(). */
export const buildDataApp = ({ logger, ...options }: DataAppOptions & { logger?: LoggerChoice }) =>
  readyApp(dataServerOptions(options.config, logger), dataApp, options);
