// Helpers for the reliability suite: data pods (real Fastify apps, each with its own
// PostgreSQL pool and NATS connection), seeded credentials, signed requests.
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { createDb, type Database } from "@signet/shared/db";
import { signRequest, type ClientCredentials } from "@signet/shared/oauth";
import { createConsumer, createUser, issueToken } from "@signet/shared/repos";
import { keyring, unique } from "@signet/test-support/keys";
import { buildDataApp, dataConfigDefaults, type DataConfig } from "@signet/data";

export { keyring, MASTER_KEY } from "@signet/test-support/keys";
export { sleep } from "@signet/test-support/wait";

/** Long mode (npm run test:chaos or SIGNET_CHAOS_LONG=1): longer runs, more rounds. */
export const LONG = process.env.SIGNET_CHAOS_LONG === "1";

export interface Pod {
  id: string;
  app: FastifyInstance;
  url: string;
  db: Kysely<Database>;
  close(): Promise<void>;
}

export async function startPod(options: {
  id: string;
  databaseUrl: string;
  natsUrl: string;
  config?: Partial<DataConfig>;
  listen?: boolean;
}): Promise<Pod> {
  const db = createDb(options.databaseUrl, { max: 5, applicationName: `reliability-${options.id}` });
  const app = await buildDataApp({
    config: dataConfigDefaults({
      keyring,
      natsUrl: options.natsUrl,
      databaseUrl: options.databaseUrl,
      logLevel: "silent",
      defaultMetrics: false,
      docs: false,
      podId: options.id,
      noncePurgeIntervalMs: 0,
      ...options.config,
    }),
    db,
    logger: false,
  });
  let url = "";
  if (options.listen !== false) {
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }
  return {
    id: options.id,
    app,
    url,
    db,
    close: async () => {
      await app.close();
      await db.destroy();
    },
  };
}

export interface Seeded {
  consumer: ClientCredentials;
  token: ClientCredentials;
  user: { id: string; username: string; password: string };
}

export async function seed(db: Kysely<Database>, password = "reliability-password"): Promise<Seeded> {
  const { consumer, secret } = await createConsumer(db, keyring, { name: unique("c") });
  const username = unique("u");
  const user = await createUser(db, { username, password, display_name: `User ${username}` });
  const issued = await issueToken(db, keyring, {
    userId: user.id,
    consumerKey: consumer.key,
    ttlSeconds: 3600,
  });
  return {
    consumer: { key: consumer.key, secret },
    token: { key: issued.token, secret: issued.secret },
    user: { id: user.id, username, password },
  };
}

export interface Answer {
  status: number;
  problem: string | undefined;
  body: string;
}

/** One signed request over HTTP. */
export async function signedFetch(
  baseUrl: string,
  method: string,
  path: string,
  creds: { consumer: ClientCredentials; token: ClientCredentials | null },
  json?: unknown,
): Promise<Answer> {
  const url = `${baseUrl}${path}`;
  const body = json === undefined ? undefined : JSON.stringify(json);
  const authorization = signRequest({
    method,
    url,
    consumer: creds.consumer,
    token: creds.token,
    ...(body !== undefined ? { body, contentType: "application/json" } : {}),
  });
  const res = await fetch(url, {
    method,
    headers: { authorization, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const www = res.headers.get("www-authenticate") ?? "";
  return { status: res.status, problem: /oauth_problem="([a-z_]+)"/.exec(www)?.[1], body: text };
}
