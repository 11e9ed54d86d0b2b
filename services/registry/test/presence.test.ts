// Pod presence: the data pods announce themselves (signet.pod.heartbeat), the registry
// waits for exactly the pods it knows — real NATS (a private nats-server, so no pod of
// another test file is heard), real PostgreSQL, real data apps.
import { Keyring } from "@signet/shared/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { LocalBus, NatsBus, SUBJECTS } from "@signet/shared/bus";
import { useTestDatabase } from "@signet/test-support/db";
import { startPrivateNats, type PrivateNats } from "@signet/test-support/nats";
import { buildDataApp } from "@signet/data";
import { dataConfigDefaults } from "@signet/data/config";
import type { AnnouncementReport } from "@signet/shared/announce";
import { sleep, waitFor as pollUntil } from "@signet/test-support/wait";
import { buildRegistryApp } from "../src/app.js";
import { MASTER_KEY, admin, registryConfig } from "./helpers.js";
import { startDataPod, stopDataPod, type DataPod } from "./cluster.js";

const tdb = useTestDatabase();

/** The shared poller with this file's default timeout. */
const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) =>
  pollUntil(what, check, timeoutMs);

async function metric(
  app: FastifyInstance,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const values = (await app.metrics.getSingleMetric(name)?.get())?.values ?? [];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((n, v) => n + v.value, 0);
}
const knownPods = (app: FastifyInstance) => metric(app, "signet_registry_known_data_pods");
const unconfirmedPods = (app: FastifyInstance) =>
  metric(app, "signet_registry_unconfirmed_pods_total", { subject: SUBJECTS.consumerRevoked });

type RevokeAnswer = Awaited<ReturnType<typeof admin<Record<string, unknown>>>>;

/**
 * Revokes a fresh consumer and races the answer against a timer set to fire after half of
 * the confirmation window: "answer" means the registry stopped gathering on its own.
 */
async function revokeRacingTheWindow(
  registry: FastifyInstance,
  windowMs: number,
): Promise<{ first: "answer" | "half the window"; revoke: Promise<RevokeAnswer>; key: string }> {
  const created = await admin<{ key: string }>(registry, "POST", "/consumers", {
    name: `presence-${Math.random().toString(36).slice(2, 10)}`,
  });
  expect(created.status).toBe(201);
  const revoke = admin(registry, "POST", `/consumers/${created.body.key}/revoke`, {
    reason: "presence test",
  });
  const first = await Promise.race([
    revoke.then(() => "answer" as const),
    sleep(windowMs / 2).then(() => "half the window" as const),
  ]);
  return { first, revoke, key: created.body.key };
}

let nats: PrivateNats;
beforeAll(async () => {
  nats = await startPrivateNats();
});
afterAll(async () => {
  await nats?.dispose();
});

