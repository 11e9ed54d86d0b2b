// Seeded rows for tests and benchmarks, through the same repos production uses: consumers,
// users, tokens (sealed with the test key ring).
import type { Kysely } from "kysely";
import type { Database } from "@signet/shared/db";
import type { ClientCredentials } from "@signet/shared/oauth";
import { createConsumer, createUser, issueToken } from "@signet/shared/repos";
import { keyring, unique } from "./keys.js";

export async function seedConsumer(
  db: Kysely<Database>,
  options: { scopes?: string[]; name?: string; key?: string; secret?: string } = {},
): Promise<ClientCredentials> {
  const { consumer, secret } = await createConsumer(db, keyring, {
    name: options.name ?? unique("c"),
    scopes: options.scopes ?? ["*"],
    ...(options.key ? { key: options.key } : {}),
    ...(options.secret ? { secret: options.secret } : {}),
  });
  return { key: consumer.key, secret };
}

export interface SeededUser {
  id: string;
  username: string;
  password: string;
  display_name: string;
}

const DEFAULT_PASSWORD = "correct horse battery";

export async function seedUser(
  db: Kysely<Database>,
  options: { password?: string; username?: string } = {},
): Promise<SeededUser> {
  const username = options.username ?? unique("u");
  const password = options.password ?? DEFAULT_PASSWORD;
  const user = await createUser(db, { username, password, display_name: `User ${username}` });
  return { id: user.id, username, password, display_name: user.display_name };
}

/** A token of `user`'s through `consumer` (its key is all it takes), valid for `ttlSeconds`. */
export async function seedToken(
  db: Kysely<Database>,
  user: { id: string },
  consumer: { key: string },
  ttlSeconds = 3600,
): Promise<ClientCredentials> {
  const issued = await issueToken(db, keyring, { userId: user.id, consumerKey: consumer.key, ttlSeconds });
  return { key: issued.token, secret: issued.secret };
}

export interface SeededCredentials {
  consumer: ClientCredentials;
  user: SeededUser;
  token: ClientCredentials;
}

/** A consumer, a user with a password, and a token of the user's through the consumer. */
export async function seedCredentials(
  db: Kysely<Database>,
  options: { password?: string } = {},
): Promise<SeededCredentials> {
  const consumer = await seedConsumer(db);
  const user = await seedUser(db, options);
  const token = await seedToken(db, user, consumer);
  return { consumer, user, token };
}
