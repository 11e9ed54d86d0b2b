// The transactional outbox: an event is written in the same transaction as the state
// change it announces, published after commit, and re-published by a relay if that failed.
import type { Kysely, Transaction } from "kysely";
import type { Database, OutboxEvent } from "../db/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

export async function addOutboxEvent(
  db: Db,
  subject: string,
  payload: Record<string, unknown>,
): Promise<string> {
  const row = await db
    .insertInto("outbox")
    .values({ subject, payload: JSON.stringify(payload) })
    .returning("id")
    .executeTakeFirstOrThrow();
  return String(row.id);
}

export function unpublishedEvents(db: Db, limit = 100): Promise<OutboxEvent[]> {
  return db
    .selectFrom("outbox")
    .selectAll()
    .where("published_at", "is", null)
    .orderBy("id")
    .limit(limit)
    .execute();
}

export async function markPublished(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("outbox").set({ published_at: new Date() }).where("id", "in", ids).execute();
}
