// The database as Kysely sees it. Hand-written; kept in step with migrations/.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type UserStatus = "active" | "disabled";
export type ConsumerStatus = "active" | "revoked";

export interface UsersTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  password_hash: string;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ConsumersTable {
  key: string;
  name: string;
  /** Scopes granted (docs/api.md, "Scopes"): `*` is every scope, an empty list none. */
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<ConsumerStatus, ConsumerStatus | undefined, ConsumerStatus>;
  /** Sealed with the master key (context "consumer:<key>"). */
  secret_sealed: string;
  /** The secret being rotated out, valid until previous_secret_expires_at. */
  previous_secret_sealed: string | null;
  previous_secret_expires_at: NullableTimestamp;
  created_at: Generated<Date>;
  revoked_at: NullableTimestamp;
  revoke_reason: string | null;
  /** From this instant (the database's clock) every pod refuses it; null: never. */
  expires_at: NullableTimestamp;
  /** When the current secret was issued; null (rows older than the lifecycle migration): created_at. */
  secret_created_at: NullableTimestamp;
  previous_secret_created_at: NullableTimestamp;
  /** A rotation that ends once the previous secret has been unused this long (seconds). */
  previous_secret_quiet_seconds: ColumnType<number | null, number | null | undefined, number | null>;
}

/** The last use of each consumer secret, as the data pods report it (batched). */
export interface ConsumerUsageTable {
  consumer_key: string;
  /** repos/consumers.ts secretId: derived from the sealed value, never the secret. */
  secret_id: string;
  at: Timestamp;
  pod: string;
}

/** One row: every token created before issued_before is refused (POST /revoke-all). */
export interface TokenNotBeforeTable {
  id: ColumnType<number, number | undefined, number>;
  issued_before: Timestamp;
  at: Generated<Date>;
  actor: string;
  reason: string;
}

export interface AccessTokensTable {
  token: string;
  /** Sealed with the master key (context "token:<token>"). */
  secret_sealed: string;
  user_id: string;
  consumer_key: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
}

/** The replay guard (data service, nonce-store.ts). */
export interface NonceKeysTable {
  /** First 16 bytes of SHA-256 over the length-prefixed consumer key, token ("" when two-legged) and nonce. */
  key: Buffer | Uint8Array;
  /** Seconds since the epoch after which the row may be purged. */
  expires_at: number;
}

/**
 * The replay guard since the nonce-partitions migration (services/data/src/nonce-store.ts):
 * partitioned by range of ts, partitions created and dropped whole by the data pods.
 */
export interface NonceLogTable {
  /** As NonceKeysTable.key. */
  key: Buffer | Uint8Array;
  /** The request's oauth_timestamp (seconds since the epoch). */
  ts: number;
}

/** One row (unlogged): timestamps before `since` are refused, the store may have lost them. */
export interface NonceGuardTable {
  id: ColumnType<boolean, boolean | undefined, boolean>;
  since: number;
  /** The largest timestamp window a pod of this version has claimed with. */
  window_seconds: number | null;
}

/** The shared throttle (repos/throttle.ts): one row per budget key. */
export interface ThrottleTable {
  /** First 16 bytes of SHA-256 over the budget's kind and key text. */
  key: Buffer | Uint8Array;
  /** Microseconds since the epoch (database clock) of the attempts counted in the window. */
  hits: ColumnType<number[], number[], number[]>;
  /** Microseconds since the epoch after which the row counts nothing and may be purged. */
  expires_at: number;
}

export interface NotesTable {
  id: Generated<string>;
  user_id: string;
  title: string;
  body: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AuditEventsTable {
  id: Generated<string>;
  at: Generated<Date>;
  actor: string;
  action: string;
  target: string;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface OutboxTable {
  id: Generated<string>;
  subject: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  created_at: Generated<Date>;
  published_at: NullableTimestamp;
}

export interface Database {
  users: UsersTable;
  consumers: ConsumersTable;
  consumer_usage: ConsumerUsageTable;
  token_not_before: TokenNotBeforeTable;
  access_tokens: AccessTokensTable;
  nonce_keys: NonceKeysTable;
  nonce_log: NonceLogTable;
  nonce_guard: NonceGuardTable;
  throttle: ThrottleTable;
  notes: NotesTable;
  audit_events: AuditEventsTable;
  outbox: OutboxTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Consumer = Selectable<ConsumersTable>;
export type NewConsumer = Insertable<ConsumersTable>;
export type AccessToken = Selectable<AccessTokensTable>;
export type NewAccessToken = Insertable<AccessTokensTable>;
export type Note = Selectable<NotesTable>;
export type NewNote = Insertable<NotesTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type OutboxEvent = Selectable<OutboxTable>;
