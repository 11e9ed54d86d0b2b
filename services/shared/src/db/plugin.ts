// The database as a named fastify-plugin plugin: `db` decorates `app.db` (Kysely over
// PostgreSQL), adds the readiness check "database" and destroys only a pool it created.
// Exported from @signet/shared/db, so only the services that own data (data, registry)
// reach it; the frontend never loads pg or kysely (docs/design.md, "Conventions").
import fp from "fastify-plugin";
import { sql, type Kysely } from "kysely";
import { createDb } from "./connect.js";
import type { Database } from "./schema.js";

declare module "fastify" {
  interface FastifyInstance {
    /** PostgreSQL through Kysely (the db plugin). */
    db: Kysely<Database>;
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
