// The dependencies every service shares, as named fastify-plugin plugins: `db` decorates
// `app.db` (Kysely over PostgreSQL), `bus` decorates `app.bus` (NATS, or the in-process bus
// `npm start` hands in). Each adds its readiness check and releases only what it created,
// in onClose. The convention of all three services: plugins decorate, routes read
// `request.server` / `app` decorations; nothing is passed around in context objects.
import fp from "fastify-plugin";
import { sql, type Kysely } from "kysely";
import { NatsBus, type Bus } from "../bus.js";
import { createDb } from "../db/connect.js";
import type { Database } from "../db/schema.js";

declare module "fastify" {
  interface FastifyInstance {
    /** PostgreSQL through Kysely (the db plugin). */
    db: Kysely<Database>;
    /** The event bus (the bus plugin). */
    bus: Bus;
  }
}

export interface DbPluginOptions {
  /** A database the caller owns (`npm start` shares one); not closed by the app. */
  db?: Kysely<Database> | undefined;
  /** Otherwise a pool to this URL, closed with the app. */
  url?: string | undefined;
  /** PostgreSQL's application_name for the pool's connections. */
  applicationName: string;
}

export const dbPlugin = fp(
  async (app, options: DbPluginOptions) => {
    let db = options.db;
    if (!db) {
      if (!options.url) throw new Error("the db plugin needs DATABASE_URL or a database handed in");
      const owned = createDb(options.url, { applicationName: options.applicationName.slice(0, 63) });
      app.addHook("onClose", async () => owned.destroy());
      db = owned;
    }
    const theDb = db;
    app.decorate("db", theDb);
    app.addReadinessCheck("database", async () => {
      await sql`select 1`.execute(theDb);
    });
  },
  { name: "db", dependencies: ["signet-observability"] },
);

export interface BusPluginOptions {
  /** A bus the caller owns (`npm start`'s in-process bus); not closed by the app. */
  bus?: Bus | undefined;
  /** Otherwise a NATS connection to these servers (NATS_URL), drained with the app. */
  servers?: string | undefined;
  /** The connection's name as the NATS server shows it. */
  name: string;
}

export const busPlugin = fp(
  async (app, options: BusPluginOptions) => {
    let bus = options.bus;
    if (!bus) {
      if (!options.servers) throw new Error("the bus plugin needs NATS_URL or a bus handed in");
      const owned = await NatsBus.connect({
        servers: options.servers,
        name: options.name,
        onHandlerError: (error, subject) => app.log.error({ err: error, subject }, "event handler failed"),
      });
      app.addHook("onClose", async () => owned.close());
      bus = owned;
    }
    const theBus = bus;
    app.decorate("bus", theBus);
    if (theBus instanceof NatsBus) {
      app.addReadinessCheck("nats", async () => {
        if (!theBus.isConnected()) throw new Error("NATS is not connected");
      });
    }
  },
  { name: "bus", dependencies: ["signet-observability"] },
);
