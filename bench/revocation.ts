// Benchmark: confirmed revocation with three data pods and one registry, over real NATS
// and PostgreSQL, 100 revocations one after another.
//  - propagation: from the registry's commit to the LAST pod's eviction (each pod's bus is
//    wrapped to timestamp the moment its eviction handler finished; the registry reports
//    its commit time to an observer of its announcer; all in one process, one clock);
//  - the revoke call's own duration, as the HTTP client sees it (POST /consumers/:key/revoke).
// The registry runs its default configuration: a 500 ms window that ends as soon as every
// data pod it knows from their heartbeats (signet.pod.heartbeat) confirmed, no
// SIGNET_CONFIRM_EXPECTED; the run waits until it knows the three pods.
// Run: npx tsx --conditions=@signet/source bench/revocation.ts
// Uses DATABASE_URL (else local PostgreSQL; a fresh database is created and dropped) and
// NATS_URL, else a private nats-server (/usr/sbin/nats-server) so no foreign pod answers.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { NatsBus, type Bus, type BusHandler, type GatherOptions } from "@signet/shared/bus";
import { buildRegistryApp, registryConfigDefaults } from "@signet/registry";
import { createTestDatabase } from "@signet/test-support/db";
import { keyring } from "@signet/test-support/keys";
import { NATS_SERVER_BIN, startPrivateNats } from "@signet/test-support/nats";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedConsumer, seedToken, seedUser } from "@signet/test-support/seed";
import { signedFetch } from "@signet/test-support/signed";
import { waitFor } from "@signet/test-support/wait";
import { summarize, type Summary } from "./support.js";

export interface RevocationBenchResult {
  revocations: number;
  pods: number;
  /** Commit → last pod's eviction, milliseconds. */
  propagationMs: Summary;
  /** Commit → first pod's eviction, milliseconds. */
  firstEvictionMs: Summary;
  /** The revoke call (HTTP, client side), milliseconds. */
  revokeCallMs: Summary;
  /** confirmed_pods over all revocations. */
  confirmedPods: { min: number; max: number };
  /** Known pods (presence) that did not confirm, summed over all revocations. */
  unconfirmedPods: number;
  /** Revocations whose gathering ran to the end of the window. */
  fullWindows: number;
  nats: string;
}

/** A NatsBus whose subscription handlers record when they finished (the eviction moment). */
class TimedBus implements Bus {
  constructor(
    private readonly inner: NatsBus,
    private readonly record: (subject: string, payload: unknown, at: number) => void,
  ) {}
  isConnected = () => this.inner.isConnected();
  publish = (subject: string, payload: unknown) => this.inner.publish(subject, payload);
  gather = (subject: string, payload: unknown, options: GatherOptions) =>
    this.inner.gather(subject, payload, options);
  onStatus = (listener: Parameters<Bus["onStatus"]>[0]) => this.inner.onStatus(listener);
  close = () => this.inner.close();
  subscribe(subject: string, handler: BusHandler): () => void {
    return this.inner.subscribe(subject, async (payload, actual) => {
      const result = await handler(payload, actual);
      this.record(actual, payload, performance.now());
      return result;
    });
  }
}

