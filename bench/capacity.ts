// The capacity model's figures (README, "Performance"): how far one PostgreSQL carries.
//  1. PostgreSQL at saturation on nonce claims alone: `clients` connections claim as fast as
//     they can, batches of `batch` fresh nonces, no HTTP, no pods; the PostgreSQL backends'
//     CPU time per nonce row → rows per second per PostgreSQL core. This release's store (on
//     a pool of one connection each, as a pod's claims go), the same on logged partitions,
//     the last release's claim (on a database migrated up to that release) and the previous
//     store's statement (an INSERT … VALUES list into nonce_keys, as Kysely sent it): the A/B
//     of the store, interleaved.
//  2. Several data pods (each its own process, bench/http-server.ts) on one database, signed
//     GET /me pushed at all of them at once by autocannon in this process: total req/s, the
//     pods' CPU per request (→ signed requests per data-pod core), PostgreSQL's per request
//     and the mean nonce batch.
// A benchmark, not a test: it prints figures and asserts nothing. On a 2-core machine the
// pods, PostgreSQL and the client share the cores, so the per-core figures come from CPU
// time, not from throughput.
// Run alone: node --conditions=@signet/source --import tsx bench/capacity.ts
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { sql } from "kysely";
import pg from "pg";
import { PgNonceStore } from "@signet/data/nonce-store";
import type { NonceStore } from "@signet/shared/oauth";
import { createTestDatabase, type TestDatabase } from "@signet/test-support/db";
import { MASTER_KEY } from "@signet/test-support/keys";
import { seedCredentials } from "@signet/test-support/seed";
import { startServer } from "./http.js";
import { LastReleaseNonceStore, migrateToLastRelease } from "./legacy-nonce-store.js";
import { cpuMicros, postgresBackendPids, postgresCpuSince, signedRequests } from "./support.js";

export interface ClaimSaturation {
  store:
    | "this release, unlogged"
    | "this release, logged"
    | "last release's claim (key, ts), unlogged"
    | "previous store (nonce_keys)";
  batch: number;
  clients: number;
  rowsPerSec: number;
  /** PostgreSQL backends' CPU time per nonce row. */
  postgresUsPerRow: number;
  /** 1e6 / postgresUsPerRow: nonce rows one PostgreSQL core claims per second. */
  rowsPerPostgresCoreSec: number;
}

export interface PodsFigure {
  pods: number;
  connectionsPerPod: number;
  durationSec: number;
  requestsPerSec: number;
  non2xx: number;
  errors: number;
  /** CPU µs per request: all the pods together, PostgreSQL, this process (autocannon + signing). */
  cpuUsPerRequest: { pods: number; postgres: number; loadGenerator: number };
  /** 1e6 / the pods' CPU per request. */
  signedPerPodCoreSec: number;
  /** 1e6 / PostgreSQL's CPU per request. */
  signedPerPostgresCoreSec: number;
}

export interface CapacityResult {
  saturation: ClaimSaturation[];
  pods: PodsFigure;
  /** How many data-pod cores one PostgreSQL core keeps up with (signed GET /me, this release). */
  podCoresPerPostgresCore: number;
}

const WINDOW = 300;

/** One connection's claims: `claim(n)` claims n fresh nonces in one call, answers how many won. */
interface Claimer {
  /** Its PostgreSQL backend. */
  pid: number;
  claim(n: number): Promise<number>;
  close(): Promise<void>;
}

/** A store's claims through the store itself, on a pool of one connection (as a pod's claim pool). */
async function storeClaimer(store: NonceStore, pool: pg.Pool): Promise<Claimer> {
  return {
    pid: (await pool.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid,
    claim: async (n) => {
      const ts = Math.floor(Date.now() / 1000);
      const nonces = Array.from({ length: n }, () => randomBytes(12).toString("base64url"));
      return (await Promise.all(nonces.map((nonce) => store.use("bench", "tok", nonce, ts)))).filter(Boolean)
        .length;
    },
    close: () => pool.end(),
  };
}

const claimers: Record<
  ClaimSaturation["store"],
  (database: TestDatabase, batch: number) => Promise<Claimer>
> = {
  "this release, unlogged": async (database, batch) => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    return storeClaimer(
      new PgNonceStore(database.db, { timestampWindow: WINDOW, pool, maxBatch: batch }),
      pool,
    );
  },
  "this release, logged": async (database, batch) => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    return storeClaimer(
      new PgNonceStore(database.db, { timestampWindow: WINDOW, pool, maxBatch: batch }),
      pool,
    );
  },
  "last release's claim (key, ts), unlogged": async (database, batch) => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    return storeClaimer(
      new LastReleaseNonceStore(pool, { timestampWindow: WINDOW, maxInFlight: 1, maxBatch: batch }),
      pool,
    );
  },
  // the statement the previous store sent (Kysely compiled an INSERT … VALUES list each time)
  "previous store (nonce_keys)": async (database) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const text = (n: number) =>
      `insert into "nonce_keys" ("key", "expires_at") values ${Array.from({ length: n }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(", ")} on conflict do nothing returning encode(key, 'hex') as "k"`;
    return {
      pid: (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid,
      claim: async (n) => {
        const ts = Math.floor(Date.now() / 1000);
        const params: unknown[] = [];
        for (let i = 0; i < n; i++) params.push(randomBytes(16), ts + WINDOW);
        return (await client.query(text(n), params)).rowCount ?? 0;
      },
      close: () => client.end(),
    };
  },
};

