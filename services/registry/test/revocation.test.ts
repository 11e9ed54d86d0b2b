// Confirmed revocation across three real data pods (buildDataApp, each with its own NATS
// connection), real PostgreSQL and NATS, signed HTTP requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { NatsBus, SUBJECTS } from "@signet/shared/bus";
import { type ClientCredentials } from "@signet/shared/oauth";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { metricValue } from "@signet/test-support/metrics";
import { startPrivateNats } from "@signet/test-support/nats";
import { startTcpProxy } from "@signet/test-support/net";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedToken, seedUser, type SeededUser } from "@signet/test-support/seed";
import { signedFetch, type Answer } from "@signet/test-support/signed";
import { sleep, waitFor } from "@signet/test-support/wait";
import { ADMIN, admin, startRegistry } from "./helpers.js";

const tdb = useTestDatabase();
// A nats-server of this file's own: pods of other test files (on the shared server)
// would otherwise answer these events and be counted in confirmed_pods.
const nats = usePrivateNats();

const eventsHandled = (pod: DataPod, subject: string) =>
  metricValue(pod.app, "signet_revocation_events_total", { subject });

/** A signed GET /me to the pod over HTTP. */
const me = (pod: DataPod, consumer: ClientCredentials, token: ClientCredentials | null) =>
  signedFetch(pod.url, { method: "GET", url: "/me", consumer, token });

/** Every pod accepts the consumer and token (and caches them). */
async function expectAcceptedByAll(pods: DataPod[], consumer: ClientCredentials, token: ClientCredentials) {
  for (const pod of pods) expect((await me(pod, consumer, token)).status, pod.id).toBe(200);
}

/** Data pods on the file's database, with their own pools and NATS connections. */
const startPods = (ids: string[], natsUrl = nats.url) =>
  Promise.all(ids.map((id) => startDataPod({ id, databaseUrl: tdb.url, natsUrl })));

let looper: SeededUser;
const tokenFor = (consumer: ClientCredentials) => seedToken(tdb.db, looper, consumer, 600);

beforeAll(async () => {
  looper = await seedUser(tdb.db, { username: "looper", password: "looper-password" });
});

