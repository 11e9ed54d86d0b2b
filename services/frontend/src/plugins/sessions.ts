// Sessions, server-side (docs/design.md, "Server-side sessions"; docs/api.md, "Session
// cookie and store"): the store — a NATS JetStream KV bucket over the bus's connection, its
// entries sealed under a key derived from SESSION_SECRET (session-seal.ts), or in memory when
// there is no NATS (`npm start` without NATS_URL) — with its readiness check
// "sessions"; @fastify/cookie and @fastify/session over it; sliding expiry without a store
// write per page view. Only signed-in users have a stored session: anonymous pages store
// nothing (the CSRF secret lives in its own cookie: plugins/csrf.ts).
// Registered in the pages' context only, so health checks, metrics and static files never
// load a session. A store already decorated (a test's) is used as it is and left open.
import { randomBytes } from "node:crypto";
import cookie from "@fastify/cookie";
import session from "@fastify/session";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { NatsBus } from "@signet/shared/bus";
import type { FrontendConfig } from "../config.js";
import { SessionSeal } from "../session-seal.js";
import { MemorySessionStore, NatsKvSessionStore, type SessionStore } from "../session-store.js";
import type { DataUser } from "./data-client.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Where sessions live (the sessions plugin, in the pages' context). */
    sessionStore: SessionStore;
  }
  interface Session {
    user?: DataUser;
    /** The OAuth access token and its secret (never sent to the browser). */
    auth?: { token: string; secret: string; expiresAt: string };
    /** When the session was last written to the store (ms since the epoch): see refreshIfDue. */
    refreshedAt?: number;
  }
}

/** The session cookie (`__Host-` requires Secure, Path=/ and no Domain). */
export const sessionCookieName = (secure: boolean) => (secure ? "__Host-signet.sid" : "signet.sid");

/** SESSION_SECRET's comma-separated secrets: the first signs, all verify (rotation). */
export const sessionSecrets = (config: FrontendConfig) =>
  config.sessionSecret.split(",").map((s) => s.trim());

/** Session ids: 32 bytes from the CSPRNG, base64url (also valid NATS KV keys). */
const newSessionId = () => randomBytes(32).toString("base64url");

/**
 * Sliding expiry without a store write per page view (@fastify/session's `rolling` would
 * re-save the session, a KV put, on every response): a signed-in session is marked modified
 * — so saved, with a new TTL in the bucket and a new cookie expiry — at most once per
 * `intervalMs`. It can therefore expire up to `intervalMs` earlier than a strictly rolling one.
 */
function refreshIfDue(request: FastifyRequest, intervalMs: number): void {
  const session = request.session as FastifyRequest["session"] | undefined;
  if (!session?.user) return;
  const now = Date.now();
  if (session.refreshedAt === undefined || now - session.refreshedAt >= intervalMs) session.refreshedAt = now;
}

/** The session bucket over the bus's NATS connection; in memory when the bus is not NATS or there is none. */
async function openStore(app: FastifyInstance): Promise<SessionStore> {
  const config = app.frontendConfig;
  const ttlMs = config.sessionTtl * 1000;
  const bus = app.hasDecorator("bus") ? app.bus : undefined;
  if (bus instanceof NatsBus) {
    return NatsKvSessionStore.open(bus.nc, {
      bucket: config.sessionBucket,
      ttlMs,
      replicas: config.sessionBucketReplicas,
      // hashed keys and AES-GCM-sealed values: a reader of the bucket learns no credential
      seal: new SessionSeal(sessionSecrets(config)),
    });
  }
  app.log.info("no NATS: sessions are kept in memory (one process only, lost on restart)");
  return new MemorySessionStore(ttlMs);
}

export const sessions = fp(
  async (app) => {
    const config = app.frontendConfig;
    if (!app.hasDecorator("sessionStore")) {
      const store = await openStore(app);
      app.decorate("sessionStore", store);
      app.addHook("onClose", async () => store.close?.());
    }
    const store = app.sessionStore;
    app.addReadinessCheck("sessions", () => store.ping());

    const secrets = sessionSecrets(config);
    // the secrets also sign the CSRF cookie (plugins/csrf.ts)
    await app.register(cookie, { secret: secrets });
    await app.register(session, {
      secret: secrets,
      cookieName: sessionCookieName(config.cookieSecure),
      store,
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
    app.addHook("preHandler", async (request) => refreshIfDue(request, config.sessionRefreshMs));
  },
  { name: "sessions", dependencies: ["signet-observability"] },
);
