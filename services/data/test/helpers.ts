// Test helpers: a config, seeded consumers and users, and signed app.inject requests.
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Kysely } from "kysely";
import { type Database } from "@signet/shared/db";
import { signRequest, type ClientCredentials, type SignatureMethod } from "@signet/shared/oauth";
import { createConsumer, createUser, issueToken } from "@signet/shared/repos";
import { keyring, unique } from "@signet/test-support/keys";
import { dataConfigDefaults, type DataConfig } from "../src/config.js";

export function testConfig(overrides: Partial<DataConfig> = {}): DataConfig {
  return dataConfigDefaults({
    keyring,
    logLevel: "silent",
    defaultMetrics: false,
    podId: `test-${Math.random().toString(36).slice(2, 8)}`,
    noncePurgeIntervalMs: 0,
    ...overrides,
  });
}

export async function seedConsumer(db: Kysely<Database>, scopes: string[] = []): Promise<ClientCredentials> {
  const { consumer, secret } = await createConsumer(db, keyring, { name: unique("c"), scopes });
  return { key: consumer.key, secret };
}

export interface SeededUser {
  id: string;
  username: string;
  password: string;
  display_name: string;
}

export async function seedUser(
  db: Kysely<Database>,
  password = "correct horse battery",
): Promise<SeededUser> {
  const username = unique("u");
  const user = await createUser(db, { username, password, display_name: `User ${username}` });
  return { id: user.id, username, password, display_name: user.display_name };
}

export async function seedToken(
  db: Kysely<Database>,
  user: { id: string },
  consumer: ClientCredentials,
  ttlSeconds = 3600,
): Promise<ClientCredentials> {
  const issued = await issueToken(db, keyring, { userId: user.id, consumerKey: consumer.key, ttlSeconds });
  return { key: issued.token, secret: issued.secret };
}

export interface SignedInjectOptions {
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  url: string;
  consumer: ClientCredentials;
  token?: ClientCredentials | null;
  /** An object is sent as JSON; a string/Buffer as is (with contentType). */
  json?: unknown;
  form?: Record<string, string>;
  body?: string | Buffer;
  contentType?: string;
  signatureMethod?: SignatureMethod;
  nonce?: string;
  timestamp?: number;
  headers?: Record<string, string>;
  /** The origin the client signs against (default http://localhost, what app.inject sends). */
  origin?: string;
}

/** Builds the request that app.inject sends (host localhost, http). */
export function signedRequest(options: SignedInjectOptions) {
  let payload: string | Buffer | undefined;
  let contentType = options.contentType;
  if (options.json !== undefined) {
    payload = JSON.stringify(options.json);
    contentType ??= "application/json";
  } else if (options.form) {
    payload = new URLSearchParams(options.form).toString();
    contentType ??= "application/x-www-form-urlencoded";
  } else if (options.body !== undefined) {
    payload = options.body;
  }
  const authorization = signRequest({
    method: options.method,
    url: `${options.origin ?? "http://localhost"}${options.url}`,
    consumer: options.consumer,
    token: options.token ?? null,
    body: payload,
    contentType,
    ...(options.signatureMethod ? { signatureMethod: options.signatureMethod } : {}),
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
  const headers: Record<string, string> = {
    authorization,
    ...(contentType ? { "content-type": contentType } : {}),
    ...options.headers,
  };
  return { method: options.method, url: options.url, headers, ...(payload !== undefined ? { payload } : {}) };
}

export function signedInject(
  app: FastifyInstance,
  options: SignedInjectOptions,
): Promise<LightMyRequestResponse> {
  return app.inject(signedRequest(options));
}

/** Reads one counter/histogram sample from the app's Prometheus registry. */
export async function metricValue(
  app: FastifyInstance,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await app.metrics.getSingleMetric(name)?.get();
  if (!metric) return 0;
  let total = 0;
  for (const v of metric.values) {
    if ((v as { metricName?: string }).metricName && (v as { metricName?: string }).metricName !== name)
      continue;
    if (
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)
    )
      total += v.value;
  }
  return total;
}
