// PostgreSQL restarted under a data pod: a private cluster the test stops crash-style
// (pg_ctl -m immediate) and starts again. While it is away every signed request is a 503
// `unavailable` (fail closed, never a guess from the caches) and readiness is false; after
// it returns the pod recovers on its own, every note written before is still there, and
// nothing refused during the outage was written.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedCredentials, type SeededCredentials } from "@signet/test-support/seed";
import { signedFetch, type SignedOptions } from "@signet/test-support/signed";
import { sleep, waitFor } from "@signet/test-support/wait";
import { startPrivatePostgres, type PrivatePostgres } from "./pg-cluster.js";
import { LONG } from "./support.js";

const nats = usePrivateNats();
let postgres: PrivatePostgres;
let database: TestDatabase;
let pod: DataPod;
let creds: SeededCredentials;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  database = await createTestDatabase({ baseUrl: postgres.url, db: { max: 2 } });
  creds = await seedCredentials(database.db);
  // a crash empties the unlogged nonce store, which then refuses every timestamp for one
  // window (docs/design.md, "Shared replay protection"): a short window keeps that short
  pod = await startDataPod({
    id: "pg-restart",
    databaseUrl: database.url,
    natsUrl: nats.url,
    config: { timestampWindow: 5 },
  });
}, 90_000);

afterAll(async () => {
  await pod?.close();
  await database?.drop();
  await postgres?.dispose();
});

const readyz = () => fetch(`${pod.url}/readyz`).then((r) => r.status);
/** A signed request to the pod over HTTP with the seeded consumer and token. */
const send = (request: Pick<SignedOptions, "method" | "url" | "json">) =>
  signedFetch(pod.url, { ...request, consumer: creds.consumer, token: creds.token });
const postNote = (title: string, body: string) =>
  send({ method: "POST", url: "/notes", json: { title, body } });

it(
  "503 while PostgreSQL is away, recovery after, every note written before still there",
  async () => {
    const written: string[] = [];
    /** A note that must be kept: answered 201, its id remembered. */
    const write = async (title: string, body: string) => {
      const answer = await postNote(title, body);
      expect(answer.status, answer.body).toBe(201);
      written.push((JSON.parse(answer.body) as { id: string }).id);
    };
    for (let i = 0; i < 50; i++) await write(`before ${i}`, "kept");
    expect(await readyz()).toBe(200);

    const rounds = LONG ? 3 : 1;
    for (let round = 0; round < rounds; round++) {
      await postgres.stop(); // crash-style: pg_ctl -m immediate
      const during = new Map<number, number>();
      const outageEnds = Date.now() + (LONG ? 5_000 : 2_000);
      let attempts = 0;
      while (Date.now() < outageEnds) {
        const post = attempts % 2 === 0;
        const answer = post
          ? await postNote(`during ${round}-${attempts}`, "refused")
          : await send({ method: "GET", url: "/me" });
        attempts++;
        during.set(answer.status, (during.get(answer.status) ?? 0) + 1);
        if (answer.status === 503) expect(JSON.parse(answer.body)).toMatchObject({ error: "unavailable" });
        await sleep(20);
      }
      // every request while away: 503, none accepted, none a 500
      expect(Object.fromEntries(during)).toEqual({ 503: attempts });
      expect(await readyz()).toBe(503);

      await postgres.start();
      await waitFor(
        "the pod to answer again",
        async () => (await send({ method: "GET", url: "/me" })).status === 200,
        30_000,
        100,
      );
      expect(await readyz()).toBe(200);
      await write(`after ${round}`, "new");
    }

    const list = await send({ method: "GET", url: "/notes?limit=100" }); // one page holds them all (at most 53)
    expect(list.status).toBe(200);
    const ids = (JSON.parse(list.body) as { notes: { id: string; title: string }[] }).notes;
    expect(new Set(ids.map((n) => n.id))).toEqual(new Set(written));
    expect(ids.some((n) => n.title.startsWith("during"))).toBe(false);
  },
  LONG ? 300_000 : 120_000,
);
