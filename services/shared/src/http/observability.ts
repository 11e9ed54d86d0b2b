// Health, readiness, Prometheus metrics and request-id echo, shared by every service.
// Each app instance has its own registry so several can live in one process.
import fp from "fastify-plugin";
import type { FastifyInstance, RouteShorthandOptions } from "fastify";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type ReadinessCheck = () => Promise<void>;

declare module "fastify" {
  interface FastifyInstance {
    metrics: Registry;
    /** Adds a readiness check; /readyz answers 503 naming the first that fails. */
    addReadinessCheck(name: string, check: ReadinessCheck): void;
    /** Turns readiness false (first step of a graceful shutdown). */
    markShuttingDown(): void;
  }
}

export interface ObservabilityOptions {
  service: string;
  /** Collect process metrics (memory, CPU, event loop); off in tests with many apps. */
  defaultMetrics?: boolean;
  /** false: no GET /metrics route on this instance (the frontend serves app.metrics on a port of its own). */
  metricsRoute?: boolean;
}

export const observability = fp(
  async (app: FastifyInstance, options: ObservabilityOptions) => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
    const requests = new Counter({
      name: "signet_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
    const duration = new Histogram({
      name: "signet_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });

    const checks = new Map<string, ReadinessCheck>();
    let shuttingDown = false;
    app.decorate("metrics", registry);
    app.decorate("addReadinessCheck", (name: string, check: ReadinessCheck) => void checks.set(name, check));
    app.decorate("markShuttingDown", () => {
      shuttingDown = true;
    });

    // While closing, answer in-flight requests with "Connection: close" and drop the
    // connections they leave idle: a keep-alive connection that was busy when close()
    // began would otherwise hold server.close() open until its keep-alive timeout.
    let closing = false;
    app.addHook("preClose", async () => {
      closing = true;
    });
    app.addHook("onSend", async (request, reply, payload) => {
      reply.header("x-request-id", request.id);
      if (closing) reply.header("connection", "close");
      return payload;
    });
    app.addHook("onResponse", async (request, reply) => {
      if (closing) setImmediate(() => app.server.closeIdleConnections?.());
      const route = request.routeOptions.url ?? "unmatched";
      requests.inc({ method: request.method, route, status: reply.statusCode });
      duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });

    // Kept out of the OpenAPI document (`hide` is read by @fastify/swagger).
    const hidden = { schema: { hide: true } } as RouteShorthandOptions;
    app.get("/healthz", hidden, async () => ({ status: "ok" }));
    app.get("/readyz", hidden, async (request, reply) => {
      if (shuttingDown) return reply.code(503).send({ status: "shutting_down" });
      for (const [name, check] of checks) {
        try {
          await check();
        } catch (error) {
          request.log.warn({ err: error, check: name }, "readiness check failed");
          return reply.code(503).send({ status: "unready", failed: name });
        }
      }
      return { status: "ready" };
    });
    if (options.metricsRoute !== false) {
      app.get("/metrics", hidden, async (_request, reply) => {
        reply.type(registry.contentType);
        return registry.metrics();
      });
    }
  },
  { name: "signet-observability" },
);
