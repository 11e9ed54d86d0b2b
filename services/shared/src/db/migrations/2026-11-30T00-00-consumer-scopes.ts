// Frozen: never edit a migration that has shipped; add a new file instead.
//
// Scopes become least privilege: an empty list used to mean "every route" and now grants
// nothing, and `*` grants everything (docs/api.md, "Scopes"). Every consumer created
// without scopes is rewritten to `{*}` so it keeps working exactly as before.
//
// During a rolling upgrade (the chart runs migrations before the new pods start):
//  - data pods of the previous version read `{*}` as one scope that no route names, so
//    once their cache entry for a consumer ages out (SIGNET_CACHE_MAX_AGE_MS, 30 s) they
//    answer it 403 insufficient_scope on scoped routes until they are replaced: roll the
//    data pods out right after the migration (the chart does);
//  - a registry of the previous version may still create a consumer without scopes: the
//    new data pods refuse it everywhere until an operator grants it scopes.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`update consumers set scopes = '{*}'::text[] where cardinality(scopes) = 0`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  // The previous code read an empty list as "every route": the same grant as `{*}`.
  await sql`update consumers set scopes = '{}'::text[] where scopes = '{*}'::text[]`.execute(db);
}
