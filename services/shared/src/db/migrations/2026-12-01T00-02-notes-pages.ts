// Frozen: never edit a migration that has shipped; add a new file instead.
//
// Notes that scale (docs/design.md, "Notes: pages and search"):
//  - notes_user_created_id_idx (user_id, created_at desc, id desc) serves the keyset pages
//    of GET /notes, newest first with the id as the tie-break; it supersedes
//    notes_user_created_idx (its prefix), which is dropped;
//  - notes_search_idx, a GIN index over to_tsvector('simple', title || ' ' || body), serves
//    GET /notes?q= (repos/notes.ts uses the very same expression). An expression index, not
//    a column: pods of the previous release keep inserting and reading as before;
//  - created_at and updated_at default to statement_timestamp(), one value for both columns
//    of a new row (two clock_timestamp() calls differed by microseconds, so a note nobody
//    edited looked edited); rows written that way get updated_at = created_at.
// All of it runs on PostgreSQL and on PGlite (`npm start`).
import { sql, type Kysely } from "kysely";

/** The text search document of a note; repos/notes.ts must use the same expression. */
const DOCUMENT = sql`to_tsvector('simple', title || ' ' || body)`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("notes_user_created_id_idx")
    .on("notes")
    .columns(["user_id", "created_at desc", "id desc"])
    .execute();
  await db.schema.dropIndex("notes_user_created_idx").ifExists().execute();
  await sql`create index notes_search_idx on notes using gin (${DOCUMENT})`.execute(db);
  await sql`alter table notes
    alter column created_at set default statement_timestamp(),
    alter column updated_at set default statement_timestamp()`.execute(db);
  await sql`update notes set updated_at = created_at
    where updated_at > created_at and updated_at - created_at < interval '1 millisecond'`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table notes
    alter column created_at set default clock_timestamp(),
    alter column updated_at set default clock_timestamp()`.execute(db);
  await db.schema.dropIndex("notes_search_idx").ifExists().execute();
  await db.schema
    .createIndex("notes_user_created_idx")
    .on("notes")
    .columns(["user_id", "created_at desc"])
    .execute();
  await db.schema.dropIndex("notes_user_created_id_idx").ifExists().execute();
}
