// Frozen: never edit a migration that has shipped; add a new file instead.
//
// The credential lifecycle (docs/design.md, "Credential lifecycle"):
//  - consumers.expires_at: from that instant (the database's clock) every pod refuses the
//    consumer and its tokens; null: it never expires;
//  - consumers.secret_created_at / previous_secret_created_at: when each live secret was
//    issued (null for rows written before this migration: the consumer's created_at), and
//    previous_secret_quiet_seconds: a rotation that ends once the old secret has not been
//    used for that long (the registry's lifecycle timer);
//  - consumer_usage: the last use of each secret (its id is derived from the sealed value,
//    repos/consumers.ts secretId), to the second, and the pod that saw it; written by the
//    data pods in batches;
//  - token_not_before: one row, the emergency "every token issued before this instant is
//    dead" (POST /revoke-all); it only ever moves forward.
// Rolling upgrade: every column is nullable or defaulted and every table new, so pods and
// registries of the previous version keep working (they ignore expiry, which a consumer
// only has once a new registry set it).
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("consumers")
    .addColumn("expires_at", "timestamptz")
    .addColumn("secret_created_at", "timestamptz")
    .addColumn("previous_secret_created_at", "timestamptz")
    .addColumn("previous_secret_quiet_seconds", "integer")
    .execute();
  await sql`create index consumers_expires_idx on consumers (expires_at) where expires_at is not null`.execute(
    db,
  );
  await sql`create index consumers_rotating_idx on consumers (previous_secret_expires_at) where previous_secret_sealed is not null`.execute(
    db,
  );

  await db.schema
    .createTable("consumer_usage")
    .addColumn("consumer_key", "text", (c) => c.notNull().references("consumers.key").onDelete("cascade"))
    .addColumn("secret_id", "text", (c) => c.notNull())
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .addColumn("pod", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("consumer_usage_pkey", ["consumer_key", "secret_id"])
    .execute();

  await db.schema
    .createTable("token_not_before")
    .addColumn("id", "smallint", (c) =>
      c
        .primaryKey()
        .defaultTo(1)
        .check(sql`id = 1`),
    )
    .addColumn("issued_before", "timestamptz", (c) => c.notNull())
    .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("token_not_before").ifExists().execute();
  await db.schema.dropTable("consumer_usage").ifExists().execute();
  await sql`drop index if exists consumers_rotating_idx`.execute(db);
  await sql`drop index if exists consumers_expires_idx`.execute(db);
  await db.schema
    .alterTable("consumers")
    .dropColumn("expires_at")
    .dropColumn("secret_created_at")
    .dropColumn("previous_secret_created_at")
    .dropColumn("previous_secret_quiet_seconds")
    .execute();
}
