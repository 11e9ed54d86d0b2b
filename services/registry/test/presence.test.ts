// Pod presence: the data pods announce themselves (signet.pod.heartbeat), the registry
// waits for exactly the pods it knows — real NATS (a private nats-server, so no pod of
// another test file is heard), real PostgreSQL, real data apps.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { LocalBus, NatsBus, SUBJECTS } from "@signet/shared/bus";
import { sealed, unique } from "@signet/test-support/keys";
import type { AnnouncementReport } from "@signet/shared/announce";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { sleep, waitFor } from "@signet/test-support/wait";
import { admin, startRegistry } from "./helpers.js";

const tdb = useTestDatabase();
const nats = usePrivateNats();

const knownPods = (app: FastifyInstance) => metricValue(app, "signet_registry_known_data_pods");
const unconfirmedPods = (app: FastifyInstance) =>
  metricValue(app, "signet_registry_unconfirmed_pods_total", { subject: SUBJECTS.consumerRevoked });

/** A data pod on the file's database and nats-server, with its own pool and connection. */
const startPod = (id: string, heartbeatIntervalMs?: number, bus?: NatsBus) =>
  startDataPod({
    id,
    databaseUrl: tdb.url,
    natsUrl: nats.url,
    ...(bus ? { bus } : {}),
    ...(heartbeatIntervalMs ? { config: { heartbeatIntervalMs } } : {}),
  });
/** A registry on the file's database and nats-server. */
const registryOnNats = (config: Parameters<typeof startRegistry>[0]["config"] = {}, relay = true) =>
  startRegistry({ databaseUrl: tdb.url, natsUrl: nats.url, config, relay });

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
    name: unique("presence-"),
    scopes: ["*"],
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
        startPod(id, HEARTBEAT_MS, id === "pod-c" ? podCBus : undefined),
      ),
    );
    // Started after the pods: it learns them by asking (signet.pod.discover), at once.
    registry = await registryOnNats({ confirmWindowMs: WINDOW_MS });
    registry.announcer.observe((report) => void reports.push(report));
  });
  afterAll(async () => {
    await registry?.close();
    await Promise.all(pods.map((pod) => pod.close()));
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
    const created = await admin<{ key: string }>(registry, "POST", "/consumers", {
      name: "presence-rotate",
      scopes: ["*"],
    });
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
    await podB.close();
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
    const podY = await startPod("pods-y", HEARTBEAT_MS);
    const podX = await startPod("pods-x", HEARTBEAT_MS);
    let running = [podX, podY];
    const registry = await registryOnNats({}, false); // its relay stays out of it
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
      await podX.close();
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
      await Promise.all(running.map((pod) => pod.close()));
    }
  }, 30_000);
});

describe("expiry", () => {
  it("a pod is known while it heartbeats and forgotten three of its intervals after the last one", async () => {
    const registry = await registryOnNats({}, false); // its relay stays out of it
    const ghost = sealed(await NatsBus.connect({ servers: nats.url, name: "ghost" })); // a pod holding the key
    try {
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
    const pod = await startPod("lonely");
    // one pod known, a floor of two: nobody else answers, so the window runs out
    const registry = await registryOnNats({ confirmWindowMs: 1_000, confirmExpected: 2 }, false);
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
      await pod.close();
    }
  });
});

describe("npm start's shape: one data app and the registry on the in-process bus", () => {
  it("the registry knows the data app and a revoke ends once it confirmed", async () => {
    const bus = new LocalBus();
    const data = await startDataPod({ id: "local", db: tdb.db, bus, listen: false });
    const registry = await startRegistry({
      databaseUrl: "",
      natsUrl: "",
      db: tdb.db,
      bus,
      config: { confirmWindowMs: 5_000 },
      relay: false, // its relay stays out of it
    });
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