describe("three data pods announce themselves on NATS", () => {
  const WINDOW_MS = 5_000;
  // Pods heartbeat every second: the registry forgets one after 3 s of silence.
  const HEARTBEAT_MS = 1_000;
  let pods: DataPod[] = [];
  let podCBus: NatsBus;
  let registry: FastifyInstance;
  const reports: AnnouncementReport[] = [];

  beforeAll(async () => {
    // pod-c gets a bus the test owns, so it can be cut off without a goodbye.
    podCBus = await NatsBus.connect({ servers: nats.url, name: "pod-c" });
    pods = await Promise.all(
      (["pod-a", "pod-b", "pod-c"] as const).map((id) =>
        startDataPod({
          id,
          databaseUrl: tdb.url,
          natsUrl: nats.url,
          masterKey: MASTER_KEY,
          heartbeatIntervalMs: HEARTBEAT_MS,
          ...(id === "pod-c" ? { bus: podCBus } : {}),
        }),
      ),
    );
    // Started after the pods: it learns them by asking (signet.pod.discover), at once.
    registry = await buildRegistryApp({
      config: registryConfig(tdb.url, nats.url, { confirmWindowMs: WINDOW_MS }),
      logger: false,
    });
    registry.announcer.observe((report) => void reports.push(report));
    await registry.ready();
  });
  afterAll(async () => {
    await registry?.close();
    await Promise.all(pods.map(stopDataPod));
    await podCBus?.close();
  });

  it("the registry knows the three pods and a revoke answers confirmed_pods 3 long before the window", async () => {
    await waitFor("the registry to know three pods", async () => (await knownPods(registry)) === 3);
    expect(registry.podPresence.known().sort()).toEqual(["pod-a", "pod-b", "pod-c"]);

    const { first, revoke, key } = await revokeRacingTheWindow(registry, WINDOW_MS);
    expect(first).toBe("answer");
    const answer = await revoke;
    expect(answer.status).toBe(200);
    // the contract's shape, nothing more
    expect(answer.body).toEqual({
      key,
      status: "revoked",
      revoked_at: expect.any(String),
      confirmed_pods: 3,
    });
    expect(reports.at(-1)).toMatchObject({ knownPods: expect.any(Array), unconfirmedPods: [] });
    expect(await unconfirmedPods(registry)).toBe(0);
  });

  it("rotation and user changes end early too", async () => {
    const created = await admin<{ key: string }>(registry, "POST", "/consumers", { name: "presence-rotate" });
    const rotated = admin(registry, "POST", `/consumers/${created.body.key}/rotate`, {});
    const user = admin(registry, "POST", "/users", {
      username: "presence-user",
      password: "presence-password",
      display_name: "Presence",
    }).then(() => admin<{ confirmed_pods: number }>(registry, "POST", "/users/presence-user/disable"));
    const first = await Promise.race([
      Promise.all([rotated, user]).then(() => "answers" as const),
      sleep(WINDOW_MS / 2).then(() => "half the window" as const),
    ]);
    expect(first).toBe("answers");
    expect((await user).body.confirmed_pods).toBe(3);
  });

  it("a known pod cut off without a goodbye: the revoke waits the window, answers 2, names and counts it; the pod is forgotten after three silent intervals", async () => {
    await waitFor("the registry to know three pods", async () => (await knownPods(registry)) === 3);
    const counted = await unconfirmedPods(registry);

    await podCBus.nc.close(); // no drain, no goodbye: a crash as the registry sees it
    const { first, revoke } = await revokeRacingTheWindow(registry, WINDOW_MS);
    expect(first).toBe("half the window");
    const answer = await revoke;
    expect(answer.body).toMatchObject({ status: "revoked", confirmed_pods: 2 });
    const report = reports.at(-1)!;
    expect(report.gatheredAt - report.committedAt).toBeGreaterThanOrEqual(WINDOW_MS - 20);
    expect(report.unconfirmedPods).toEqual(["pod-c"]);
    expect(await unconfirmedPods(registry)).toBe(counted + 1);

    // silent for three of its intervals: forgotten; the next revoke ends early again
    await waitFor("pod-c to be forgotten", async () => (await knownPods(registry)) === 2);
    expect(registry.podPresence.known().sort()).toEqual(["pod-a", "pod-b"]);
    const again = await revokeRacingTheWindow(registry, WINDOW_MS);
    expect(again.first).toBe("answer");
    expect((await again.revoke).body).toMatchObject({ confirmed_pods: 2 });
    expect(await unconfirmedPods(registry)).toBe(counted + 1);
  }, 30_000);

  it("a pod that shuts down cleanly says goodbye and is forgotten before it could expire", async () => {
    const podB = pods.find((p) => p.id === "pod-b")!;
    const stoppedAt = performance.now();
    await stopDataPod(podB);
    pods = pods.filter((p) => p !== podB);
    await waitFor("pod-b to leave", () => !registry.podPresence.known().includes("pod-b"));
    expect(performance.now() - stoppedAt).toBeLessThan(3 * HEARTBEAT_MS);

    const { first, revoke } = await revokeRacingTheWindow(registry, WINDOW_MS);
    expect(first).toBe("answer");
    expect((await revoke).body).toMatchObject({ confirmed_pods: 1 });
  });
});

describe("GET /pods: the data pods the registry knows", () => {
  it("lists two running data apps by name with their last heartbeat; a pod that said goodbye disappears; needs the admin token", async () => {
    const HEARTBEAT_MS = 400;
    // started in the reverse of name order: the answer is sorted, not in order of arrival
    const podY = await startDataPod({
      id: "pods-y",
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      masterKey: MASTER_KEY,
      heartbeatIntervalMs: HEARTBEAT_MS,
    });
    const podX = await startDataPod({
      id: "pods-x",
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      masterKey: MASTER_KEY,
      heartbeatIntervalMs: HEARTBEAT_MS,
    });
    let running = [podX, podY];
    const registry = await buildRegistryApp({
      config: registryConfig(tdb.url, nats.url),
      logger: false,
    });
    await registry.outboxRelay.stop(); // the relay of this test's registry stays out of it
    type Pods = { pods: { pod: string; last_seen: string; interval_ms: number }[] };
    const pods = async () => {
      const res = await admin<Pods>(registry, "GET", "/pods");
      expect(res.status).toBe(200);
      return res.body.pods;
    };
    try {
      const before = Date.now();
      await waitFor("the registry to know both pods", async () => (await pods()).length === 2);
      const listed = await pods();
      expect(listed).toEqual([
        { pod: "pods-x", last_seen: expect.any(String), interval_ms: HEARTBEAT_MS },
        { pod: "pods-y", last_seen: expect.any(String), interval_ms: HEARTBEAT_MS },
      ]);
      for (const p of listed) {
        expect(p.last_seen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const seen = Date.parse(p.last_seen);
        expect(seen).toBeGreaterThanOrEqual(before - 5_000);
        expect(seen).toBeLessThanOrEqual(Date.now());
      }
      // the next heartbeat moves last_seen on
      const firstSeen = Date.parse(listed[0]!.last_seen);
      await waitFor(
        "a newer heartbeat from pods-x",
        async () => Date.parse((await pods())[0]!.last_seen) > firstSeen,
        5_000,
      );

      // a clean shutdown says goodbye: gone well before three silent intervals
      const stoppedAt = performance.now();
      await stopDataPod(podX);
      running = running.filter((p) => p !== podX);
      await waitFor("pods-x to leave", async () => (await pods()).length === 1);
      expect(performance.now() - stoppedAt).toBeLessThan(3 * HEARTBEAT_MS);
      expect((await pods()).map((p) => p.pod)).toEqual(["pods-y"]);

      // no token (or a wrong one): 401, like every admin route
      for (const headers of [{}, { authorization: "Bearer wrong-token-wrong-token-wrong" }]) {
        const res = await registry.inject({ method: "GET", url: "/pods", headers });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ error: "unauthorized" });
      }
      // in the OpenAPI document, with its response schema
      const doc = (await registry.inject("/docs/json")).json() as {
        paths: Record<string, { get?: { responses: Record<string, { content?: unknown }> } }>;
      };
      const get = doc.paths["/pods"]?.get;
      expect(Object.keys(get?.responses ?? {})).toEqual(expect.arrayContaining(["200", "401"]));
      expect(JSON.stringify(get?.responses["200"])).toContain("interval_ms");
    } finally {
      await registry.close();
      await Promise.all(running.map(stopDataPod));
    }
  }, 30_000);
});

