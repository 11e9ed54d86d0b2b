// NATS down (a private nats-server the test stops): requests are still verified against the
// database, a revocation made meanwhile is honoured at once, and after NATS returns the
// caches are cleared and caching resumes.
import { expect, it } from "vitest";
import { revokeToken, revokeConsumer } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod, usePrivateNats } from "@signet/test-support/hooks";
import { metricValue } from "@signet/test-support/metrics";
import { seedConsumer, seedToken } from "@signet/test-support/seed";
import { signedInject } from "@signet/test-support/signed";

const tdb = useTestDatabase();
const nats = usePrivateNats();
// its own pool and NATS connection, as a pod has
const { pod, consumer, user, token } = useDataPod(tdb, () => ({
  listen: false,
  databaseUrl: tdb.url,
  natsUrl: nats.url,
}));

const hits = () => metricValue(pod.app, "signet_credential_cache_lookups_total", { result: "hit" });
const bypasses = () => metricValue(pod.app, "signet_credential_cache_lookups_total", { result: "bypass" });

it("bypasses the caches while NATS is down, honours revocations made meanwhile, and resumes caching after", async () => {
  const doomedToken = await seedToken(tdb.db, user, consumer);
  const doomedConsumer = await seedConsumer(tdb.db);
  const doomedConsumerToken = await seedToken(tdb.db, user, doomedConsumer);
  const me = (c = consumer, t = token) =>
    signedInject(pod.app, { method: "GET", url: "/me", consumer: c, token: t });

  // warm the caches
  for (const [c, t] of [
    [consumer, token],
    [consumer, doomedToken],
    [doomedConsumer, doomedConsumerToken],
  ] as const) {
    expect((await me(c, t)).statusCode).toBe(200);
  }
  const hitsBefore = await hits();
  expect((await me()).statusCode).toBe(200);
  expect(await hits()).toBeGreaterThan(hitsBefore);

  await nats.stop();
  await expect.poll(() => pod.app.bus.isConnected(), { timeout: 5_000 }).toBe(false);
  expect(pod.app.credentials.stats()).toMatchObject({ consumers: 0, tokens: 0 }); // cleared on disconnect
  const ready = await pod.app.inject({ method: "GET", url: "/readyz" });
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ failed: "nats" });

  // still verified, against the database, nothing cached
  const h0 = await hits();
  const b0 = await bypasses();
  for (let i = 0; i < 3; i++) expect((await me()).statusCode).toBe(200);
  expect(await hits()).toBe(h0);
  expect(await bypasses()).toBeGreaterThanOrEqual(b0 + 6);
  expect(pod.app.credentials.stats()).toMatchObject({ consumers: 0, tokens: 0 });

  // revocations made while no event can arrive are honoured on the next request
  await revokeToken(tdb.db, doomedToken.key);
  await revokeConsumer(tdb.db, doomedConsumer.key, "while NATS was down");
  expect((await me(consumer, doomedToken)).json().error).toBe("token_revoked");
  expect((await me(doomedConsumer, doomedConsumerToken)).json().error).toBe("consumer_key_rejected");
  // logout still works (the event is left to the outbox relay)
  const other = await seedToken(tdb.db, user, consumer);
  expect(
    (await signedInject(pod.app, { method: "POST", url: "/logout", consumer, token: other })).statusCode,
  ).toBe(204);
  expect((await me(consumer, other)).json().error).toBe("token_revoked");

  await nats.start();
  await expect.poll(() => pod.app.bus.isConnected(), { timeout: 10_000, interval: 50 }).toBe(true);
  expect((await pod.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  expect((await me()).statusCode).toBe(200); // miss: fills the caches again
  const h1 = await hits();
  expect((await me()).statusCode).toBe(200);
  expect(await hits()).toBe(h1 + 2); // consumer and token served from the cache
  expect((await me(consumer, doomedToken)).json().error).toBe("token_revoked");
});
