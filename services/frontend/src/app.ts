// The frontend as one Fastify plugin tree (docs/design.md, "Plugins and routes"; what it
// serves: docs/api.md, "Frontend"): observability (its /metrics on METRICS_PORT only), the
// bus (its NATS connection holds the session and rate-limit buckets), security headers,
// static files, views and the data-service client; then, in a context of their own so health
// checks and static files never load a session, the sessions, form bodies, CSRF, rate limits
// (shared by every replica), the page error handler and one route module per resource.
// Decorations: app.frontendConfig, app.bus (when there is one), app.views, app.dataClient,
// and in the pages' context app.sessionStore.
import { hostname } from "node:os";
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import { busPlugin, observability, readyApp, type AppOptions } from "@signet/shared/http";
import { serverOptions, type LoggerChoice } from "@signet/shared/logging";
import { natsAuthOf } from "@signet/shared/config";
import type { FrontendConfig } from "./config.js";
import { csrf } from "./plugins/csrf.js";
import { dataClient } from "./plugins/data-client.js";
import { metricsPort } from "./plugins/metrics-port.js";
import { rateLimits } from "./plugins/rate-limit.js";
import { security } from "./plugins/security.js";
import { sessions } from "./plugins/sessions.js";
import { staticFiles } from "./plugins/static.js";
import { views } from "./plugins/views.js";
import { accountRoutes } from "./routes/account.js";
import { errorPage, frameworkErrorPage, notFoundPage, pageErrorHandler } from "./routes/errors.js";
import { loginRoutes } from "./routes/login.js";
import { logoutRoutes } from "./routes/logout.js";
import { notesRoutes } from "./routes/notes.js";
import { signupRoutes } from "./routes/signup.js";

export { frontendConfigDefaults } from "./config.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The frontend's settings (config.ts). */
    frontendConfig: FrontendConfig;
  }
}

/** Form bodies: a 10 000-character note of multi-byte text, percent-encoded, still fits. */
const BODY_LIMIT = 256 * 1024;

/**
 * The frontend has no database. A bus handed in (`npm start`) is not closed by the app: a
 * NatsBus's connection holds the session bucket, the in-process bus means sessions in
 * memory. Without one, the app connects to config.natsUrl.
 */
export type FrontendAppOptions = Omit<AppOptions<FrontendConfig>, "db">;

export const frontendApp: FastifyPluginAsync<FrontendAppOptions> = fp(
  async (app: FastifyInstance, { config, bus }: FrontendAppOptions) => {
    app.decorate("frontendConfig", config);
    // /metrics is served on METRICS_PORT only, never on the public port (plugins/metrics-port.ts)
    await app.register(observability, {
      service: "frontend",
      defaultMetrics: config.defaultMetrics,
      metricsRoute: false,
    });
    await app.register(metricsPort);
    if (bus || config.natsUrl) {
      await app.register(busPlugin, {
        bus,
        servers: config.natsUrl,
        auth: natsAuthOf(config),
        name: `signet-frontend-${hostname()}-${process.pid}`,
        // readiness is the session bucket answering ("sessions"), which needs the connection
        readinessCheck: false,
      });
    }
    await app.register(security);
    await app.register(staticFiles);
    await app.register(views);
    await app.register(dataClient);
    app.setNotFoundHandler(notFoundPage);
    app.setErrorHandler(errorPage);

    await app.register(async (pages) => {
      await pages.register(sessions);
      await pages.register(formbody, { bodyLimit: BODY_LIMIT });
      await pages.register(csrf);
      await pages.register(rateLimits);
      pages.setErrorHandler(pageErrorHandler);
      await pages.register(notesRoutes);
      await pages.register(loginRoutes);
      await pages.register(signupRoutes);
      await pages.register(logoutRoutes);
      await pages.register(accountRoutes);
    });
  },
  { name: "signet-frontend" },
);

export type BuildFrontendAppOptions = FrontendAppOptions & { logger?: LoggerChoice };

/** A ready frontend app (not listening); what it created is released by app.close(). */
export const buildFrontendApp = ({ logger, ...options }: BuildFrontendAppOptions) =>
  readyApp(
    serverOptions("frontend", options.config.logLevel, logger, {
      trustProxy: options.config.trustProxy,
      bodyLimit: BODY_LIMIT,
      routerOptions: { maxParamLength: 200 },
      // a URL Fastify cannot decode (`/%ZZ`) gets the HTML 400 page, not Fastify's JSON
      frameworkErrors: frameworkErrorPage,
    }),
    frontendApp,
    options,
  );
