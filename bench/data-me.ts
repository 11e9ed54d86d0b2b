// Benchmark: signed `GET /me` against the same handler unsigned, over HTTP with autocannon,
// on a fresh PostgreSQL database — and the nonce store's share, from a third run with the
// nonce store swapped for a no-op (bench only).
// Run: npx tsx --conditions=@signet/source bench/data-me.ts   (DATABASE_URL, else local PostgreSQL)
import { pathToFileURL } from "node:url";
import { LocalBus } from "@signet/shared/bus";
import { signRequest, type ClientCredentials, type NonceStore } from "@signet/shared/oauth";
import type { PgNonceStore } from "@signet/data/nonce-store";
import { createTestDatabase } from "@signet/test-support/db";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedCredentials } from "@signet/test-support/seed";
import { cannon, signedRequests, type LoadFigure } from "./support.js";

export type DataMeFigure = LoadFigure;

export interface DataMeResult {
  figures: DataMeFigure[];
  /** signed req/s ÷ unsigned req/s */
  signedToUnsignedRatio: number;
  /** Share of a signed request's time due to the nonce store: 1 − signed req/s ÷ no-op-nonce req/s. */
  nonceStoreShare: number;
  nonceBatches: { batches: number; calls: number; meanBatch: number; largestBatch: number };
  /** CPU time the load generator spends signing one request (it shares the cores with the server). */
  clientSignUsPerRequest: number;
  settings: { durationSec: number; connections: number };
}

/** Accepts every nonce: the "without the nonce store" run. */
const noopNonceStore: NonceStore = { use: async () => true };

function signedMe(
  url: string,
  consumer: ClientCredentials,
  token: ClientCredentials,
  durationSec: number,
  connections: number,
) {
  return {
    url,
    duration: durationSec,
    connections,
    requests: signedRequests(url, { method: "GET", url: "/me", consumer, token }),
  };
}

export async function run(
  options: { durationSec?: number; connections?: number; nonceMaxInFlight?: number } = {},
): Promise<DataMeResult> {
  const durationSec = options.durationSec ?? 5;
  const connections = options.connections ?? 20;
  const database = await createTestDatabase({ prefix: "signet_bench", db: { max: 10 } });
  const bus = new LocalBus();
  const pods: DataPod[] = [];
  try {
    const { consumer, user, token } = await seedCredentials(database.db);
    const fixedUser = { id: user.id, username: user.username, display_name: user.display_name };

    // two data apps on one pool and bus, the second with a no-op nonce store
    const config = {
      podId: "bench",
      databaseUrl: database.url,
      ...(options.nonceMaxInFlight ? { nonceMaxInFlight: options.nonceMaxInFlight } : {}),
    };
    const main = await startDataPod({
      db: database.db,
      bus,
      config,
      // the same handler as GET /me, without the oauth plugin, answering a fixed user
      routes: (scope) => {
        scope.get("/me-unsigned", async () => fixedUser);
      },
    });
    pods.push(main);
    const noNonces = await startDataPod({ db: database.db, bus, config, nonces: noopNonceStore });
    pods.push(noNonces);
    const app = main.app;
    const base = main.url;
    const baseNoNonces = noNonces.url;

    // warm-up: caches filled, JIT warm, pool connections open
    await cannon("warm-up", { ...signedMe(base, consumer, token, 1, connections) });
    const store = app.nonces as PgNonceStore;
    const before = { ...store.totals };

    const signed = await cannon(
      "signed GET /me (PostgreSQL nonces)",
      signedMe(base, consumer, token, durationSec, connections),
    );
    const after = { ...store.totals };
    const unsigned = await cannon("unsigned, same handler", {
      url: `${base}/me-unsigned`,
      duration: durationSec,
      connections,
    });
    const noop = await cannon(
      "signed GET /me, no-op nonce store",
      signedMe(baseNoNonces, consumer, token, durationSec, connections),
    );

    const signStart = process.hrtime.bigint();
    for (let i = 0; i < 5_000; i++) signRequest({ method: "GET", url: `${base}/me`, consumer, token });
    const clientSignUsPerRequest = Number(process.hrtime.bigint() - signStart) / 1000 / 5_000;

    const batches = after.batches - before.batches;
    const calls = after.calls - before.calls;
    return {
      figures: [signed, unsigned, noop],
      signedToUnsignedRatio: signed.requestsPerSec / unsigned.requestsPerSec,
      // time per request with nonces vs without: the difference is the nonce store's share
      nonceStoreShare: 1 - signed.requestsPerSec / noop.requestsPerSec,
      nonceBatches: {
        batches,
        calls,
        meanBatch: batches ? calls / batches : 0,
        largestBatch: after.largestBatch,
      },
      clientSignUsPerRequest,
      settings: { durationSec, connections },
    };
  } finally {
    for (const pod of pods) await pod.close();
    await bus.close();
    await database.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await run();
  console.log(
    `data GET /me — autocannon, ${result.settings.connections} connections, ${result.settings.durationSec} s each`,
  );
  console.table(
    result.figures.map((f) => ({
      run: f.name,
      "req/s": Math.round(f.requestsPerSec),
      "p50 ms": f.p50Ms,
      "p99 ms": f.p99Ms,
      requests: f.requests,
      non2xx: f.non2xx,
      errors: f.errors,
    })),
  );
  console.log(`signed / unsigned throughput: ${result.signedToUnsignedRatio.toFixed(3)}`);
  console.log(`nonce store share of a signed request's time: ${(result.nonceStoreShare * 100).toFixed(1)} %`);
  console.log(
    `client-side signing (same process, same cores): ${result.clientSignUsPerRequest.toFixed(1)} µs per request`,
  );
  console.log(
    `nonce batches: ${result.nonceBatches.batches} inserts for ${result.nonceBatches.calls} nonces (mean ${result.nonceBatches.meanBatch.toFixed(2)}, largest ${result.nonceBatches.largestBatch})`,
  );
}
