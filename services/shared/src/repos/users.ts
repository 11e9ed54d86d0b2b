// Users: one place for the rules (username shape, password length) and the queries,
// used by the data service (self sign-up, login) and the registry (admin).
import { sql, type Kysely, type Transaction } from "kysely";
import { ApiError } from "../http/errors.js";
import { hashPassword } from "../passwords.js";
import type { Database, User } from "../db/schema.js";

type Db = Kysely<Database> | Transaction<Database>;

export interface PublicUser {
  id: string;
  username: string;
  display_name: string;
}

export const publicUser = (u: User): PublicUser => ({
  id: u.id,
  username: u.username,
  display_name: u.display_name,
});

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "23505";
}

export async function createUser(
  db: Db,
  input: { username: string; password: string; display_name: string },
): Promise<User> {
  const password_hash = await hashPassword(input.password);
  try {
    return await db
      .insertInto("users")
      .values({ username: input.username, display_name: input.display_name, password_hash })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError(409, "username_taken", "that username is taken");
    throw error;
  }
}

export function findUserByUsername(db: Db, username: string): Promise<User | undefined> {
  return db
    .selectFrom("users")
    .selectAll()
    .where(sql`lower(username)`, "=", username.toLowerCase())
    .executeTakeFirst();
}

export function listUsers(db: Db): Promise<User[]> {
  return db.selectFrom("users").selectAll().orderBy("created_at").execute();
}

export function disableUser(db: Db, username: string): Promise<User | undefined> {
  return db
    .updateTable("users")
    .set({ status: "disabled", updated_at: new Date() })
    .where(sql`lower(username)`, "=", username.toLowerCase())
    .returningAll()
    .executeTakeFirst();
}

/** Lets a disabled user log in again (the tokens the disable killed stay dead). */
export function enableUser(db: Db, username: string): Promise<User | undefined> {
  return db
    .updateTable("users")
    .set({ status: "active", updated_at: new Date() })
    .where(sql`lower(username)`, "=", username.toLowerCase())
    .returningAll()
    .executeTakeFirst();
}

export async function setPassword(db: Db, username: string, password: string): Promise<User | undefined> {
  const password_hash = await hashPassword(password);
  return db
    .updateTable("users")
    .set({ password_hash, updated_at: new Date() })
    .where(sql`lower(username)`, "=", username.toLowerCase())
    .returningAll()
    .executeTakeFirst();
}

export function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

/** A user's own display name change (PATCH /me); undefined when there is no such user. */
export function setDisplayName(db: Db, id: string, displayName: string): Promise<User | undefined> {
  return db
    .updateTable("users")
    .set({ display_name: displayName, updated_at: new Date() })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
}

/** Stores an already hashed password (POST /me/password hashes before its transaction). */
export async function setPasswordHash(db: Db, id: string, passwordHash: string): Promise<void> {
  await db
    .updateTable("users")
    .set({ password_hash: passwordHash, updated_at: new Date() })
    .where("id", "=", id)
    .execute();
}
