// Replay protection is shared: one signed request sent to two instances that share a
// database is accepted exactly once; the other instance answers nonce_used — also after the
// store lost its rows, and with the nonces in a database of their own.
import { sql } from "kysely";
import { expect, it, vi } from "vitest";
import { createTestDatabase, useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { startDataPod } from "@signet/test-support/pods";
import { seedConsumer } from "@signet/test-support/seed";
import { signedRequest } from "@signet/test-support/signed";
import type { PgNonceStore } from "../src/nonce-store.js";

const tdb = useTestDatabase();
// each instance has its own pool, as two pods would
const ownPool = (id: string) => () => ({ id, databaseUrl: tdb.url, listen: false });
const { pod: a, consumer, token } = useDataPod(tdb, ownPool("pod-a"));
const { pod: b } = useDataPod(tdb, ownPool("pod-b"));

it("a request replayed to the other instance is refused (sequentially)", async () => {
  for (let i = 0; i < 10; i++) {
    const req = signedRequest({ method: "GET", url: "/me", consumer, token });
    const [first, second] = i % 2 ? [a.app, b.app] : [b.app, a.app];
    expect((await first.inject(req)).statusCode).toBe(200);
    const replay = await second.inject(req);
    expect(replay.statusCode).toBe(401);
    expect(replay.headers["www-authenticate"]).toContain('oauth_problem="nonce_used"');
  }
});

it("the same request sent to both instances at once: exactly one succeeds, the other answers nonce_used", async () => {
  for (let i = 0; i < 25; i++) {
    const req =
      i % 2
        ? signedRequest({
            method: "POST",
            url: "/notes",
            consumer,
            token,
            json: { title: `n${i}`, body: "x" },
          })
        : signedRequest({ method: "GET", url: "/me", consumer, token });
    const results = await Promise.all([a.app.inject(req), b.app.inject(req), a.app.inject(req)]);
    const ok = results.filter((r) => r.statusCode < 300);
    const replayed = results.filter((r) => r.statusCode === 401 && r.json().error === "nonce_used");
    expect(ok).toHaveLength(1);
    expect(replayed).toHaveLength(2);
  }
  // every POST replay created nothing: one note per accepted request
  const notes = await tdb.db.selectFrom("notes").select("title").execute();
  expect(notes).toHaveLength(12);
});

it("a two-legged nonce and a three-legged nonce are separate; a consumer's nonce is its own", async () => {
  const other = await seedConsumer(tdb.db);
  const nonce = "shared-nonce-value";
  expect(
    (await a.app.inject(signedRequest({ method: "GET", url: "/me", consumer, token, nonce }))).statusCode,
  ).toBe(200);
  const login = await b.app.inject(
    signedRequest({
      method: "POST",
      url: "/authenticate",
      consumer: other,
      nonce,
      form: { username: "nobody", password: "whatever1" },
    }),
  );
  expect(login.json().error).toBe("invalid_credentials");
});

it("a pod whose clock runs ahead drops no partition another pod still needs: the replay is still refused", async () => {
  const req = signedRequest({ method: "GET", url: "/me", consumer, token });
  expect((await b.app.inject(req)).statusCode).toBe(200);
  // pod a's clock runs more than a window ahead when its maintenance runs (only Date is faked)
  const window = a.app.dataConfig.timestampWindow;
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    vi.setSystemTime(Date.now() + (window + 60) * 1000);
    expect((await (a.app.nonces as PgNonceStore).maintain()).ran).toBe(true);
  } finally {
    vi.useRealTimers();
  }
  // pod b's clock is right: the request's timestamp is inside its window, and the nonce row is still there
  const replay = await b.app.inject(req);
  expect(replay.statusCode, replay.body).toBe(401);
  expect(replay.json().error).toBe("nonce_used");
});

it("after the store lost its rows, a request captured before is refused by every pod, and fresh ones are not stored early", async () => {
  const captured = signedRequest({ method: "GET", url: "/me", consumer, token });
  expect((await a.app.inject(captured)).statusCode).toBe(200);
  // what crash recovery does to the unlogged tables, or what a promoted standby starts with
  await sql`truncate nonce_log, nonce_guard`.execute(tdb.db);
  for (const pod of [b, a]) {
    const replay = await pod.app.inject(captured);
    expect(replay.statusCode).toBe(401);
    expect(replay.headers["www-authenticate"]).toContain('oauth_problem="timestamp_refused"');
  }
  // every pod reads the same guard: a request signed now is refused too, until the window has passed
  const fresh = await b.app.inject(signedRequest({ method: "GET", url: "/me", consumer, token }));
  expect(fresh.json().error).toBe("timestamp_refused");
  const metrics = await a.app.inject({ method: "GET", url: "/metrics" });
  expect(metrics.body).toMatch(/signet_nonce_refused_total\{[^}]*reason="store_lost"[^}]*\} [1-9]/);
  await sql`update nonce_guard set since = 0`.execute(tdb.db);
});

it("SIGNET_NONCE_DATABASE_URL: the nonces live in a database of their own, which the pod migrates", async () => {
  const nonceDb = await createTestDatabase({ prefix: "signet_test_nonces", migrate: false });
  const pods = await Promise.all(
    ["own-a", "own-b"].map((id) =>
      startDataPod({ id, db: tdb.db, listen: false, config: { nonceDatabaseUrl: nonceDb.url } }),
    ),
  );
  try {
    const count = async (db: typeof tdb.db) =>
      (await sql<{ n: number }>`select count(*)::int as n from nonce_log`.execute(db)).rows[0]!.n;
    const mainBefore = await count(tdb.db);
    const req = signedRequest({ method: "GET", url: "/me", consumer, token });
    expect((await pods[0]!.app.inject(req)).statusCode).toBe(200);
    expect((await pods[1]!.app.inject(req)).json().error).toBe("nonce_used");
    expect(await count(nonceDb.db)).toBe(1);
    expect(await count(tdb.db)).toBe(mainBefore);
    expect((await pods[0]!.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  } finally {
    for (const pod of pods) await pod.close();
    await nonceDb.drop();
  }
});