describe("three data pods on one NATS", () => {
  let pods: DataPod[] = [];
  let registry: FastifyInstance;

  beforeAll(async () => {
    pods = await startPods(["pod-a", "pod-b", "pod-c"]);
    // The registry makes its own NATS connection and database pool here (and closes them).
    registry = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      config: { confirmWindowMs: 2_000, confirmExpected: 3 },
    });
  });
  afterAll(async () => {
    await registry?.close();
    await Promise.all(pods.map((pod) => pod.close()));
  });

  async function newConsumer(name: string): Promise<ClientCredentials> {
    const res = await admin<{ key: string; secret: string }>(registry, "POST", "/consumers", {
      name,
      scopes: ["*"],
    });
    expect(res.status).toBe(201);
    return { key: res.body.key, secret: res.body.secret };
  }

  it("50 times: not one request sent after the revoke answer is accepted by any pod, and confirmed_pods is 3", async () => {
    let afterAnswer = 0;
    for (let rep = 0; rep < 50; rep++) {
      const consumer = await newConsumer(`loop-${rep}`);
      const token = await tokenFor(consumer);
      // every pod has the consumer and token cached before the revoke
      await expectAcceptedByAll(pods, consumer, token);

      const answers: (Answer & { pod: string })[] = [];
      let stop = false;
      const failures: unknown[] = [];
      const loops = pods.map(async (pod) => {
        while (!stop) {
          try {
            answers.push({ ...(await me(pod, consumer, token)), pod: pod.id });
          } catch (error) {
            failures.push(error);
            stop = true;
          }
        }
      });
      let revoke: Awaited<ReturnType<typeof admin<{ key: string; status: string; confirmed_pods: number }>>>;
      try {
        await sleep(rep % 4); // revoke at different points of the request stream
        revoke = await admin(registry, "POST", `/consumers/${consumer.key}/revoke`, {
          reason: `loop ${rep}`,
        });
        await waitFor(
          "three requests per pod after the answer",
          () =>
            stop ||
            pods.every(
              (pod) => answers.filter((a) => a.pod === pod.id && a.sentAt > revoke.answeredAt).length >= 3,
            ),
        );
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      expect(failures).toEqual([]);

      expect(revoke.status).toBe(200);
      expect(revoke.body).toMatchObject({ key: consumer.key, status: "revoked", confirmed_pods: 3 });
      const after = answers.filter((a) => a.sentAt > revoke.answeredAt);
      expect(
        after.filter((a) => a.status !== 401),
        `rep ${rep}: accepted after the revoke answer`,
      ).toEqual([]);
      expect(new Set(after.map((a) => a.problem))).toEqual(new Set(["consumer_key_rejected"]));
      afterAnswer += after.length;
    }
    expect(afterAnswer).toBeGreaterThanOrEqual(50 * 9);
  }, 60_000);

  it("rotation: both secrets verify on every pod during the grace period, only the new one after", async () => {
    const old = await newConsumer("rotating");
    const token = await tokenFor(old);
    await expectAcceptedByAll(pods, old, token);
    const rotated = await admin<{ key: string; secret: string }>(
      registry,
      "POST",
      `/consumers/${old.key}/rotate`,
      { grace_seconds: 2 },
    );
    const graceEnds = Date.now() + 2_000;
    expect(rotated.status).toBe(200);
    const fresh = { key: old.key, secret: rotated.body.secret };
    for (const pod of pods) {
      expect((await me(pod, old, token)).status, `${pod.id} old secret in grace`).toBe(200);
      expect((await me(pod, fresh, token)).status, `${pod.id} new secret`).toBe(200);
    }
    await sleep(graceEnds - Date.now() + 250);
    for (const pod of pods) {
      const oldAnswer = await me(pod, old, token);
      expect([oldAnswer.status, oldAnswer.problem], `${pod.id} old secret after grace`).toEqual([
        401,
        "signature_invalid",
      ]);
      expect((await me(pod, fresh, token)).status).toBe(200);
    }
    // grace 0: the old secret is dead on every pod from the answer on
    const again = await admin<{ secret: string }>(registry, "POST", `/consumers/${old.key}/rotate`, {});
    const newest = { key: old.key, secret: again.body.secret };
    for (const pod of pods) {
      expect((await me(pod, fresh, token)).problem).toBe("signature_invalid");
      expect((await me(pod, newest, token)).status).toBe(200);
    }
  });

  it("disabling a user or resetting a password kills the user's tokens on every pod at once", async () => {
    const consumer = await newConsumer("user-ops");
    const user = await admin<{ id: string }>(registry, "POST", "/users", {
      username: "dora",
      password: "dora-password",
      display_name: "Dora",
    });
    const issue = () => seedToken(tdb.db, user.body, consumer, 600);
    const first = await issue();
    await expectAcceptedByAll(pods, consumer, first);
    const pw = await admin(registry, "POST", "/users/dora/password", { password: "new-dora-password" });
    expect(pw.body).toMatchObject({ confirmed_pods: 3, tokens_revoked: 1 });
    for (const pod of pods) expect((await me(pod, consumer, first)).problem).toBe("token_revoked");

    const second = await issue();
    await expectAcceptedByAll(pods, consumer, second);
    const dis = await admin(registry, "POST", "/users/dora/disable");
    expect(dis.body).toMatchObject({ confirmed_pods: 3, status: "disabled" });
    for (const pod of pods) {
      const answer = await me(pod, consumer, second);
      expect(answer.status, pod.id).not.toBe(200);
    }
  });

  it("the registry dies between commit and publish: a new registry's relay publishes and the pods evict", async () => {
    const consumer = await newConsumer("crash-victim");
    const token = await tokenFor(consumer);
    await expectAcceptedByAll(pods, consumer, token);
    const before = await Promise.all(pods.map((pod) => eventsHandled(pod, SUBJECTS.consumerRevoked)));

    const dying = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      db: tdb.db,
      config: { confirmWindowMs: 2_000, confirmExpected: 3 },
      relay: false, // nothing may publish the row before the restarted registry does
    });
    dying.announcer.afterCommit = () => {
      throw new Error("simulated crash between commit and publish");
    };
    const res = await dying.inject({
      method: "POST",
      url: `/consumers/${consumer.key}/revoke`,
      headers: { authorization: `Bearer ${ADMIN.token}` },
      payload: { reason: "crash test" },
    });
    expect(res.statusCode).toBe(500);
    await dying.close();

    // committed, but never announced: the pods still serve their cached copy
    const row = await tdb.db
      .selectFrom("consumers")
      .select(["status"])
      .where("key", "=", consumer.key)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("revoked");
    const pending = await tdb.db
      .selectFrom("outbox")
      .selectAll()
      .where("published_at", "is", null)
      .where("subject", "=", SUBJECTS.consumerRevoked)
      .execute();
    expect(pending.map((p) => p.payload.key)).toContain(consumer.key);
    expect(await Promise.all(pods.map((pod) => eventsHandled(pod, SUBJECTS.consumerRevoked)))).toEqual(
      before,
    );

    // its relay runs on start
    const restarted = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      config: { relayIntervalMs: 100, relayMinAgeMs: 0 },
    });
    try {
      await waitFor("the relay to publish", async () => {
        const left = await tdb.db
          .selectFrom("outbox")
          .select("id")
          .where("published_at", "is", null)
          .execute();
        return left.length === 0;
      });
      await waitFor("every pod to handle the event", async () => {
        const now = await Promise.all(pods.map((pod) => eventsHandled(pod, SUBJECTS.consumerRevoked)));
        return now.every((n, i) => n > before[i]!);
      });
      for (const pod of pods)
        expect((await me(pod, consumer, token)).problem, pod.id).toBe("consumer_key_rejected");
    } finally {
      await restarted.close();
    }
  });
});

