// The data app as buildDataApp makes it, plus what a benchmark adds: a NonceStore
// decorated before the app (its nonces plugin then keeps it instead of PostgreSQL's) and
// routes registered after it (the unsigned and JWT baselines of the same handler).
import Fastify, { type FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { type Bus } from "@signet/shared/bus";
import { type Database } from "@signet/shared/db";
import { type NonceStore } from "@signet/shared/oauth";
import { dataApp, dataServerOptions, type DataConfig } from "@signet/data";

export async function benchDataApp(options: {
  config: DataConfig;
  db: Kysely<Database>;
  bus: Bus;
  nonces?: NonceStore;
  routes?: (app: FastifyInstance) => void | Promise<void>;
}): Promise<FastifyInstance> {
  const { config, db, bus, nonces, routes } = options;
  const app = Fastify(dataServerOptions(config, false));
  if (nonces) app.decorate("nonces", nonces);
  await app.register(dataApp, { config, db, bus });
  if (routes) await app.register(async (scope) => routes(scope));
  await app.ready();
  return app;
}