export async function run(options: { revocations?: number } = {}): Promise<RevocationBenchResult> {
  const revocations = options.revocations ?? 100;
  const database = await createTestDatabase({ prefix: "signet_bench_revocation" });
  const { db, url: databaseUrl } = database;
  const ownNats = !process.env.NATS_URL && existsSync(NATS_SERVER_BIN) ? await startPrivateNats() : undefined;
  const natsUrl = process.env.NATS_URL ?? ownNats?.url ?? "nats://127.0.0.1:4222";

  const adminToken = randomBytes(24).toString("base64url");
  const pods: DataPod[] = [];
  const busses: NatsBus[] = [];
  // key → eviction times (one per pod)
  const evictions = new Map<string, number[]>();
  const commits = new Map<string, number>();
  const gathering = new Map<string, { ms: number; unconfirmed: number }>();
  const windowMs = 500;
  let registry: Awaited<ReturnType<typeof buildRegistryApp>> | undefined;
  try {
    for (const id of ["bench-pod-a", "bench-pod-b", "bench-pod-c"]) {
      const inner = await NatsBus.connect({ servers: natsUrl, name: id });
      busses.push(inner);
      const bus = new TimedBus(inner, (subject, payload, at) => {
        const key = (payload as { key?: string }).key;
        if (subject === "signet.consumer.revoked" && key)
          evictions.set(key, [...(evictions.get(key) ?? []), at]);
      });
      pods.push(await startDataPod({ id, databaseUrl, bus }));
    }
    registry = await buildRegistryApp({
      config: registryConfigDefaults({
        port: 0,
        logLevel: "warn",
        databaseUrl,
        natsUrl,
        keyring,
        adminTokens: [{ name: "bench", token: adminToken }],
        confirmWindowMs: windowMs,
        relayMinAgeMs: 5_000,
        defaultMetrics: false,
      }),
      logger: false,
    });
    registry.announcer.observe((event) => {
      const key = event.payload.key;
      if (typeof key === "string") {
        commits.set(key, event.committedAt);
        gathering.set(key, {
          ms: event.gatheredAt - event.committedAt,
          unconfirmed: event.unconfirmedPods.length,
        });
      }
    });
    const presence = registry.podPresence;
    await waitFor(
      `the registry to know the ${pods.length} pods`,
      () => presence.known().length >= pods.length,
    );
    const registryUrl = (await registry.listen({ host: "127.0.0.1", port: 0 })).replace(
      "localhost",
      "127.0.0.1",
    );

    const user = await seedUser(db);
    const propagation: number[] = [];
    const first: number[] = [];
    const calls: number[] = [];
    const confirmed: number[] = [];
    let unconfirmedPods = 0;
    let fullWindows = 0;
    for (let i = 0; i < revocations + 5; i++) {
      const consumer = await seedConsumer(db, { name: `bench-${i}` });
      const token = await seedToken(db, user, consumer, 600);
      // every pod has the consumer cached, as in production
      for (const pod of pods) {
        const answer = await signedFetch(pod.url, { method: "GET", url: "/me", consumer, token });
        if (answer.status !== 200) throw new Error(`warm-up request to ${pod.id} answered ${answer.status}`);
      }
      const started = performance.now();
      const res = await fetch(`${registryUrl}/consumers/${consumer.key}/revoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ reason: "benchmark" }),
      });
      const body = (await res.json()) as { confirmed_pods: number };
      const ended = performance.now();
      if (res.status !== 200) throw new Error(`revoke answered ${res.status}: ${JSON.stringify(body)}`);
      if (i < 5) continue; // warm-up rounds
      const times = evictions.get(consumer.key) ?? [];
      const committed = commits.get(consumer.key);
      if (committed === undefined || times.length !== pods.length) {
        throw new Error(
          `revocation ${i}: ${times.length} evictions recorded, commit ${committed === undefined ? "missing" : "seen"}`,
        );
      }
      propagation.push(Math.max(...times) - committed);
      first.push(Math.min(...times) - committed);
      calls.push(ended - started);
      confirmed.push(body.confirmed_pods);
      const gathered = gathering.get(consumer.key);
      unconfirmedPods += gathered?.unconfirmed ?? 0;
      if (gathered && gathered.ms >= windowMs) fullWindows++;
    }
    return {
      revocations,
      pods: pods.length,
      propagationMs: summarize(propagation),
      firstEvictionMs: summarize(first),
      revokeCallMs: summarize(calls),
      confirmedPods: { min: Math.min(...confirmed), max: Math.max(...confirmed) },
      unconfirmedPods,
      fullWindows,
      nats: ownNats ? "private nats-server" : natsUrl,
    };
  } finally {
    await registry?.close();
    await Promise.all(pods.map((pod) => pod.close()));
    await Promise.all(busses.map((b) => b.close()));
    await ownNats?.dispose();
    await database.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  console.log(
    `Revocation with ${result.pods} data pods, ${result.revocations} revocations (${result.nats}); milliseconds`,
  );
  console.table({
    "commit → last pod evicted": result.propagationMs,
    "commit → first pod evicted": result.firstEvictionMs,
    "revoke call (HTTP, client side)": result.revokeCallMs,
  });
  console.log(
    `confirmed_pods: min ${result.confirmedPods.min}, max ${result.confirmedPods.max}; ` +
      `known pods that did not confirm: ${result.unconfirmedPods}; ` +
      `revocations that waited the whole window: ${result.fullWindows}`,
  );
}
