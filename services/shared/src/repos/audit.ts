// The audit log: who did what to which target, newest first.
import type { Kysely, Transaction } from "kysely";
import type { AuditEvent, Database } from "../db/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

export async function recordAudit(
  db: Db,
  event: { actor: string; action: string; target: string; details?: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto("audit_events")
    .values({
      actor: event.actor,
      action: event.action,
      target: event.target,
      details: JSON.stringify(event.details ?? {}),
    })
    .execute();
}

export function listAudit(db: Db, limit: number): Promise<AuditEvent[]> {
  return db.selectFrom("audit_events").selectAll().orderBy("id", "desc").limit(limit).execute();
}