/**
 * Claims fresh nonces in batches of `batch` on `clients` connections per store, the stores
 * taking turns (`rounds` turns of `durationSec / rounds` each, the order rotating) so a
 * neighbour's load on the machine lands on all of them alike.
 */
async function saturate(
  stores: { store: ClaimSaturation["store"]; database: TestDatabase }[],
  options: { batch: number; clients: number; durationSec: number; rounds: number },
): Promise<ClaimSaturation[]> {
  const runs = await Promise.all(
    stores.map(async ({ store, database }) => ({
      store,
      clients: await Promise.all(
        Array.from({ length: options.clients }, () => claimers[store](database, options.batch)),
      ),
      rows: 0,
      cpu: 0,
      seconds: 0,
    })),
  );
  // warm-up: plans cached, partitions touched
  for (const run of runs)
    for (const client of run.clients) for (let i = 0; i < 20; i++) await client.claim(options.batch);
  const turnMs = (options.durationSec * 1000) / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < runs.length; i++) {
      const run = runs[(i + round) % runs.length]!;
      const cpuNow = () => run.clients.reduce((a, client) => a + cpuMicros(client.pid), 0);
      const cpuBefore = cpuNow();
      const started = performance.now();
      await Promise.all(
        run.clients.map(async (client) => {
          while (performance.now() - started < turnMs) {
            // not `run.rows += await …`: that reads run.rows before the await and loses the
            // other clients' rows counted meanwhile
            const won = await client.claim(options.batch);
            run.rows += won;
          }
        }),
      );
      run.seconds += (performance.now() - started) / 1000;
      run.cpu += cpuNow() - cpuBefore;
    }
  }
  for (const run of runs) for (const client of run.clients) await client.close();
  return runs.map((run) => ({
    store: run.store,
    batch: options.batch,
    clients: options.clients,
    rowsPerSec: run.rows / run.seconds,
    postgresUsPerRow: run.cpu / run.rows,
    rowsPerPostgresCoreSec: 1e6 / (run.cpu / run.rows),
  }));
}

/** Signed GET /me at `pods` data pods (each its own process) on one database, all at once. */
async function podsUnderLoad(options: {
  pods: number;
  connectionsPerPod: number;
  durationSec: number;
}): Promise<PodsFigure> {
  const database = await createTestDatabase({ prefix: "signet_bench_capacity", db: { max: 2 } });
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  try {
    const { consumer, user, token } = await seedCredentials(database.db);
    for (let i = 0; i < options.pods; i++) {
      servers.push(
        await startServer({
          BENCH_DATABASE_URL: database.url,
          SIGNET_MASTER_KEY: MASTER_KEY,
          BENCH_JWT_SECRET: randomBytes(32).toString("base64url"),
          BENCH_USER: JSON.stringify({
            id: user.id,
            username: user.username,
            display_name: user.display_name,
          }),
        }),
      );
    }
    const load = (duration: number) =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<autocannon.Result>((resolve, reject) =>
              autocannon(
                {
                  url: s.url,
                  duration,
                  connections: options.connectionsPerPod,
                  requests: signedRequests(s.url, { method: "GET", url: "/me", consumer, token }),
                },
                (error, r) => (error ? reject(error) : resolve(r)),
              ),
            ),
        ),
      );
    await load(3); // warm-up: JIT, pools, caches
    const accounting = { serverPid: 0, postgresPids: () => postgresBackendPids(database.name) };
    const pgBefore = new Map<number, number>();
    for (const pid of await accounting.postgresPids()) pgBefore.set(pid, cpuMicros(pid));
    const sumPods = () => servers.reduce((a, s) => a + cpuMicros(s.pid), 0);
    const before = { pods: sumPods(), self: process.cpuUsage() };
    const results = await load(options.durationSec);
    const self = process.cpuUsage(before.self);
    const requests = results.reduce((a, r) => a + r.requests.total, 0);
    const cpuUsPerRequest = {
      pods: (sumPods() - before.pods) / requests,
      postgres: (await postgresCpuSince(pgBefore, accounting)) / requests,
      loadGenerator: (self.user + self.system) / requests,
    };
    return {
      ...options,
      requestsPerSec: results.reduce((a, r) => a + r.requests.average, 0),
      non2xx: results.reduce((a, r) => a + r.non2xx, 0),
      errors: results.reduce((a, r) => a + r.errors, 0),
      cpuUsPerRequest,
      signedPerPodCoreSec: 1e6 / cpuUsPerRequest.pods,
      signedPerPostgresCoreSec: 1e6 / cpuUsPerRequest.postgres,
    };
  } finally {
    for (const s of servers) await s.stop();
    await database.drop();
  }
}

