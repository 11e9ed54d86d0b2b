// The frontend as one Fastify app: HTML pages over the data service, sessions in a NATS
// JetStream KV bucket (shared by every replica, surviving restarts) for signed-in users only,
// CSRF on every form (secret in a signed cookie, so anonymous pages store nothing), strict
// security headers, rate-limited login and sign-up, friendly error pages.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import Fastify, { type FastifyInstance } from "fastify";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import session from "@fastify/session";
import fastifyStatic from "@fastify/static";
import { NatsBus, type Bus } from "@signet/shared/bus";
import { observability } from "@signet/shared/http";
import { baseServerOptions, chooseLogger } from "@signet/shared/logging";
import { defaultSessionRefreshMs, type FrontendConfig } from "./config.js";
import { csrfCookieName, registerCsrf } from "./csrf.js";
import { DataClient } from "./data-client.js";
import { sendPage } from "./pages.js";
import { PICO_CSS_DIR, PUBLIC_DIR } from "./paths.js";
import { commonErrorPage, pageErrorHandler, pageRoutes, type PageContext } from "./routes.js";
import { refreshIfDue } from "./session.js";
import { MemorySessionStore, NatsKvSessionStore, type SessionStore } from "./session-store.js";
import { Views } from "./views.js";

export { loadFrontendConfig, frontendConfigDefaults, type FrontendConfig } from "./config.js";
export {
  MemorySessionStore,
  NatsKvSessionStore,
  SessionStoreUnavailableError,
  type SessionStore,
} from "./session-store.js";
export { safeNext } from "./safe-next.js";

export interface BuildFrontendAppOptions {
  config: FrontendConfig;
  /**
   * Where sessions live. Default: a NATS KV bucket (config.sessionBucket) over `bus` when it is a
   * NatsBus, else over a connection to config.natsUrl; with neither, an in-memory store (one process
   * only: `npm start` without NATS). A store passed in is not closed by the app.
   */
  sessionStore?: SessionStore;
  /** A bus the caller owns (not closed by the app); a NatsBus's connection carries the session bucket. */
  bus?: Bus;
  /** false: silent; an object: pino options merged over the defaults (e.g. a `stream`), or a pino logger. */
  logger?: boolean | object;
}

/** Session ids: 32 bytes from the CSPRNG, base64url (also valid NATS KV keys). */
const newSessionId = () => randomBytes(32).toString("base64url");

export async function buildFrontendApp(options: BuildFrontendAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const serverOptions = baseServerOptions(config.logLevel, "frontend");
  const app = Fastify({
    ...serverOptions,
    ...chooseLogger(serverOptions.logger, options.logger),
    trustProxy: config.trustProxy,
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: 200 },
  });

  // ---- session store -------------------------------------------------------------------
  let store = options.sessionStore;
  let ownedBus: NatsBus | undefined;
  let ownedStore: SessionStore | undefined;
  try {
    if (!store) {
      const ttlMs = config.sessionTtl * 1000;
      let nats: NatsBus | undefined = options.bus instanceof NatsBus ? options.bus : undefined;
      if (!nats && config.natsUrl) {
        ownedBus = await NatsBus.connect({
          servers: config.natsUrl,
          name: `signet-frontend-${hostname()}-${process.pid}`,
        });
        nats = ownedBus;
      }
      if (nats) {
        store = ownedStore = await NatsKvSessionStore.open(nats.nc, {
          bucket: config.sessionBucket,
          ttlMs,
          replicas: config.sessionBucketReplicas,
        });
      } else {
        store = ownedStore = new MemorySessionStore(ttlMs);
        app.log.warn("no NATS: sessions are kept in memory (one process only, lost on restart)");
      }
    }
  } catch (error) {
    await ownedBus?.close();
    await app.close();
    throw error;
  }
  const sessionStore = store;
  app.addHook("onClose", async () => {
    await ownedStore?.close?.();
    await ownedBus?.close();
  });

  // ---- cross-cutting: health, metrics, headers, static files ---------------------------
  await app.register(observability, { service: "frontend", defaultMetrics: config.defaultMetrics });
  if (sessionStore.ping) {
    const ping = sessionStore.ping.bind(sessionStore);
    app.addReadinessCheck("sessions", ping);
  }

  await app.register(helmet, {
    // No script may run at all: the site works without JavaScript.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'none'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(config.cookieSecure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: config.cookieSecure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
    xFrameOptions: { action: "deny" },
  });

  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: "/static/",
    maxAge: "1h",
    index: false,
    wildcard: false,
  });
  await app.register(fastifyStatic, {
    root: PICO_CSS_DIR,
    prefix: "/static/pico/",
    maxAge: "1d",
    index: false,
    wildcard: false,
    decorateReply: false,
    allowedPath: (pathName) => /^\/pico\.classless(\.[a-z]+)?\.min\.css$/.test(pathName),
  });
  app.get("/favicon.ico", async (_request, reply) => reply.redirect("/static/favicon.svg", 301));
  app.get("/robots.txt", async (_request, reply) => reply.sendFile("robots.txt"));

  const views = new Views();
  const data = new DataClient({
    baseUrl: config.dataUrl,
    consumerKey: config.consumerKey,
    consumerSecret: config.consumerSecret,
    timeoutMs: config.dataTimeoutMs,
  });
  const cookieName = config.cookieSecure ? "__Host-signet.sid" : "signet.sid";
  const ctx: PageContext = {
    config,
    views,
    data,
    cookies: { session: cookieName, csrf: csrfCookieName(config.cookieSecure), secure: config.cookieSecure },
  };
  const sessionSecrets = config.sessionSecret.split(",").map((s) => s.trim());

  app.setNotFoundHandler((request, reply) => sendPage(views, request, reply, "not_found"));
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) =>
    commonErrorPage(views, request, reply, error),
  );

  // ---- the pages: sessions, forms, CSRF, rate limits live only in this context ---------
  await app.register(async (pages) => {
    // the secrets sign the CSRF cookie (first signs, all verify)
    await pages.register(cookie, { secret: sessionSecrets });
    await pages.register(session, {
      secret: sessionSecrets,
      cookieName,
      store: sessionStore,
      idGenerator: newSessionId,
      // stored only once something is put in it: a sign-in (anonymous visits cost the store nothing)
      saveUninitialized: false,
      // the session is re-saved when modified only; refreshIfDue (below) slides its expiry
      rolling: false,
      cookie: {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        secure: config.cookieSecure,
        maxAge: config.sessionTtl * 1000,
      },
    });
    const refreshMs = config.sessionRefreshMs ?? defaultSessionRefreshMs(config.sessionTtl);
    pages.addHook("preHandler", async (request) => refreshIfDue(request, refreshMs));
    // a 10 000-character note of multi-byte text, percent-encoded, still fits
    await pages.register(formbody, { bodyLimit: 256 * 1024 });
    await registerCsrf(pages, { sessionSecrets, secure: config.cookieSecure });
    await pages.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error("too many requests"), {
          statusCode: 429,
          retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
        }),
    });
    pages.setErrorHandler(pageErrorHandler(ctx));
    await pageRoutes(pages, ctx);
  });

  return app;
}
