// The transactional outbox: an event is written in the same transaction as the state
// change it announces, published after commit, and re-published by a relay if that failed.
import { sql, type Kysely, type Transaction } from "kysely";
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

/**
 * Claims up to `limit` unpublished rows at least `minAgeMs` old (younger ones are still
 * being published by the request that wrote them), in id order, locked until the
 * transaction ends; rows another transaction holds are skipped (`skip locked`), so relays
 * of several registry replicas never publish the same row.
 */
export function claimUnpublished(
  trx: Transaction<Database>,
  { minAgeMs, limit }: { minAgeMs: number; limit: number },
): Promise<Pick<OutboxEvent, "id" | "subject" | "payload">[]> {
  return trx
    .selectFrom("outbox")
    .select(["id", "subject", "payload"])
    .where("published_at", "is", null)
    .where("created_at", "<=", sql<Date>`clock_timestamp() - (${minAgeMs}::int * interval '1 millisecond')`)
    .orderBy("id")
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function markPublished(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("outbox").set({ published_at: new Date() }).where("id", "in", ids).execute();
}
