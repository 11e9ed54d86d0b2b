// The data service as one Fastify app: oauthRequired on every contract route, the
// account and notes routes, the credential caches and the nonce store, the revocation
// listener, health/readiness/metrics and the OpenAPI document.
import Fastify, { type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { sql, type Kysely } from "kysely";
import { Counter, Histogram } from "prom-client";
import { NatsBus, type Bus } from "@signet/shared/bus";
import { createDb, type Database } from "@signet/shared/db";
import { ApiError, installErrorHandlers, observability } from "@signet/shared/http";
import { baseServerOptions, chooseLogger } from "@signet/shared/logging";
import { type NonceStore } from "@signet/shared/oauth";
import type { DataConfig } from "./config.js";
import type { DataContext } from "./context.js";
import { CredentialCache, type CacheStats } from "./credential-cache.js";
import { PgNonceStore } from "./nonce-store.js";
import { oauthRequired } from "./oauth-plugin.js";
import { listenForRevocations } from "./revocation.js";
import { announcePresence } from "./presence.js";
import { accountRoutes } from "./routes/account.js";
import { notesRoutes } from "./routes/notes.js";
import { ErrorBody, NoteSchema, PublicUserSchema } from "./schemas.js";

export { loadDataConfig, dataConfigDefaults, type DataConfig } from "./config.js";
export {
  CredentialCache,
  TtlLru,
  type AuthConsumer,
  type AuthToken,
  type AuthUser,
  type CacheStats,
} from "./credential-cache.js";
export { PgNonceStore, noopNonceStore } from "./nonce-store.js";
export { oauthRequired, hasScopes, type OAuthRouteOptions } from "./oauth-plugin.js";
export { listenForRevocations } from "./revocation.js";

export interface DataServices {
  context: DataContext;
  cache: CredentialCache;
  /** The PostgreSQL nonce store (undefined when the caller swapped in another NonceStore). */
  nonceStore: PgNonceStore | undefined;
  cacheStats(): CacheStats;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The data service's parts, for tests and the benchmark. */
    signetData: DataServices;
  }
}

export interface BuildDataAppOptions {
  config: DataConfig;
  /** A database the caller owns (not closed by the app). */
  db?: Kysely<Database>;
  /** A bus the caller owns (not closed by the app). */
  bus?: Bus;
  /** false: silent; an object: pino options merged over the defaults (e.g. a `stream`), or a pino logger. */
  logger?: boolean | object;
  /** Replaces the PostgreSQL nonce store (the benchmark's no-op run only). */
  nonceStore?: NonceStore;
  /** Registers extra routes before the app is made ready (the benchmark's unsigned baseline). */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
}

/** Keeps the raw bytes (they are signed) and parses them. */
function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8")) as unknown);
    } catch {
      done(new ApiError(400, "invalid_input", "the body is not valid JSON"), undefined);
    }
  });
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "buffer" },
    (request, body: Buffer, done) => {
      request.rawBody = body;
      const fields: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(body.toString("utf8"))) {
        if (!(name in fields) && name !== "__proto__") fields[name] = value;
      }
      done(null, fields);
    },
  );
  // Anything else: kept for the body hash, never parsed; a route expecting a body then
  // answers 400 invalid_input through its schema.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    request.rawBody = body;
    done(null, undefined);
  });
}

