// `npm run migrate`: applies migrations to DATABASE_URL (idempotent).
import { createDb } from "./connect.js";
import { migrateToLatest } from "./migrate.js";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("migrate: missing required setting: DATABASE_URL");
  process.exit(1);
}
const db = createDb(url, { max: 1, applicationName: "signet-migrate", connectionTimeoutMillis: 10_000 });
try {
  const { results = [] } = await migrateToLatest(db);
  for (const r of results)
    console.log(`${r.status === "Success" ? "applied" : r.status}: ${r.migrationName}`);
  if (results.length === 0) console.log("database is up to date");
} catch (error) {
  console.error(String(error));
  process.exitCode = 1;
} finally {
  await db.destroy();
}
