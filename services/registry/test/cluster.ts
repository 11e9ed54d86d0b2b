// Three real data pods (buildDataApp, each with its own NATS connection and database
// pool, listening on 127.0.0.1) plus helpers to sign requests to them over HTTP.
// Used by the multi-pod tests and by bench/revocation.ts; free of vitest on purpose.
import { Keyring } from "@signet/shared/crypto";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { type Bus } from "@signet/shared/bus";
import { createDb, type Database } from "@signet/shared/db";
import { signRequest, type ClientCredentials } from "@signet/shared/oauth";
import { buildDataApp } from "@signet/data";
import { dataConfigDefaults } from "@signet/data/config";

export interface DataPod {
  id: string;
  app: FastifyInstance;
  url: string;
  db: Kysely<Database>;
  bus(): Bus;
}

export async function startDataPod(options: {
  id: string;
  databaseUrl: string;
  natsUrl: string;
  masterKey: string;
  bus?: Bus;
  cacheMaxAgeMs?: number;
  /** How often the pod announces itself (signet.pod.heartbeat); the data default otherwise. */
  heartbeatIntervalMs?: number;
}): Promise<DataPod> {
  const db = createDb(options.databaseUrl, { max: 5, applicationName: `test-${options.id}` });
  const app = await buildDataApp({
    config: dataConfigDefaults({
      keyring: Keyring.fromEnv(options.masterKey),
      natsUrl: options.natsUrl,
      databaseUrl: options.databaseUrl,
      logLevel: "silent",
      defaultMetrics: false,
      docs: false,
      podId: options.id,
      noncePurgeIntervalMs: 0,
      ...(options.cacheMaxAgeMs !== undefined ? { cacheMaxAgeMs: options.cacheMaxAgeMs } : {}),
      ...(options.heartbeatIntervalMs !== undefined
        ? { heartbeatIntervalMs: options.heartbeatIntervalMs }
        : {}),
    }),
    db,
    ...(options.bus ? { bus: options.bus } : {}),
    logger: false,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    id: options.id,
    app,
    url: `http://127.0.0.1:${port}`,
    db,
    bus: () => app.bus,
  };
}

export async function stopDataPod(pod: DataPod): Promise<void> {
  await pod.app.close();
  await pod.db.destroy();
}

export interface SignedAnswer {
  status: number;
  problem: string | undefined;
  sentAt: number;
}

/** Sends one OAuth-signed request over HTTP; `sentAt` is performance.now() just before sending. */
export async function signedGet(
  baseUrl: string,
  path: string,
  consumer: ClientCredentials,
  token: ClientCredentials | null,
): Promise<SignedAnswer> {
  const url = `${baseUrl}${path}`;
  const authorization = signRequest({ method: "GET", url, consumer, token });
  const sentAt = performance.now();
  const res = await fetch(url, { headers: { authorization } });
  const www = res.headers.get("www-authenticate") ?? "";
  await res.arrayBuffer();
  return { status: res.status, problem: /oauth_problem="([a-z_]+)"/.exec(www)?.[1], sentAt };
}
