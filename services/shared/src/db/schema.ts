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
  access_tokens: AccessTokensTable;
  nonce_keys: NonceKeysTable;
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