export async function run(
  options: { durationSec?: number; clients?: number; batches?: number[]; pods?: number } = {},
): Promise<CapacityResult> {
  const durationSec = options.durationSec ?? 3;
  const clients = options.clients ?? 4;
  const batches = options.batches ?? [20, 100];
  const databases = {
    unlogged: await createTestDatabase({ prefix: "signet_bench_sat_u", db: { max: 2 } }),
    logged: await createTestDatabase({ prefix: "signet_bench_sat_l", db: { max: 2 } }),
    last: await createTestDatabase({ prefix: "signet_bench_sat_r", db: { max: 2 }, migrate: false }),
    legacy: await createTestDatabase({ prefix: "signet_bench_sat_o", db: { max: 2 } }),
  };
  try {
    await migrateToLastRelease(databases.last.db);
    await new PgNonceStore(databases.unlogged.db, { timestampWindow: WINDOW }).maintain();
    await new PgNonceStore(databases.logged.db, { timestampWindow: WINDOW, unlogged: false }).maintain();
    await new PgNonceStore(databases.last.db, { timestampWindow: WINDOW }).maintain();
    await sql`drop trigger nonce_keys_legacy_claim on nonce_keys`.execute(databases.legacy.db);
    const saturation: ClaimSaturation[] = [];
    // interleaved: for each batch size the four stores take turns
    for (const batch of batches) {
      saturation.push(
        ...(await saturate(
          [
            { store: "this release, unlogged", database: databases.unlogged },
            { store: "last release's claim (key, ts), unlogged", database: databases.last },
            { store: "previous store (nonce_keys)", database: databases.legacy },
            { store: "this release, logged", database: databases.logged },
          ],
          { batch, clients, durationSec, rounds: 6 },
        )),
      );
    }
    const pods = await podsUnderLoad({
      pods: options.pods ?? 3,
      connectionsPerPod: 10,
      durationSec: durationSec + 2,
    });
    return {
      saturation,
      pods,
      podCoresPerPostgresCore:
        pods.cpuUsPerRequest.pods > 0 ? pods.cpuUsPerRequest.pods / pods.cpuUsPerRequest.postgres : 0,
    };
  } finally {
    for (const d of Object.values(databases)) await d.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.table(
    result.saturation.map((s) => ({
      store: s.store,
      batch: s.batch,
      clients: s.clients,
      "rows/s": Math.round(s.rowsPerSec),
      "PG µs/row": s.postgresUsPerRow.toFixed(2),
      "rows/s per PG core": Math.round(s.rowsPerPostgresCoreSec),
    })),
  );
  const p = result.pods;
  console.log(
    `${p.pods} data pods × ${p.connectionsPerPod} connections, ${p.durationSec} s: ${Math.round(p.requestsPerSec)} signed req/s ` +
      `(${p.non2xx} non-2xx, ${p.errors} errors); CPU µs/request: pods ${p.cpuUsPerRequest.pods.toFixed(1)}, ` +
      `PostgreSQL ${p.cpuUsPerRequest.postgres.toFixed(1)}, load generator ${p.cpuUsPerRequest.loadGenerator.toFixed(1)}; ` +
      `${Math.round(p.signedPerPodCoreSec)} signed req/s per pod core, ${Math.round(p.signedPerPostgresCoreSec)} per PostgreSQL core; ` +
      `one PostgreSQL core keeps up with ${result.podCoresPerPostgresCore.toFixed(1)} data-pod cores`,
  );
}
