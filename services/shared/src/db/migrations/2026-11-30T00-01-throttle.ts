// Frozen: never edit a migration that has shipped; add a new file instead.
//
// The throttle shared by every data pod (services/shared/src/repos/throttle.ts): one row
// per budget key — failed logins per (username, address) and per address, sign-ups per
// address — holding the microsecond stamps of the attempts counted in its sliding window.
// The key is 16 bytes of SHA-256 over the kind and the key text, so neither a username
// nor an address is stored in clear. expires_at (µs since the epoch): after it the row
// counts nothing and is purged. It has no index on purpose: updates stay HOT, and the
// periodic purge scans a table with one row per recently throttled key.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("throttle")
    .addColumn("key", "bytea", (c) => c.primaryKey())
    .addColumn("hits", sql`bigint[]`, (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .modifyEnd(sql`with (fillfactor = 80)`)
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("throttle").ifExists().execute();
}
