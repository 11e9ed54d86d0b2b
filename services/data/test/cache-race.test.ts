// A cache fill that raced an eviction never re-inserts the stale entry: many iterations of
// concurrent signed requests while the consumer is revoked and announced; afterwards the
// consumer is refused and not cached. Plus the deterministic form of the same race.
//
// The app reaches PostgreSQL through a proxy that delays the server's answers by a few
// milliseconds (network latency), so its reads are still in flight when the revocation —
// committed over a direct connection — is announced: the race happens in most iterations
// instead of almost never.
import { afterAll, beforeAll, expect, it } from "vitest";
import { SUBJECTS } from "@signet/shared/bus";
import { type ClientCredentials } from "@signet/shared/oauth";
import { revokeConsumer } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod } from "@signet/test-support/hooks";
import { keyring } from "@signet/test-support/keys";
import { startTcpProxy, type TcpProxy } from "@signet/test-support/net";
import { seedConsumer, seedToken, seedUser } from "@signet/test-support/seed";
import { signedInject } from "@signet/test-support/signed";
import { sleep } from "@signet/test-support/wait";
import { CredentialCache } from "../src/plugins/credentials.js";

const tdb = useTestDatabase();
let slow: TcpProxy;
beforeAll(async () => {
  const target = new URL(tdb.url);
  slow = await startTcpProxy(Number(target.port || 5432), target.hostname, { delayMs: 15 });
});
afterAll(async () => {
  await slow?.close();
});
// the app's own pool, through the slow proxy
const { pod } = useDataPod(tdb, () => ({ listen: false, databaseUrl: slow.via(tdb.url) }));

it("the deterministic race: an eviction during the database read drops the fill", async () => {
  const consumer = await seedConsumer(tdb.db);
  const cache = new CredentialCache({ db: tdb.db, keyring, bus: pod.bus, maxAgeMs: 30_000, maxEntries: 100 });
  const lookup = cache.consumer(consumer.key); // reads the database…
  cache.evictConsumer(consumer.key); // …while the revocation event arrives
  expect((await lookup)?.record.key).toBe(consumer.key); // it read the row before the event
  expect(cache.stats()).toMatchObject({ consumers: 0, staleFillsDropped: 1 });
  // without a racing eviction the same lookup is cached
  await cache.consumer(consumer.key);
  expect(cache.stats().consumers).toBe(1);
  await cache.consumer(consumer.key);
  expect(cache.stats().consumerHits).toBe(1);
});

it("concurrent requests while consumers are revoked: a revoked consumer never stays cached", async () => {
  const user = await seedUser(tdb.db);
  let refusedAfter = 0;
  const droppedBefore = pod.app.credentials.stats().staleFillsDropped;
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    const consumer: ClientCredentials = await seedConsumer(tdb.db);
    const token = await seedToken(tdb.db, user, consumer);
    const requests = Array.from({ length: 10 }, (_, k) =>
      sleep(k % 5).then(() => signedInject(pod.app, { method: "GET", url: "/me", consumer, token })),
    );
    const revocation = (async () => {
      await sleep(2 + (i % 8));
      await revokeConsumer(tdb.db, consumer.key, "race");
      await pod.bus.publish(SUBJECTS.consumerRevoked, {
        key: consumer.key,
        at: new Date().toISOString(),
        reason: "race",
        actor: "test",
      });
    })();
    const results = await Promise.all([...requests, revocation]);
    for (const res of results.slice(0, -1) as Awaited<ReturnType<typeof signedInject>>[]) {
      expect([200, 401], `iteration ${i} ${Date.now() - t0}ms ${res.body}`).toContain(res.statusCode);
    }
    // after the revocation is announced: refused on every following request
    for (let k = 0; k < 3; k++) {
      const after = await signedInject(pod.app, { method: "GET", url: "/me", consumer, token });
      expect(after.statusCode).toBe(401);
      expect(after.json().error).toBe("consumer_key_rejected");
      refusedAfter++;
    }
  }
  expect(refusedAfter).toBe(60);
  // the race did happen: fills that read the database before the revocation were dropped
  expect(pod.app.credentials.stats().staleFillsDropped - droppedBefore).toBeGreaterThan(0);
  // and the caches are in use (not bypassed) in this app: without a racing eviction, a fill sticks
  const steady = await seedConsumer(tdb.db);
  const steadyToken = await seedToken(tdb.db, user, steady);
  const hits = pod.app.credentials.stats().consumerHits;
  for (let k = 0; k < 2; k++)
    expect(
      (await signedInject(pod.app, { method: "GET", url: "/me", consumer: steady, token: steadyToken }))
        .statusCode,
    ).toBe(200);
  expect(pod.app.credentials.stats().consumerHits).toBe(hits + 1);
});
