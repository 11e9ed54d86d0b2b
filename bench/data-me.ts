// Benchmark: signed `GET /me` against the same handler unsigned, over HTTP with autocannon,
// on a fresh PostgreSQL database — and the nonce store's share, from a third run with the
// nonce store swapped for a no-op (bench only). Then the store's A/B in PostgreSQL CPU: this
// release's store against the last release's (bench/legacy-nonce-store.ts, on a database
// migrated up to that release), signed GET /me at pods of each, rounds interleaved.
// Run: npx tsx --conditions=@signet/source bench/data-me.ts   (DATABASE_URL, else local PostgreSQL)
import { pathToFileURL } from "node:url";
import { LocalBus } from "@signet/shared/bus";
import { signRequest, type ClientCredentials, type NonceStore } from "@signet/shared/oauth";
import { PgNonceStore } from "@signet/data/nonce-store";
import { createTestDatabase, type TestDatabase } from "@signet/test-support/db";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedCredentials } from "@signet/test-support/seed";
import pg from "pg";
import { LastReleaseNonceStore, migrateToLastRelease } from "./legacy-nonce-store.js";
import { cannon, mergeRounds, postgresBackendPids, signedRequests, type LoadFigure } from "./support.js";

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
  /** The store A/B (CPU per request: PostgreSQL's on each pod's database; server = this process). */
  storeAB: { thisRelease: LoadFigure; lastRelease: LoadFigure; rounds: number };
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

/**
 * Signed GET /me at this release's store (the pod `main`, on `database`) and at a pod with the
 * last release's store on a database of its own, in interleaved rounds: PostgreSQL CPU per
 * request on each database.
 */
async function storeAorB(
  database: TestDatabase,
  main: DataPod,
  durationSec: number,
  connections: number,
  pods: DataPod[],
): Promise<DataMeResult["storeAB"]> {
  const lastDb = await createTestDatabase({ prefix: "signet_bench_last", db: { max: 10 }, migrate: false });
  const pool = new pg.Pool({ connectionString: lastDb.url, max: main.app.dataConfig.nonceMaxInFlight });
  try {
    await migrateToLastRelease(lastDb.db);
    const lastCreds = await seedCredentials(lastDb.db);
    const last = await startDataPod({
      db: lastDb.db,
      config: { podId: "bench-last", databaseUrl: lastDb.url },
      nonces: new LastReleaseNonceStore(pool, {
        timestampWindow: main.app.dataConfig.timestampWindow,
        maxInFlight: main.app.dataConfig.nonceMaxInFlight,
      }),
    });
    pods.push(last);
    // its partitions: made by this release's maintenance, which is the same
    await new PgNonceStore(lastDb.db, {
      timestampWindow: main.app.dataConfig.timestampWindow,
    }).maintain();
    const { consumer, token } = await seedCredentials(database.db);
    const runs = {
      thisRelease: (d: number) => signedMe(main.url, consumer, token, d, connections),
      lastRelease: (d: number) => signedMe(last.url, lastCreds.consumer, lastCreds.token, d, connections),
    };
    const accounting = (name: string) => ({
      serverPid: process.pid,
      postgresPids: () => postgresBackendPids(name),
    });
    await cannon("warm-up last", runs.lastRelease(1));
    const figures = { thisRelease: [] as LoadFigure[], lastRelease: [] as LoadFigure[] };
    const rounds = 2;
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0
        ? (["thisRelease", "lastRelease"] as const)
        : (["lastRelease", "thisRelease"] as const)) {
        const db = name === "thisRelease" ? database : lastDb;
        figures[name].push(await cannon(name, runs[name](durationSec), accounting(db.name)));
      }
    }
    return {
      thisRelease: mergeRounds("signed GET /me, this release's store", figures.thisRelease),
      lastRelease: mergeRounds("signed GET /me, the last release's store", figures.lastRelease),
      rounds,
    };
  } finally {
    await pods.pop()?.close();
    await pool.end();
    await lastDb.drop();
  }
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
    const storeAB = await storeAorB(database, main, durationSec, connections, pods);
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
      storeAB,
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
  for (const f of [result.storeAB.thisRelease, result.storeAB.lastRelease]) {
    console.log(
      `${f.name}: ${Math.round(f.requestsPerSec)} req/s, p50 ${f.p50Ms.toFixed(1)} ms; PostgreSQL ${f.cpuUsPerRequest!.postgres.toFixed(1)} µs/request`,
    );
  }
}