describe("one pod cut off from NATS", () => {
  // the isolated pod's own nats-server, which the test stops
  const privateNats = usePrivateNats();
  let pods: DataPod[] = [];
  let registry: FastifyInstance;

  beforeAll(async () => {
    pods = [
      ...(await startPods(["pod-1", "pod-2"])),
      ...(await startPods(["pod-isolated"], privateNats.url)),
    ];
    registry = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      config: { confirmWindowMs: 300 },
    });
  });
  afterAll(async () => {
    await registry?.close();
    await Promise.all(pods.map((pod) => pod.close()));
  });

  it("still refuses the revoked consumer, and keeps serving others from the database", async () => {
    const created = await admin<{ key: string; secret: string }>(registry, "POST", "/consumers", {
      name: "cut-off",
      scopes: ["*"],
    });
    const consumer = { key: created.body.key, secret: created.body.secret };
    const other = await admin<{ key: string; secret: string }>(registry, "POST", "/consumers", {
      name: "bystander",
      scopes: ["*"],
    });
    const bystander = { key: other.body.key, secret: other.body.secret };
    const token = await tokenFor(consumer);
    const bystanderToken = await tokenFor(bystander);
    await expectAcceptedByAll(pods, consumer, token);

    const isolated = pods[2]!;
    await privateNats.stop();
    await waitFor("the isolated pod to notice", () => !isolated.bus.isConnected());

    const revoke = await admin<{ confirmed_pods: number }>(
      registry,
      "POST",
      `/consumers/${consumer.key}/revoke`,
      { reason: "cut-off test" },
    );
    expect(revoke.body.confirmed_pods).toBe(2);
    for (const pod of pods) {
      const answer = await me(pod, consumer, token);
      expect([answer.status, answer.problem], pod.id).toEqual([401, "consumer_key_rejected"]);
      expect((await me(pod, bystander, bystanderToken)).status, pod.id).toBe(200);
    }

    await privateNats.start();
    await waitFor("the isolated pod to reconnect", () => isolated.bus.isConnected(), 10_000);
    expect((await me(isolated, consumer, token)).problem).toBe("consumer_key_rejected");
  });
});

describe("the registry's NATS is down", () => {
  it("commits and answers (confirmed_pods 0); the relay publishes once NATS is back", async () => {
    // The registry reaches NATS through a proxy the test cuts, so a listener can be
    // subscribed (directly) before the registry is let back in: the relay publishes as
    // soon as it reconnects, and a listener that subscribed later could miss it.
    const ownNats = await startPrivateNats();
    const proxy = await startTcpProxy(ownNats.port);
    const viaProxy = `nats://127.0.0.1:${proxy.port}`;
    const bus = await NatsBus.connect({ servers: viaProxy, name: "registry-nats-down" });
    const registry = await startRegistry({
      databaseUrl: tdb.url,
      natsUrl: viaProxy,
      db: tdb.db,
      bus,
      config: { confirmWindowMs: 300, relayIntervalMs: 100, relayMinAgeMs: 0 },
    });
    const listener = await NatsBus.connect({ servers: ownNats.url, name: "listener" });
    try {
      const created = await admin<{ key: string }>(registry, "POST", "/consumers", {
        name: "nats-down",
        scopes: ["*"],
      });
      proxy.cut();
      await waitFor("the registry to notice", () => !bus.isConnected());
      const started = Date.now();
      const revoke = await admin<{ confirmed_pods: number; status: string }>(
        registry,
        "POST",
        `/consumers/${created.body.key}/revoke`,
        { reason: "nats down" },
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(revoke.status).toBe(200);
      expect(revoke.body).toMatchObject({ status: "revoked", confirmed_pods: 0 });
      expect((await registry.inject("/readyz")).statusCode).toBe(503);
      const unsent = async () =>
        (await tdb.db.selectFrom("outbox").selectAll().where("published_at", "is", null).execute()).some(
          (r) => r.payload.key === created.body.key,
        );
      expect(await unsent()).toBe(true);

      const seen: unknown[] = [];
      listener.subscribe(SUBJECTS.consumerRevoked, (payload) => void seen.push(payload));
      await listener.publish("test.sync", {}); // publish flushes: the server has the subscription
      proxy.restore();
      await waitFor("the registry to reconnect", () => bus.isConnected(), 10_000);
      await waitFor(
        "the relay to publish",
        () => seen.some((p) => (p as { key: string }).key === created.body.key),
        10_000,
      );
      await waitFor("the relay to mark the row published", async () => !(await unsent()));
    } finally {
      await registry.close();
      await listener.close();
      await bus.close();
      await proxy.close();
      await ownNats.dispose();
    }
  });
});
