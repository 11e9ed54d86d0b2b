// PostgreSQL crashes under two data pods (a private cluster stopped with `pg_ctl -m
// immediate`, then started: crash recovery empties the unlogged nonce partitions). Every
// request accepted before the crash — some future-dated by almost a window, as a client whose
// clock runs ahead sends them — is replayed to both pods afterwards, while its timestamp is
// still inside the pods' window: none is accepted (timestamp_refused, counted as store_lost).
// Fresh requests are refused until the window has passed, then served again.
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@signet/test-support/db";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedCredentials, type SeededCredentials } from "@signet/test-support/seed";
import { signedRequest } from "@signet/test-support/signed";
import { waitFor } from "@signet/test-support/wait";
import { startPrivatePostgres, type PrivatePostgres } from "./pg-cluster.js";
import { LONG } from "./support.js";

/** A short window, so that the test sees the refusal end; long enough to replay inside it. */
const WINDOW = 12;
/** Both pods behind one origin, as behind a load balancer: a request signed for one is valid on the other. */
const ORIGIN = "http://signet.test";

let postgres: PrivatePostgres;
let database: TestDatabase;
const pods: DataPod[] = [];
let creds: SeededCredentials;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  database = await createTestDatabase({ baseUrl: postgres.url, db: { max: 2 } });
  creds = await seedCredentials(database.db);
  for (const id of ["crash-a", "crash-b"]) {
    pods.push(
      await startDataPod({
        id,
        databaseUrl: database.url,
        config: { timestampWindow: WINDOW, publicUrl: ORIGIN },
      }),
    );
  }
}, 90_000);

afterAll(async () => {
  for (const pod of pods) await pod.close();
  await database?.drop();
  await postgres?.dispose();
});

type Captured = ReturnType<typeof signedRequest> & { timestamp: number };

/** A signed GET /me, kept as it went on the wire. */
function capture(timestamp: number): Captured {
  const { consumer, token } = creds;
  return {
    ...signedRequest({ method: "GET", url: "/me", consumer, token, origin: ORIGIN, timestamp }),
    timestamp,
  };
}

async function send(pod: DataPod, request: Captured) {
  const res = await fetch(`${pod.url}${request.url}`, { method: request.method, headers: request.headers });
  return {
    status: res.status,
    problem: /oauth_problem="([a-z_]+)"/.exec(res.headers.get("www-authenticate") ?? "")?.[1],
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** A request signed now. */
const fresh = (pod: DataPod) => send(pod, capture(nowSeconds()));
const storeLost = async (pod: DataPod) =>
  (await metricValue(pod.app, "signet_nonce_refused_total", { reason: "store_lost" })) ?? 0;

it(
  "no request accepted before a crash is accepted after it, on any pod",
  async () => {
    const rounds = LONG ? 3 : 1;
    for (let round = 0; round < rounds; round++) {
      const captured: { pod: DataPod; request: Captured }[] = [];
      for (let i = 0; i < 40; i++) {
        const pod = pods[i % 2]!;
        // a quarter of them future-dated by almost a window (a client clock running ahead)
        const request = capture(nowSeconds() + (i % 4 === 0 ? WINDOW - 2 : 0));
        const answer = await send(pod, request);
        expect(answer.status, `round ${round} request ${i}`).toBe(200);
        captured.push({ pod, request });
      }
      const rows = await sql<{ n: number }>`select count(*)::int as n from nonce_log`.execute(database.db);
      expect(rows.rows[0]!.n).toBeGreaterThanOrEqual(40);

      await postgres.stop(); // crash-style: pg_ctl -m immediate
      await postgres.start(); // crash recovery: unlogged tables are reset to empty
      await waitFor(
        "both pods to reach PostgreSQL again",
        async () => {
          for (const pod of pods) if ((await fresh(pod)).status === 503) return false;
          return true;
        },
        30_000,
        100,
      );
      const after = await sql<{ n: number }>`select count(*)::int as n from nonce_log`.execute(database.db);
      expect(after.rows[0]!.n).toBe(0); // the rows are gone: only the guard stands between replays and the pods

      const lostBefore = (await storeLost(pods[0]!)) + (await storeLost(pods[1]!));
      let replays = 0;
      for (const { request } of captured) {
        // still inside the pods' window: the timestamp check alone would let it through
        expect(nowSeconds() - request.timestamp).toBeLessThan(WINDOW);
        for (const pod of pods) {
          replays++;
          expect(await send(pod, request), "the replay of a request accepted before the crash").toEqual({
            status: 401,
            problem: "timestamp_refused",
          });
        }
      }
      expect(replays).toBe(80);
      // refused by the guard (the store lost its rows), not by the timestamp check
      const lostAfter = (await storeLost(pods[0]!)) + (await storeLost(pods[1]!));
      expect(lostAfter - lostBefore).toBe(replays);

      // once the window has passed, fresh requests are served again; the captured ones never are
      await waitFor(
        "fresh requests to be accepted again",
        async () => (await fresh(pods[round % 2]!)).status === 200,
        3 * WINDOW * 1000,
        250,
      );
      for (const { pod, request } of captured) expect((await send(pod, request)).status).toBe(401);
    }
  },
  LONG ? 400_000 : 150_000,
);