describe("expiry", () => {
  it("a pod is known while it heartbeats and forgotten three of its intervals after the last one", async () => {
    const registry = await buildRegistryApp({
      config: registryConfig(tdb.url, nats.url),
      logger: false,
    });
    await registry.outboxRelay.stop(); // the relay of this test's registry stays out of it
    const ghost = await NatsBus.connect({ servers: nats.url, name: "ghost" });
    try {
      await registry.ready();
      const beat = () =>
        ghost.publish(SUBJECTS.podHeartbeat, {
          pod: "ghost",
          at: new Date().toISOString(),
          interval_ms: 150,
        });
      await beat();
      await waitFor("the ghost to be known", () => registry.podPresence.known().includes("ghost"));
      // beating every 100 ms for a second: never forgotten
      for (let i = 0; i < 10; i++) {
        await sleep(100);
        await beat();
        expect(registry.podPresence.known()).toContain("ghost");
      }
      const lastBeat = performance.now();
      await waitFor("the ghost to be forgotten", async () => (await knownPods(registry)) === 0);
      // 3 × 150 ms after the registry heard the last beat, which was after `lastBeat`
      expect(performance.now() - lastBeat).toBeGreaterThanOrEqual(3 * 150 - 5);
    } finally {
      await registry.close();
      await ghost.close();
    }
  });

  it("a registry started after the pods knows them at once; SIGNET_CONFIRM_EXPECTED is a floor", async () => {
    const pod = await startDataPod({
      id: "lonely",
      databaseUrl: tdb.url,
      natsUrl: nats.url,
      masterKey: MASTER_KEY,
    });
    // one pod known, a floor of two: nobody else answers, so the window runs out
    const registry = await buildRegistryApp({
      config: registryConfig(tdb.url, nats.url, { confirmWindowMs: 1_000, confirmExpected: 2 }),
      logger: false,
    });
    await registry.outboxRelay.stop(); // the relay of this test's registry stays out of it
    try {
      await waitFor(
        "the registry to know the pod",
        () => registry.podPresence.known().includes("lonely"),
        2_000,
      );
      const { first, revoke } = await revokeRacingTheWindow(registry, 1_000);
      expect(first).toBe("half the window");
      expect((await revoke).body).toMatchObject({ confirmed_pods: 1 });
      expect(await unconfirmedPods(registry)).toBe(0); // the one known pod did confirm
    } finally {
      await registry.close();
      await stopDataPod(pod);
    }
  });
});

describe("npm start's shape: one data app and the registry on the in-process bus", () => {
  it("the registry knows the data app and a revoke ends once it confirmed", async () => {
    const bus = new LocalBus();
    const data = await buildDataApp({
      config: dataConfigDefaults({
        keyring: Keyring.fromEnv(MASTER_KEY),
        logLevel: "silent",
        defaultMetrics: false,
        docs: false,
        podId: "local",
      }),
      db: tdb.db,
      bus,
      logger: false,
    });
    const registry = await buildRegistryApp({
      config: registryConfig("", "", { confirmWindowMs: 5_000 }),
      db: tdb.db,
      bus,
      logger: false,
    });
    await registry.outboxRelay.stop(); // the relay of this test's registry stays out of it
    try {
      expect(registry.podPresence.known()).toEqual(["local"]);
      expect(await knownPods(registry)).toBe(1);
      const { first, revoke } = await revokeRacingTheWindow(registry, 5_000);
      expect(first).toBe("answer");
      expect((await revoke).body).toMatchObject({ status: "revoked", confirmed_pods: 1 });

      await data.close(); // goodbye over the in-process bus
      expect(registry.podPresence.known()).toEqual([]);
    } finally {
      await registry.close();
      await data.close();
      await bus.close();
    }
  });
});
