// Rate limits for the routes that ask for one in their `config.rateLimit` (POST /login and
// POST /signup, per client address and minute of the clock; docs/api.md, "Rate limits"),
// shared by every frontend replica: @fastify/rate-limit over counters in the NATS KV bucket
// RATE_LIMIT_BUCKET (rate-limit-counters.ts), in memory when there is no NATS (`npm start`
// without NATS_URL). Counter keys are the route and an HMAC of the client address (keyed from
// SESSION_SECRET under a label of its own), so the bucket holds no address. Above the limit
// the error handler shows the 429 page with Retry-After; counters out of reach, the 503 page.
import { createHmac, hkdfSync } from "node:crypto";
import rateLimit, { type FastifyRateLimitStore } from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { NatsBus } from "@signet/shared/bus";
import { KvCounters, MemoryCounters, type Counters, type Hit } from "../rate-limit-counters.js";
import { sessionSecrets } from "./sessions.js";

/** The window of every frontend limit. */
const WINDOW_MS = 60_000;

async function openCounters(app: FastifyInstance): Promise<Counters> {
  const config = app.frontendConfig;
  const bus = app.hasDecorator("bus") ? app.bus : undefined;
  if (bus instanceof NatsBus) {
    return KvCounters.open(bus.nc, {
      bucket: config.rateLimitBucket,
      maxWindowMs: WINDOW_MS,
      replicas: config.sessionBucketReplicas,
    });
  }
  app.log.info("no NATS: rate-limit counters are kept in memory (one process only)");
  return new MemoryCounters();
}

/** A KV-key-safe name of the route a limit belongs to (`post.login`). */
function routeName(params: unknown): string {
  const route = (params as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo;
  const name = `${String(route?.method ?? "any")}.${String(route?.url ?? "")}`;
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ".")
    .replace(/^\.+|\.+$/g, "");
}

/** The store class @fastify/rate-limit instantiates: one child per limited route, all over `counters`. */
function sharedStore(counters: Counters, keyOf: (address: string) => string) {
  return class SharedCounterStore implements FastifyRateLimitStore {
    constructor(
      _params: unknown,
      private readonly route = "any",
    ) {}

    incr(
      key: string,
      callback: (error: Error | null, result?: Hit) => void,
      timeWindow: number,
      max: number,
    ) {
      counters.hit(`${this.route}.${keyOf(key)}`, timeWindow, max).then(
        (hit) => callback(null, hit),
        (error: Error) => callback(error),
      );
    }

    child(params: unknown): FastifyRateLimitStore {
      return new SharedCounterStore(undefined, routeName(params));
    }
  };
}

export const rateLimits = fp(
  async (app) => {
    const counters = await openCounters(app);
    app.addHook("onClose", async () => counters.close());
    const [first] = sessionSecrets(app.frontendConfig);
    const hmacKey = Buffer.from(hkdfSync("sha256", first!, "", "signet-frontend rate-limit key v1", 32));
    const keyOf = (address: string) => createHmac("sha256", hmacKey).update(address).digest("base64url");
    await app.register(rateLimit, {
      global: false,
      store: sharedStore(counters, keyOf),
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error("too many requests"), {
          statusCode: 429,
          retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
        }),
    });
  },
  { name: "rate-limit" },
);

/** The route option of a form limited to `max` POSTs per client address and minute. */
export const perMinute = (max: number) => ({ rateLimit: { max, timeWindow: WINDOW_MS } });
