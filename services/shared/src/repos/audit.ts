// The audit log: who did what to which target, newest first.
import { sql, type Kysely, type Transaction } from "kysely";
import type { AuditEvent, Database } from "../db/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/** Writes an audit row; returns its id. */
export async function recordAudit(
  db: Db,
  event: { actor: string; action: string; target: string; details?: Record<string, unknown> },
): Promise<string> {
  const row = await db
    .insertInto("audit_events")
    .values({
      actor: event.actor,
      action: event.action,
      target: event.target,
      details: JSON.stringify(event.details ?? {}),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** Adds fields to an audit row's details (how many pods confirmed, known once gathered). */
export async function addAuditDetails(db: Db, id: string, details: Record<string, unknown>): Promise<void> {
  await db
    .updateTable("audit_events")
    .set({ details: sql`details || ${JSON.stringify(details)}::jsonb` })
    .where("id", "=", id)
    .execute();
}

export function listAudit(db: Db, limit: number): Promise<AuditEvent[]> {
  return db.selectFrom("audit_events").selectAll().orderBy("id", "desc").limit(limit).execute();
}
