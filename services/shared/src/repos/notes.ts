// Notes: a user's own, newest first. Every query names the owner, so another user's note
// is never found, changed or deleted (the data service answers it as not found).
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database, Note } from "../db/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/** The user's notes, newest first (at most `limit`). */
export function listNotes(db: Db, userId: string, limit = 1000): Promise<Note[]> {
  return db
    .selectFrom("notes")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

/** Where a page starts: a note's created_at (to the microsecond, UTC ISO text) and id. */
export interface NotePosition {
  /** e.g. 2026-12-01T10:20:30.123456Z */
  at: string;
  id: string;
}

export interface NotePageQuery {
  limit: number;
  /** Notes older than this position (the next page). */
  before?: NotePosition | undefined;
  /** Notes newer than this position (the previous page), the `limit` closest to it. */
  after?: NotePosition | undefined;
  /** Full-text search over title and body (websearch syntax, 'simple' configuration). */
  q?: string | undefined;
}

export interface NotePage {
  /** Newest first, each with its position. */
  notes: (Note & { position: NotePosition })[];
  /** Whether notes lie beyond the page in the direction it was read (older, or newer with `after`). */
  more: boolean;
}

/**
 * One keyset page of a user's notes, newest first with the id as the tie-break, served by
 * notes_user_created_id_idx (migrations/2026-12-01T00-02-notes-pages.ts): the cost does not
 * grow with the page's depth. `q` matches the notes_search_idx expression.
 */
export async function listNotesPage(db: Db, userId: string, page: NotePageQuery): Promise<NotePage> {
  const newerFirst = page.after === undefined;
  let query = db
    .selectFrom("notes")
    .selectAll()
    .select(
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("position_at"),
    )
    .where("user_id", "=", userId);
  if (page.before) {
    query = query.where(
      sql<boolean>`(created_at, id) < (${page.before.at}::timestamptz, ${page.before.id}::uuid)`,
    );
  }
  if (page.after) {
    query = query.where(
      sql<boolean>`(created_at, id) > (${page.after.at}::timestamptz, ${page.after.id}::uuid)`,
    );
  }
  if (page.q !== undefined) {
    query = query.where(
      sql<boolean>`to_tsvector('simple', title || ' ' || body) @@ websearch_to_tsquery('simple', ${page.q})`,
    );
  }
  const direction = newerFirst ? "desc" : "asc";
  const rows = await query
    .orderBy("created_at", direction)
    .orderBy("id", direction)
    .limit(page.limit + 1)
    .execute();
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  if (!newerFirst) shown.reverse();
  return {
    notes: shown.map(({ position_at, ...note }) => ({ ...note, position: { at: position_at, id: note.id } })),
    more,
  };
}

export function findNote(db: Db, userId: string, id: string): Promise<Note | undefined> {
  return db
    .selectFrom("notes")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

export function createNote(db: Db, userId: string, input: { title: string; body: string }): Promise<Note> {
  return db
    .insertInto("notes")
    .values({ user_id: userId, title: input.title, body: input.body })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Changes what is given and updated_at; undefined when the user has no such note. */
export function updateNote(
  db: Db,
  userId: string,
  id: string,
  change: { title?: string | undefined; body?: string | undefined },
): Promise<Note | undefined> {
  return db
    .updateTable("notes")
    .set({
      ...(change.title !== undefined ? { title: change.title } : {}),
      ...(change.body !== undefined ? { body: change.body } : {}),
      updated_at: new Date(),
    })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .returningAll()
    .executeTakeFirst();
}

/** true when the user's note was deleted, false when there was none. */
export async function deleteNote(db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom("notes")
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
