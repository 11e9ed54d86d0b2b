// PostgreSQL restarted under a data pod: a private cluster the test stops crash-style
// (pg_ctl -m immediate) and starts again. While it is away every signed request is a 503
// `unavailable` (fail closed, never a guess from the caches) and readiness is false; after
// it returns the pod recovers on its own, every note written before is still there, and
// nothing refused during the outage was written.
import { afterAll, beforeAll, expect, it } from "vitest";
import pg from "pg";
import { createDb, migrateToLatest, type Database } from "@signet/shared/db";
import { startPrivateNats, type PrivateNats } from "@signet/test-support/nats";
import type { Kysely } from "kysely";
import { startPrivatePostgres, type PrivatePostgres } from "./pg-cluster.js";
import { LONG, seed, signedFetch, sleep, startPod, type Pod, type Seeded } from "./support.js";

let postgres: PrivatePostgres;
let nats: PrivateNats;
let pod: Pod;
let db: Kysely<Database>;
let creds: Seeded;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query("create database signet");
  await admin.end();
  const databaseUrl = postgres.url.replace(/\/postgres$/, "/signet");
  db = createDb(databaseUrl, { max: 2 });
  await migrateToLatest(db);
  creds = await seed(db);
  nats = await startPrivateNats();
  pod = await startPod({ id: "pg-restart", databaseUrl, natsUrl: nats.url });
}, 90_000);

afterAll(async () => {
  await pod?.close();
  await db?.destroy();
  await nats?.dispose();
  await postgres?.dispose();
});

const readyz = () => fetch(`${pod.url}/readyz`).then((r) => r.status);

it(
  "503 while PostgreSQL is away, recovery after, every note written before still there",
  async () => {
    const written: string[] = [];
    for (let i = 0; i < 50; i++) {
      const answer = await signedFetch(pod.url, "POST", "/notes", creds, {
        title: `before ${i}`,
        body: "kept",
      });
      expect(answer.status, answer.body).toBe(201);
      written.push((JSON.parse(answer.body) as { id: string }).id);
    }
    expect(await readyz()).toBe(200);

    const rounds = LONG ? 3 : 1;
    for (let round = 0; round < rounds; round++) {
      await postgres.stopImmediate();
      const during = new Map<number, number>();
      const outageEnds = Date.now() + (LONG ? 5_000 : 2_000);
      let attempts = 0;
      while (Date.now() < outageEnds) {
        const post = attempts % 2 === 0;
        const answer = post
          ? await signedFetch(pod.url, "POST", "/notes", creds, {
              title: `during ${round}-${attempts}`,
              body: "refused",
            })
          : await signedFetch(pod.url, "GET", "/me", creds);
        attempts++;
        during.set(answer.status, (during.get(answer.status) ?? 0) + 1);
        if (answer.status === 503) expect(JSON.parse(answer.body)).toMatchObject({ error: "unavailable" });
        await sleep(20);
      }
      // every request while away: 503, none accepted, none a 500
      expect(Object.fromEntries(during)).toEqual({ 503: attempts });
      expect(await readyz()).toBe(503);

      await postgres.start();
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await signedFetch(pod.url, "GET", "/me", creds)).status;
        if (status === 200) break;
        await sleep(100);
      }
      expect(status).toBe(200);
      expect(await readyz()).toBe(200);
      const after = await signedFetch(pod.url, "POST", "/notes", creds, {
        title: `after ${round}`,
        body: "new",
      });
      expect(after.status, after.body).toBe(201);
      written.push((JSON.parse(after.body) as { id: string }).id);
    }

    const list = await signedFetch(pod.url, "GET", "/notes", creds);
    expect(list.status).toBe(200);
    const ids = (JSON.parse(list.body) as { notes: { id: string; title: string }[] }).notes;
    expect(new Set(ids.map((n) => n.id))).toEqual(new Set(written));
    expect(ids.some((n) => n.title.startsWith("during"))).toBe(false);
  },
  LONG ? 300_000 : 120_000,
);
