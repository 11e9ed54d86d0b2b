// The frontend's Prometheus metrics on a port of their own (METRICS_PORT; docs/api.md,
// "Frontend"): the public port — the one the ingress routes — never serves /metrics. A plain
// node:http listener answers GET /metrics with app.metrics and 404 to anything else; it listens
// once the app is ready (a port already taken fails the start) and closes with the app.
// METRICS_PORT 0 opens no listener (the default under tests and `npm start`).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

function answer(app: FastifyInstance, request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? "").split("?")[0];
  if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
    response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    return;
  }
  app.metrics.metrics().then(
    (text) => {
      response.writeHead(200, { "content-type": app.metrics.contentType });
      response.end(request.method === "HEAD" ? undefined : text);
    },
    (error: unknown) => {
      app.log.error({ err: error }, "collecting metrics failed");
      response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("error\n");
    },
  );
}

export const metricsPort = fp(
  async (app) => {
    const { metricsPort: port, host } = app.frontendConfig;
    if (port === 0) return;
    const server = createServer((request, response) => answer(app, request, response));
    app.addHook("onReady", async () => {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      app.log.info({ host, port }, "metrics listening");
    });
    app.addHook("onClose", async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // a scraper's idle keep-alive connection must not hold the close
      await closed;
    });
  },
  { name: "metrics-port", dependencies: ["signet-observability"] },
);
