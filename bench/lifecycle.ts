// Benchmark: the confirmation latency of each kind of lifecycle announcement (docs/design.md,
// "Credential lifecycle") — from the registry's commit until all three data pods confirmed
// (the announcer's report) — with three data pods and one registry over real NATS and
// PostgreSQL, `rounds` of each kind one after another: scopes narrowed (PATCH), a rotation
// finished by hand, a consumer's tokens revoked, a user signed out everywhere, revoke-all.
// Run: node --conditions=@signet/source --import tsx bench/lifecycle.ts
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { buildRegistryApp, registryConfigDefaults } from "@signet/registry";
import { createTestDatabase } from "@signet/test-support/db";
import { keyring } from "@signet/test-support/keys";
import { NATS_SERVER_BIN, startPrivateNats } from "@signet/test-support/nats";
import { startDataPod, type DataPod } from "@signet/test-support/pods";
import { seedConsumer, seedUser } from "@signet/test-support/seed";
import { waitFor } from "@signet/test-support/wait";
import { summarize, type Summary } from "./support.js";

export interface LifecycleBenchResult {
  kind: string;
  rounds: number;
  /** Commit → every pod confirmed, milliseconds. */
  confirmMs: Summary;
  confirmedPods: { min: number; max: number };
}

export async function run(options: { rounds?: number } = {}): Promise<LifecycleBenchResult[]> {
  const rounds = options.rounds ?? 30;
  const database = await createTestDatabase({ prefix: "signet_bench_lifecycle" });
  const ownNats = !process.env.NATS_URL && existsSync(NATS_SERVER_BIN) ? await startPrivateNats() : undefined;
  const natsUrl = process.env.NATS_URL ?? ownNats?.url ?? "nats://127.0.0.1:4222";
  const token = "bench-admin-token-0123456789";
  const pods: DataPod[] = [];
  let registry: Awaited<ReturnType<typeof buildRegistryApp>> | undefined;
  const reports = new Map<string, { ms: number; pods: number }[]>();
  try {
    for (const id of ["bench-pod-a", "bench-pod-b", "bench-pod-c"]) {
      pods.push(await startDataPod({ id, databaseUrl: database.url, natsUrl, listen: false }));
    }
    registry = await buildRegistryApp({
      config: registryConfigDefaults({
        port: 0,
        logLevel: "warn",
        databaseUrl: database.url,
        natsUrl,
        keyring,
        adminTokens: [{ name: "bench", token }],
        relayMinAgeMs: 5_000,
        defaultMetrics: false,
      }),
      logger: false,
    });
    const app = registry;
    app.announcer.observe((r) => {
      const list = reports.get(r.kind) ?? [];
      list.push({ ms: r.gatheredAt - r.committedAt, pods: r.confirmedPods });
      reports.set(r.kind, list);
    });
    await waitFor("the registry to know the 3 pods", () => app.podPresence.known().length >= 3);
    const call = async (method: "POST" | "PATCH", url: string, payload: object = {}) => {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
      if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    };
    const consumer = await seedConsumer(database.db);
    const user = await seedUser(database.db);
    for (let i = 0; i < rounds; i++) {
      await call("PATCH", `/consumers/${consumer.key}`, { scopes: ["*"] });
      await call("PATCH", `/consumers/${consumer.key}`, { scopes: ["authenticate"] }); // narrowing
      await call("POST", `/consumers/${consumer.key}/rotate`, { grace_seconds: 3600 });
      await call("POST", `/consumers/${consumer.key}/rotate/finish`);
      await call("POST", `/consumers/${consumer.key}/tokens/revoke`);
      await call("POST", `/users/${user.username}/tokens/revoke`);
      await call("POST", "/revoke-all", { issued_before: "now", reason: "bench" });
    }
  } finally {
    await registry?.close();
    await Promise.all(pods.map((pod) => pod.close()));
    await ownNats?.dispose();
    await database.drop();
  }
  return [...reports].map(([kind, list]) => ({
    kind,
    rounds: list.length,
    confirmMs: summarize(list.map((r) => r.ms)),
    confirmedPods: { min: Math.min(...list.map((r) => r.pods)), max: Math.max(...list.map((r) => r.pods)) },
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await run()) {
    console.log(
      `${r.kind.padEnd(24)} n=${r.rounds}  confirmed ${r.confirmedPods.min}-${r.confirmedPods.max} pods  p50 ${r.confirmMs.p50} ms  p99 ${r.confirmMs.p99} ms  max ${r.confirmMs.max} ms`,
    );
  }
}
