// A cache fill that raced an eviction never re-inserts the stale entry: many iterations of
// concurrent signed requests while the consumer is revoked and announced; afterwards the
// consumer is refused and not cached. Plus the deterministic form of the same race.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { LocalBus, revokeConsumer, SUBJECTS, type ClientCredentials } from "@signet/shared";
import { useTestDatabase } from "@signet/shared/test-support/db";
import { buildDataApp } from "../src/app.js";
import { CredentialCache } from "../src/credential-cache.js";
import { keyring, seedConsumer, seedToken, seedUser, signedInject, testConfig } from "./helpers.js";

const tdb = useTestDatabase();
let app: FastifyInstance;
let bus: LocalBus;

beforeAll(async () => {
  bus = new LocalBus();
  app = await buildDataApp({ config: testConfig({ databaseUrl: tdb.url }), bus, logger: false });
});
afterAll(async () => {
  await app?.close();
  await bus?.close();
});

it("the deterministic race: an eviction during the database read drops the fill", async () => {
  const consumer = await seedConsumer(tdb.db);
  const cache = new CredentialCache({ db: tdb.db, keyring, bus, maxAgeMs: 30_000, maxEntries: 100 });
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
  for (let i = 0; i < 30; i++) {
    const consumer: ClientCredentials = await seedConsumer(tdb.db);
    const token = await seedToken(tdb.db, user, consumer);
    const requests = Array.from({ length: 12 }, (_, k) =>
      new Promise((resolve) => setTimeout(resolve, k % 4)).then(() => signedInject(app, { method: "GET", url: "/me", consumer, token })),
    );
    const revocation = (async () => {
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      await revokeConsumer(tdb.db, consumer.key, "race");
      await bus.publish(SUBJECTS.consumerRevoked, { key: consumer.key, at: new Date().toISOString(), reason: "race", actor: "test" });
    })();
    const results = await Promise.all([...requests, revocation]);
    for (const res of results.slice(0, -1) as Awaited<ReturnType<typeof signedInject>>[]) {
      expect([200, 401]).toContain(res.statusCode);
    }
    // after the revocation is announced: refused on every following request
    for (let k = 0; k < 3; k++) {
      const after = await signedInject(app, { method: "GET", url: "/me", consumer, token });
      expect(after.statusCode).toBe(401);
      expect(after.json().error).toBe("consumer_key_rejected");
      refusedAfter++;
    }
  }
  expect(refusedAfter).toBe(90);
  // the caches are in use (not bypassed) in this test
  expect(app.signetData.cacheStats().consumerHits).toBeGreaterThan(0);
});
