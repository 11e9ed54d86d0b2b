// NATS restarted under load: two data pods and the registry on a private nats-server, a
// client hammering both pods over HTTP with four consumers. One consumer is revoked through
// the registry before the outage, one while NATS is down, one after it is back. No request
// sent after a revoke call answered may be accepted, at any point; the consumer that is
// never revoked keeps working throughout (checked against PostgreSQL while NATS is away);
// after the restart the pods cache again and a revocation is confirmed by both of them.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildRegistryApp, registryConfigDefaults } from "@signet/registry";
import { useTestDatabase } from "@signet/test-support/db";
import { usePrivateNats } from "@signet/test-support/hooks";
import { keyring } from "@signet/test-support/keys";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedCredentials, type SeededCredentials } from "@signet/test-support/seed";
import { signedFetch } from "@signet/test-support/signed";
import { sleep, waitFor } from "@signet/test-support/wait";
import { LONG } from "./support.js";

const database = useTestDatabase();
const nats = usePrivateNats();
const pods: DataPod[] = [];
let registry: Awaited<ReturnType<typeof buildRegistryApp>>;
let registryUrl: string;
const adminToken = randomBytes(24).toString("base64url");

beforeAll(async () => {
  for (const id of ["nats-a", "nats-b"])
    pods.push(await startDataPod({ id, databaseUrl: database.url, natsUrl: nats.url }));
  registry = await buildRegistryApp({
    config: registryConfigDefaults({
      port: 0,
      logLevel: "silent",
      databaseUrl: database.url,
      natsUrl: nats.url,
      keyring,
      adminTokens: [{ name: "reliability", token: adminToken }],
      confirmWindowMs: 1_000,
      confirmExpected: pods.length,
      relayIntervalMs: 500,
      relayMinAgeMs: 2_000,
      defaultMetrics: false,
    }),
    logger: false,
  });
  registryUrl = (await registry.listen({ host: "127.0.0.1", port: 0 })).replace("localhost", "127.0.0.1");
}, 60_000);

afterAll(async () => {
  await registry?.close();
  for (const pod of pods) await pod.close();
});

const busOf = (pod: DataPod) => pod.bus;

async function revoke(key: string): Promise<{ answeredAt: number; confirmed: number }> {
  const res = await fetch(`${registryUrl}/consumers/${key}/revoke`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ reason: "reliability" }),
  });
  const body = (await res.json()) as { confirmed_pods: number };
  expect(res.status).toBe(200);
  return { answeredAt: performance.now(), confirmed: body.confirmed_pods };
}

it(
  "no revoked consumer accepted while NATS stops and restarts under load; caching resumes after",
  async () => {
    const keep = await seedCredentials(database.db);
    const before = await seedCredentials(database.db);
    const during = await seedCredentials(database.db);
    const after = await seedCredentials(database.db);
    const all: [string, SeededCredentials][] = [
      ["keep", keep],
      ["before", before],
      ["during", during],
      ["after", after],
    ];
    const revokedAt = new Map<string, number>();
    const accepted: { who: string; sentAt: number; pod: string }[] = [];
    const keepFailures: string[] = [];
    const unexpected: string[] = []; // anything but 200 or 401 for the consumers being revoked
    let sent = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const [who, creds] = all[(n + w) % all.length]!;
        const pod = pods[(n + w) % pods.length]!;
        const sentAt = performance.now();
        const answer = await signedFetch(pod.url, {
          method: "GET",
          url: "/me",
          consumer: creds.consumer,
          token: creds.token,
        });
        sent++;
        if (answer.status === 200) accepted.push({ who, sentAt, pod: pod.id });
        else if (who === "keep") keepFailures.push(`${pod.id} ${answer.status} ${answer.body.slice(0, 100)}`);
        else if (answer.status !== 401)
          unexpected.push(`${who} ${pod.id} ${answer.status} ${answer.body.slice(0, 100)}`);
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => worker(w));

    await sleep(500); // caches warm
    const r0 = await revoke(before.consumer.key);
    expect(r0.confirmed).toBe(2);
    revokedAt.set("before", r0.answeredAt);
    await sleep(300);

    const outages = LONG ? 3 : 1;
    let bypassedDuringOutage = 0;
    for (let o = 0; o < outages; o++) {
      const statsBefore = pods.map((p) => p.app.credentials.stats().bypassed);
      await nats.stop();
      if (o === 0) {
        // revoked while no pod can hear about it: PostgreSQL must answer for it
        const r1 = await revoke(during.consumer.key);
        revokedAt.set("during", r1.answeredAt);
      }
      await sleep(LONG ? 3_000 : 1_500);
      bypassedDuringOutage += pods.reduce(
        (a, p, i) => a + p.app.credentials.stats().bypassed - statsBefore[i]!,
        0,
      );
      await nats.start();
      await waitFor("every pod to reconnect", () => pods.every((p) => busOf(p).isConnected()), 20_000, 50);
      await sleep(500);
    }

    // caching resumes: hits rise again, lookups no longer bypass the caches
    const s1 = pods.map((p) => p.app.credentials.stats());
    await sleep(1_000);
    const s2 = pods.map((p) => p.app.credentials.stats());
    for (let i = 0; i < pods.length; i++) {
      expect(s2[i]!.consumerHits).toBeGreaterThan(s1[i]!.consumerHits);
      expect(s2[i]!.tokenHits).toBeGreaterThan(s1[i]!.tokenHits);
      expect(s2[i]!.bypassed).toBe(s1[i]!.bypassed);
    }

    // and revocation events flow again: both pods confirm
    const r2 = await revoke(after.consumer.key);
    expect(r2.confirmed).toBe(2);
    revokedAt.set("after", r2.answeredAt);
    await sleep(500);
    stop = true;
    await Promise.all(workers);

    const violations = accepted.filter((a) => revokedAt.has(a.who) && a.sentAt >= revokedAt.get(a.who)!);
    expect(violations).toEqual([]);
    expect(keepFailures).toEqual([]); // NATS away: still verified, against PostgreSQL
    expect(unexpected).toEqual([]);
    expect(bypassedDuringOutage).toBeGreaterThan(0); // the pods did stop trusting their caches
    // each revoked consumer was accepted before its revocation (so the check above had teeth)
    for (const who of ["before", "during", "after"]) expect(accepted.some((a) => a.who === who)).toBe(true);
    expect(accepted.filter((a) => a.who === "keep").length).toBeGreaterThan(50);
    console.log(
      `NATS restart: ${sent} requests, ${accepted.length} accepted, 0 after a revocation; ${bypassedDuringOutage} lookups bypassed the caches during the outage`,
    );
  },
  LONG ? 300_000 : 90_000,
);