export async function buildDataApp(options: BuildDataAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const { keyring } = config;

  const ownsDb = !options.db;
  const ownsBus = !options.bus;
  let db = options.db;
  let bus = options.bus;
  if (!db) {
    if (!config.databaseUrl) throw new Error("buildDataApp: config.databaseUrl or options.db is required");
    db = createDb(config.databaseUrl, { applicationName: `signet-data-${config.podId}`.slice(0, 63) });
  }

  const serverOptions = baseServerOptions(config.logLevel, "data");
  const app = Fastify({
    ...serverOptions,
    ...chooseLogger(serverOptions.logger, options.logger),
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimit,
    // Header values and URLs of any size end as a clean 4xx, never a crash.
    routerOptions: { maxParamLength: 200 },
  });

  try {
    if (!bus) {
      if (!config.natsUrl) throw new Error("buildDataApp: config.natsUrl or options.bus is required");
      bus = await NatsBus.connect({
        servers: config.natsUrl,
        name: `signet-data-${config.podId}`,
        onHandlerError: (error, subject) => app.log.error({ err: error, subject }, "event handler failed"),
      });
    }
  } catch (error) {
    if (ownsDb) await db.destroy();
    throw error;
  }
  const theDb = db;
  const theBus = bus;

  await app.register(observability, { service: "data", defaultMetrics: config.defaultMetrics });
  installErrorHandlers(app);
  installBodyParsers(app);
  await app.register(rateLimit, { global: false });

  // ---- metrics --------------------------------------------------------------------------
  const cacheLookups = new Counter({
    name: "signet_credential_cache_lookups_total",
    help: "Credential cache lookups by kind (consumer, token) and result (hit, miss, bypass: bus disconnected)",
    labelNames: ["kind", "result"],
    registers: [app.metrics],
  });
  const nonceBatch = new Histogram({
    name: "signet_nonce_batch_size",
    help: "Nonces per insert statement",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [app.metrics],
  });
  const nonceInsert = new Histogram({
    name: "signet_nonce_insert_seconds",
    help: "Duration of one batched nonce insert",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [app.metrics],
  });
  const noncesPurged = new Counter({
    name: "signet_nonces_purged_total",
    help: "Expired nonce rows deleted",
    registers: [app.metrics],
  });
  const revocationEvents = new Counter({
    name: "signet_revocation_events_total",
    help: "Revocation events handled (and confirmed) by subject",
    labelNames: ["subject"],
    registers: [app.metrics],
  });

  // ---- caches, nonces, revocation ------------------------------------------------------------
  const cache = new CredentialCache({
    db: theDb,
    keyring,
    bus: theBus,
    maxAgeMs: config.cacheMaxAgeMs,
    maxEntries: config.cacheMaxEntries,
    events: {
      hit: (kind) => cacheLookups.inc({ kind, result: "hit" }),
      miss: (kind) => cacheLookups.inc({ kind, result: "miss" }),
      bypass: (kind) => cacheLookups.inc({ kind, result: "bypass" }),
    },
  });
  const pgNonces = options.nonceStore
    ? undefined
    : new PgNonceStore(theDb, {
        timestampWindow: config.timestampWindow,
        purgeIntervalMs: config.noncePurgeIntervalMs,
        maxInFlight: config.nonceMaxInFlight,
        events: {
          batch: (size, seconds) => {
            nonceBatch.observe(size);
            nonceInsert.observe(seconds);
          },
          purged: (rows) => noncesPurged.inc(rows),
          purgeError: (error) => app.log.warn({ err: error }, "nonce purge failed"),
        },
      });
  const nonces: NonceStore = options.nonceStore ?? pgNonces!;

  const stopListening = listenForRevocations({
    bus: theBus,
    cache,
    podId: config.podId,
    onEvent: (subject) => revocationEvents.inc({ subject }),
  });
  // After the subscriptions: a pod the registry knows can always confirm.
  const presence = announcePresence({
    bus: theBus,
    podId: config.podId,
    intervalMs: config.heartbeatIntervalMs,
    onError: (error) => app.log.warn({ err: error }, "presence heartbeat failed"),
  });
  if (theBus instanceof NatsBus) {
    theBus.onStatus((status) => app.log.warn({ status }, `NATS ${status}; credential caches cleared`));
  }

  const context: DataContext = { config, db: theDb, bus: theBus, keyring, cache };
  app.decorate("signetData", { context, cache, nonceStore: pgNonces, cacheStats: () => cache.stats() });

  // ---- readiness and shutdown -------------------------------------------------------------
  app.addReadinessCheck("database", async () => {
    await sql`select 1`.execute(theDb);
  });
  if (theBus instanceof NatsBus) {
    app.addReadinessCheck("nats", async () => {
      if (!theBus.isConnected()) throw new Error("NATS is not connected");
    });
  }
  app.addHook("onClose", async () => {
    await presence.stop();
    stopListening();
    pgNonces?.close();
    if (ownsBus) await theBus.close();
    if (ownsDb) await theDb.destroy();
  });

  // ---- OpenAPI ----------------------------------------------------------------------------
  app.addSchema(ErrorBody);
  app.addSchema(PublicUserSchema);
  app.addSchema(NoteSchema);
  if (config.docs) {
    await app.register(swagger, {
      openapi: {
        openapi: "3.0.3",
        info: {
          title: "Signet data API",
          version: "0.1.0",
          description:
            "Users, tokens and notes. Every route but /healthz, /readyz and /metrics needs an OAuth 1.0a (RFC 5849) signed request. " +
            'Errors are `{"error": CODE, "message": TEXT}`.',
        },
        components: {
          securitySchemes: {
            oauth1: {
              type: "http",
              scheme: "OAuth",
              description:
                "OAuth 1.0a (RFC 5849) in `Authorization: OAuth …`: HMAC-SHA256 or HMAC-SHA1 over the signature base string " +
                "(method, the absolute URL clients sign against — SIGNET_PUBLIC_URL behind a proxy — query and form parameters). " +
                "Signing key `enc(consumer_secret)&enc(token_secret)`; consumer-only routes leave the token part empty and send no oauth_token. " +
                "A JSON body needs `oauth_body_hash` (base64 SHA-256 for HMAC-SHA256, SHA-1 for HMAC-SHA1 of the raw bytes). " +
                "oauth_timestamp within SIGNET_TIMESTAMP_WINDOW seconds; an oauth_nonce is accepted once per consumer and token across every pod. " +
                'Failures are 401 with `WWW-Authenticate: OAuth realm="signet", oauth_problem="CODE"`. ' +
                "Scopes: a consumer with an empty scope list may call every route; otherwise a route's scope must be granted (403 insufficient_scope).",
            },
          },
        },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === "string" ? json.$id : `def-${i}`,
      },
    });
    await app.register(swaggerUi, { routePrefix: "/docs" });
  }

  // ---- routes -----------------------------------------------------------------------------
  await app.register(oauthRequired, {
    credentials: cache,
    nonces,
    timestampWindow: config.timestampWindow,
    publicUrl: config.publicUrl,
  });
  await app.register(async (scope) => accountRoutes(scope, context));
  await app.register(async (scope) => notesRoutes(scope, context));
  if (options.extraRoutes) await app.register(async (scope) => options.extraRoutes!(scope));

  await app.ready();
  return app;
}
