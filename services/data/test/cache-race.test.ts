// A cache fill that raced an eviction never re-inserts the stale entry: many iterations of
// concurrent signed requests while the consumer is revoked and announced; afterwards the
// consumer is refused and not cached. Plus the deterministic form of the same race.
//
// The app reaches PostgreSQL through a proxy that delays the server's answers by a few
// milliseconds (network latency), so its reads are still in flight when the revocation —
// committed over a direct connection — is announced: the race happens in most iterations
// instead of almost never.
import net from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { LocalBus, SUBJECTS } from "@signet/shared/bus";
import { type ClientCredentials } from "@signet/shared/oauth";
import { revokeConsumer } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { buildDataApp } from "../src/app.js";
import { CredentialCache } from "../src/plugins/credentials.js";
import { keyring } from "@signet/test-support/keys";
import { seedConsumer, seedToken, seedUser, signedInject, testConfig } from "./helpers.js";

const tdb = useTestDatabase();
let app: FastifyInstance;
let bus: LocalBus;
let slow: net.Server;
const LATENCY_MS = 15;

/** A TCP proxy delaying every chunk from the server by `delayMs` (order preserved). */
function slowProxy(target: URL, delayMs: number): Promise<net.Server> {
  const port = Number(target.port || 5432);
  const host = target.hostname;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    client.pipe(upstream);
    upstream.on("data", (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", () => setTimeout(end, delayMs));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  bus = new LocalBus();
  const url = new URL(tdb.url);
  slow = await slowProxy(url, LATENCY_MS);
  url.host = `127.0.0.1:${(slow.address() as net.AddressInfo).port}`;
  app = await buildDataApp({ config: testConfig({ databaseUrl: url.toString() }), bus, logger: false });
});
afterAll(async () => {
  await app?.close();
  await bus?.close();
  await new Promise((resolve) => slow?.close(resolve));
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
  const droppedBefore = app.credentials.stats().staleFillsDropped;
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    const consumer: ClientCredentials = await seedConsumer(tdb.db);
    const token = await seedToken(tdb.db, user, consumer);
    const requests = Array.from({ length: 10 }, (_, k) =>
      new Promise((resolve) => setTimeout(resolve, k % 5)).then(() =>
        signedInject(app, { method: "GET", url: "/me", consumer, token }),
      ),
    );
    const revocation = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 2 + (i % 8)));
      await revokeConsumer(tdb.db, consumer.key, "race");
      await bus.publish(SUBJECTS.consumerRevoked, {
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
      const after = await signedInject(app, { method: "GET", url: "/me", consumer, token });
      expect(after.statusCode).toBe(401);
      expect(after.json().error).toBe("consumer_key_rejected");
      refusedAfter++;
    }
  }
  expect(refusedAfter).toBe(60);
  // the race did happen: fills that read the database before the revocation were dropped
  expect(app.credentials.stats().staleFillsDropped - droppedBefore).toBeGreaterThan(0);
  // and the caches are in use (not bypassed) in this app: without a racing eviction, a fill sticks
  const steady = await seedConsumer(tdb.db);
  const steadyToken = await seedToken(tdb.db, user, steady);
  const hits = app.credentials.stats().consumerHits;
  for (let k = 0; k < 2; k++)
    expect(
      (await signedInject(app, { method: "GET", url: "/me", consumer: steady, token: steadyToken }))
        .statusCode,
    ).toBe(200);
  expect(app.credentials.stats().consumerHits).toBe(hits + 1);
});
