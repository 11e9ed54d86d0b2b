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
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { NatsBus, type Bus, type BusHandler, type GatherOptions } from "@signet/shared/bus";
import { Keyring } from "@signet/shared/crypto";
import { createDb, migrateToLatest } from "@signet/shared/db";
import { createConsumer, createUser, issueToken } from "@signet/shared/repos";
import { buildRegistryApp, registryConfigDefaults } from "@signet/registry";
import { signedGet, startDataPod, stopDataPod, type DataPod } from "../services/registry/test/cluster.js";

const BASE_DB = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export interface Summary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}
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

function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
  };
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function privateNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "signet-bench-nats-"));
  const child: ChildProcess = spawn(NATS_BIN, ["-a", "127.0.0.1", "-p", String(port), "-sd", dir], {
    stdio: "ignore",
  });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net
        .connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)))
        .once("error", () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null)
        await new Promise<void>((resolve) => (child.once("exit", () => resolve()), child.kill("SIGTERM")));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_DB });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function run(options: { revocations?: number } = {}): Promise<RevocationBenchResult> {
  const revocations = options.revocations ?? 100;
  const dbName = `signet_bench_revocation_${randomBytes(4).toString("hex")}`;
  await admin(`create database ${dbName}`);
  const dbUrl = new URL(BASE_DB);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  const ownNats = !process.env.NATS_URL && existsSync(NATS_BIN) ? await privateNats() : undefined;
  const natsUrl = process.env.NATS_URL ?? ownNats?.url ?? "nats://127.0.0.1:4222";

  const masterKey = Keyring.generateKey();
  const keyring = Keyring.fromEnv(masterKey);
  const adminToken = randomBytes(24).toString("base64url");
  const db = createDb(databaseUrl, { max: 5 });
  const pods: DataPod[] = [];
  const busses: NatsBus[] = [];
  // key → eviction times (one per pod)
  const evictions = new Map<string, number[]>();
  const commits = new Map<string, number>();
  const gathering = new Map<string, { ms: number; unconfirmed: number }>();
  const windowMs = 500;
  let registry: Awaited<ReturnType<typeof buildRegistryApp>> | undefined;
  try {
    await migrateToLatest(db);
    for (const id of ["bench-pod-a", "bench-pod-b", "bench-pod-c"]) {
      const inner = await NatsBus.connect({ servers: natsUrl, name: id });
      busses.push(inner);
      const bus = new TimedBus(inner, (subject, payload, at) => {
        const key = (payload as { key?: string }).key;
        if (subject === "signet.consumer.revoked" && key)
          evictions.set(key, [...(evictions.get(key) ?? []), at]);
      });
      pods.push(await startDataPod({ id, databaseUrl, natsUrl, masterKey, bus }));
    }
    registry = await buildRegistryApp({
      config: registryConfigDefaults({
        port: 0,
        logLevel: "warn",
        databaseUrl,
        natsUrl,
        keyring: Keyring.fromEnv(masterKey),
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
    for (let waited = 0; registry.podPresence.known().length < pods.length; waited += 10) {
      if (waited > 10_000) throw new Error(`the registry knows ${registry.podPresence.known().length} pods`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const registryUrl = (await registry.listen({ host: "127.0.0.1", port: 0 })).replace(
      "localhost",
      "127.0.0.1",
    );

    const user = await createUser(db, {
      username: "bench-user",
      password: "bench-password",
      display_name: "Bench",
    });
    const propagation: number[] = [];
    const first: number[] = [];
    const calls: number[] = [];
    const confirmed: number[] = [];
    let unconfirmedPods = 0;
    let fullWindows = 0;
    for (let i = 0; i < revocations + 5; i++) {
      const { consumer, secret } = await createConsumer(db, keyring, { name: `bench-${i}` });
      const issued = await issueToken(db, keyring, {
        userId: user.id,
        consumerKey: consumer.key,
        ttlSeconds: 600,
      });
      const creds = { key: consumer.key, secret };
      const token = { key: issued.token, secret: issued.secret };
      // every pod has the consumer cached, as in production
      for (const pod of pods) {
        const answer = await signedGet(pod.url, "/me", creds, token);
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
    await Promise.all(pods.map(stopDataPod));
    await Promise.all(busses.map((b) => b.close()));
    await db.destroy();
    await ownNats?.stop();
    await admin(`drop database if exists ${dbName} with (force)`);
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
