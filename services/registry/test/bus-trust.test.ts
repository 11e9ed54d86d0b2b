// The bus as a trust boundary (docs/design.md, "Authenticated bus"): whoever can reach NATS
// without SIGNET_MASTER_KEY — an attacker with plain publish and subscribe rights, here a
// raw connection to the registry's own nats-server — can neither invent data pods, nor make
// a real one disappear, nor inflate a revocation's confirmed_pods with forged confirmations
// or with a genuine confirmation recorded from an earlier revocation.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUBJECTS } from "@signet/shared/bus";
import { useTestDatabase } from "@signet/test-support/db";
import { metricValue } from "@signet/test-support/metrics";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { waitFor } from "@signet/test-support/wait";
import { admin, useRegistry } from "./helpers.js";

const tdb = useTestDatabase();
// A floor of three confirmations: the registry listens the whole window, so every forged
// answer is weighed (and refused) rather than arriving after the real pod ended the wait.
const registry = useRegistry(tdb, { config: { confirmWindowMs: 1_000, confirmExpected: 3 } });
let pod: DataPod;
let attacker: NatsConnection;

beforeAll(async () => {
  pod = await startDataPod({ id: "real-pod", db: tdb.db, natsUrl: registry.nats.url, listen: false });
  attacker = await connect({ servers: registry.nats.url, name: "attacker" });
  await waitFor("the registry to know the real pod", () =>
    registry.app.podPresence.known().includes("real-pod"),
  );
});
afterAll(async () => {
  await attacker?.close();
  await pod?.close();
});

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const rejected = (subject: string) =>
  metricValue(registry.app, "signet_bus_rejected_messages_total", { subject });

describe("forged presence", () => {
  it("an unauthenticated heartbeat invents no pod and a forged goodbye removes none", async () => {
    const before = await rejected(SUBJECTS.podHeartbeat);
    for (const name of ["ghost-1", "ghost-2"])
      attacker.publish(
        SUBJECTS.podHeartbeat,
        json({ pod: name, at: new Date().toISOString(), interval_ms: 60_000 }),
      );
    attacker.publish(SUBJECTS.podGoodbye, json({ pod: "real-pod", at: new Date().toISOString() }));
    await attacker.flush();
    await waitFor(
      "the forgeries to be counted",
      async () => (await rejected(SUBJECTS.podHeartbeat)) >= before + 2,
    );
    expect(await rejected(SUBJECTS.podGoodbye)).toBeGreaterThanOrEqual(1);

    const pods = (await admin<{ pods: { pod: string }[] }>(registry.app, "GET", "/pods")).body.pods;
    expect(pods.map((p) => p.pod)).toEqual(["real-pod"]);
  });
});

describe("forged and replayed confirmations", () => {
  it("confirmed_pods counts only the real pod, whatever the attacker answers", async () => {
    // The attacker records every reply on the bus (it may subscribe to _INBOX.>) ...
    const recorded: Uint8Array[] = [];
    const inbox = attacker.subscribe("_INBOX.>", { callback: (_e, msg) => void recorded.push(msg.data) });
    const first = (
      await admin<{ key: string }>(registry.app, "POST", "/consumers", { name: "victim-1", scopes: [] })
    ).body;
    const revoked1 = await admin<{ confirmed_pods: number }>(
      registry.app,
      "POST",
      `/consumers/${first.key}/revoke`,
      { reason: "first" },
    );
    expect(revoked1.body.confirmed_pods).toBe(1);
    await waitFor("a confirmation to be recorded", () => recorded.length > 0);
    inbox.unsubscribe();

    // ... and answers the next revocation with it, and with forged confirmations of its own.
    const answering = attacker.subscribe(SUBJECTS.consumerRevoked, {
      callback: (_e, msg) => {
        if (!msg.reply) return;
        for (const data of recorded) msg.respond(data);
        for (const name of ["fake-1", "fake-2", "fake-3"])
          msg.respond(json({ pod: name, subject: SUBJECTS.consumerRevoked, evicted: true }));
      },
    });
    await attacker.flush();
    const second = (
      await admin<{ key: string }>(registry.app, "POST", "/consumers", { name: "victim-2", scopes: [] })
    ).body;
    const revoked2 = await admin<{ confirmed_pods: number }>(
      registry.app,
      "POST",
      `/consumers/${second.key}/revoke`,
      { reason: "second" },
    );
    answering.unsubscribe();
    expect(revoked2.status).toBe(200);
    expect(revoked2.body.confirmed_pods).toBe(1);
    expect(await rejected(SUBJECTS.consumerRevoked)).toBeGreaterThanOrEqual(4);
  });

  it("a forged revocation event is not acted on by a data pod and gets no confirmation", async () => {
    const before = await metricValue(pod.app, "signet_bus_rejected_messages_total", {
      subject: SUBJECTS.userDisabled,
    });
    const evictionsBefore = pod.app.credentials.stats().evictions;
    const replies = await attacker
      .request(SUBJECTS.userDisabled, json({ user_id: "00000000-0000-0000-0000-000000000000", at: "x" }), {
        timeout: 300,
      })
      .then(() => "answered")
      .catch(() => "no answer");
    expect(replies).toBe("no answer");
    await waitFor("the pod to count the forgery", async () => {
      const now = await metricValue(pod.app, "signet_bus_rejected_messages_total", {
        subject: SUBJECTS.userDisabled,
      });
      return now > before;
    });
    expect(pod.app.credentials.stats().evictions).toBe(evictionsBefore);
  });
});
