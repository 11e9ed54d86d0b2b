// Notes: a user's own, newest first. Every query names the owner, so another user's note
// is never found, changed or deleted (the data service answers it as not found).
import type { Kysely, Transaction } from "kysely";
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
