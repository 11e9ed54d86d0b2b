// Revocation across two instances on NATS (a private nats-server, so no other test's
// events or confirmations mix with these): a consumer revoked and announced, a disabled
// user's tokens, a logged-out token — refused by both instances on their next request,
// and each instance confirms the eviction.
import { afterAll, beforeAll, expect, it } from "vitest";
import { NatsBus, SUBJECTS, type Bus } from "@signet/shared/bus";
import { sealed } from "@signet/test-support/keys";
import { type ClientCredentials } from "@signet/shared/oauth";
import { revokeConsumer, revokeConsumerTokens, revokeUserTokens, disableUser } from "@signet/shared/repos";
import { useTestDatabase } from "@signet/test-support/db";
import { useDataPod, usePrivateNats } from "@signet/test-support/hooks";
import { metricValue } from "@signet/test-support/metrics";
import { seedConsumer, seedToken, seedUser } from "@signet/test-support/seed";
import type { DataPod } from "@signet/test-support/pods";
import { signedInject } from "@signet/test-support/signed";

const tdb = useTestDatabase();
const nats = usePrivateNats();
let registry: Bus; // the registry's side of the events, played by the test (with the master key)
beforeAll(async () => {
  registry = sealed(await NatsBus.connect({ servers: nats.url, name: "test-registry" }));
});
afterAll(async () => {
  await registry?.close();
});
// two pods, each with its own pool and NATS connection
const onNats = (id: string) => () => ({ id, databaseUrl: tdb.url, natsUrl: nats.url, listen: false });
const { pod: a } = useDataPod(tdb, onNats("pod-a"));
const { pod: b } = useDataPod(tdb, onNats("pod-b"));
const me = (pod: DataPod, consumer: ClientCredentials, token: ClientCredentials) =>
  signedInject(pod.app, { method: "GET", url: "/me", consumer, token });
const problemOf = (res: Awaited<ReturnType<typeof me>>) =>
  res.statusCode === 200 ? "ok" : (res.json() as { error: string }).error;

it("a revoked consumer is refused by both instances once announced, and both confirm", async () => {
  const consumer = await seedConsumer(tdb.db);
  const token = await seedToken(tdb.db, await seedUser(tdb.db), consumer);
  for (const pod of [a, b]) expect((await me(pod, consumer, token)).statusCode).toBe(200);
  expect(a.app.credentials.stats().consumers).toBeGreaterThan(0);

  await revokeConsumer(tdb.db, consumer.key, "compromised");
  await revokeConsumerTokens(tdb.db, consumer.key);
  // Not announced yet: the caches (bounded to 30 s) still answer — which is why the event matters.
  expect((await me(a, consumer, token)).statusCode).toBe(200);

  const replies = await registry.gather(
    SUBJECTS.consumerRevoked,
    { key: consumer.key, at: new Date().toISOString(), reason: "compromised", actor: "test" },
    { windowMs: 2_000, expected: 2 },
  );
  expect(replies).toHaveLength(2);
  expect(new Set(replies.map((r) => (r as { pod: string }).pod))).toEqual(new Set(["pod-a", "pod-b"]));
  for (const reply of replies)
    expect(reply).toMatchObject({ subject: SUBJECTS.consumerRevoked, evicted: true });

  for (const pod of [a, b]) {
    const res = await me(pod, consumer, token);
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toContain('oauth_problem="consumer_key_rejected"');
  }
});

it("a disabled user's tokens are refused by both instances once announced", async () => {
  const consumer = await seedConsumer(tdb.db);
  const user = await seedUser(tdb.db);
  const t1 = await seedToken(tdb.db, user, consumer);
  const t2 = await seedToken(tdb.db, user, consumer);
  const bystander = await seedToken(tdb.db, await seedUser(tdb.db), consumer);
  for (const pod of [a, b])
    for (const t of [t1, t2, bystander]) expect((await me(pod, consumer, t)).statusCode).toBe(200);

  await disableUser(tdb.db, user.username);
  await revokeUserTokens(tdb.db, user.id);
  expect((await me(b, consumer, t1)).statusCode).toBe(200); // cached until the event

  const replies = await registry.gather(
    SUBJECTS.userDisabled,
    { user_id: user.id, at: new Date().toISOString(), actor: "test" },
    { windowMs: 2_000, expected: 2 },
  );
  expect(replies.map((r) => (r as { pod: string }).pod).sort()).toEqual(["pod-a", "pod-b"]);
  for (const pod of [a, b]) {
    for (const t of [t1, t2])
      expect(["token_revoked", "user_disabled"]).toContain(problemOf(await me(pod, consumer, t)));
    expect((await me(pod, consumer, bystander)).statusCode).toBe(200);
  }
});

it("a logged-out token is refused by the other instance as soon as the event reaches it", async () => {
  const consumer = await seedConsumer(tdb.db);
  const token = await seedToken(tdb.db, await seedUser(tdb.db), consumer);
  for (const pod of [a, b]) expect((await me(pod, consumer, token)).statusCode).toBe(200);
  const before = await metricValue(b.app, "signet_revocation_events_total", {
    subject: SUBJECTS.tokenRevoked,
  });

  const out = await signedInject(a.app, { method: "POST", url: "/logout", consumer, token });
  expect(out.statusCode).toBe(204);
  await expect
    .poll(() => metricValue(b.app, "signet_revocation_events_total", { subject: SUBJECTS.tokenRevoked }), {
      timeout: 2_000,
      interval: 5,
    })
    .toBeGreaterThan(before);
  for (const pod of [a, b]) expect(problemOf(await me(pod, consumer, token))).toBe("token_revoked");
});

it("token.revoked and consumer.rotated events are confirmed too", async () => {
  const consumer = await seedConsumer(tdb.db);
  for (const [subject, payload] of [
    [SUBJECTS.tokenRevoked, { token: "whatever", at: new Date().toISOString() }],
    [SUBJECTS.consumerRotated, { key: consumer.key, at: new Date().toISOString(), actor: "test" }],
  ] as const) {
    const replies = await registry.gather(subject, payload, { windowMs: 2_000, expected: 2 });
    expect(replies).toHaveLength(2);
    for (const reply of replies) expect(reply).toMatchObject({ subject, evicted: true });
  }
});
