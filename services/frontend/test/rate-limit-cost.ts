// What the shared rate limit costs each POST /login and POST /signup (docs/api.md, "Rate
// limits"): the counters alone (in memory; on NATS KV under the limit — a read and a
// conditional write —, a key's first hit in its window, past the limit — a read only —, and
// one address's hits racing from 20 requests at once), then a whole POST /login (refused for
// want of a CSRF token, after the limit counted it) through the app with each store.
// Against NATS_URL, else a private nats-server, else 127.0.0.1:4222; asserts nothing about speed.
// Run: node --conditions=@signet/source --import tsx services/frontend/test/rate-limit-cost.ts
import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Kvm } from "@nats-io/kv";
import { NatsBus } from "@signet/shared/bus";
import { unique } from "@signet/test-support/keys";
import { NATS_SERVER_BIN, startPrivateNats } from "@signet/test-support/nats";
import { buildFrontendApp } from "../src/app.js";
import { frontendConfigDefaults } from "../src/config.js";
import { KvCounters, MemoryCounters, type Counters } from "../src/rate-limit-counters.js";

export interface RateLimitCost {
  name: string;
  operations: number;
  usPerOperation: number;
}

const WINDOW_MS = 60_000;

async function timed(
  operations: number,
  one: (i: number) => Promise<unknown>,
  parallel = 1,
): Promise<number> {
  for (let i = 0; i < Math.min(200, operations); i++) await one(-1 - i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < operations; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, operations - i) }, (_, j) => one(i + j)));
  }
  return Number(process.hrtime.bigint() - start) / 1000 / operations;
}

const hits = (counters: Counters, key: (i: number) => string, max: number) => (i: number) =>
  counters.hit(key(i), WINDOW_MS, max);

async function loginCost(bus: NatsBus | undefined, bucket: string, operations: number): Promise<number> {
  const config = frontendConfigDefaults({
    consumerKey: "ck_bench",
    consumerSecret: "bench-secret",
    sessionSecret: "a-bench-session-secret-of-at-least-32-characters",
    dataUrl: "http://127.0.0.1:9",
    logLevel: "silent",
    defaultMetrics: false,
    loginRateLimit: 100_000,
    rateLimitBucket: bucket,
    sessionBucket: `${bucket}-sessions`,
  });
  const app: FastifyInstance = await buildFrontendApp({ config, bus, logger: false });
  try {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    return await timed(operations, (i) =>
      app.inject({
        method: "POST",
        url: "/login",
        remoteAddress: `10.1.${(i >> 8) & 255}.${i & 255}`,
        headers: form,
        payload: "",
      }),
    );
  } finally {
    await app.close();
  }
}

export async function run(options: { operations?: number } = {}): Promise<RateLimitCost[]> {
  const operations = options.operations ?? 5_000;
  const ownNats = !process.env.NATS_URL && existsSync(NATS_SERVER_BIN) ? await startPrivateNats() : undefined;
  const natsUrl = process.env.NATS_URL ?? ownNats?.url ?? "nats://127.0.0.1:4222";
  const bus = await NatsBus.connect({ servers: natsUrl, name: "bench-rate-limit" });
  const bucket = unique("bench-limits-").replace(/[^A-Za-z0-9_-]/g, "-");
  const results: RateLimitCost[] = [];
  const add = (name: string, usPerOperation: number, count = operations) =>
    results.push({ name, operations: count, usPerOperation });
  try {
    const memory = new MemoryCounters();
    add(
      "counter hit, in memory (npm start without NATS)",
      await timed(
        operations,
        hits(memory, () => "a", 1e9),
      ),
    );
    await memory.close();

    const kv = await KvCounters.open(bus.nc, { bucket, maxWindowMs: WINDOW_MS });
    add(
      "counter hit, NATS KV, under the limit (read + write)",
      await timed(
        operations,
        hits(kv, () => "same", 1e9),
      ),
    );
    add(
      "counter hit, NATS KV, first hit of a key (read + create)",
      await timed(
        operations,
        hits(kv, (i) => `k${i}`, 1e9),
      ),
    );
    add(
      "counter hit, NATS KV, past the limit (read only)",
      await timed(
        operations,
        hits(kv, () => "same", 1),
      ),
    );
    const raced = Math.min(operations, 1_000);
    add(
      "counter hit, NATS KV, 20 at once on one key (races retried)",
      await timed(
        raced,
        hits(kv, () => "race", 1e9),
        20,
      ),
      raced,
    );

    add(
      "POST /login (CSRF-refused) through the app, counters in memory",
      await loginCost(undefined, bucket, operations),
    );
    add(
      "POST /login (CSRF-refused) through the app, counters on NATS KV",
      await loginCost(bus, `${bucket}-app`, operations),
    );
  } finally {
    const kvm = new Kvm(bus.nc);
    for (const name of [bucket, `${bucket}-app`, `${bucket}-app-sessions`]) {
      await kvm
        .open(name)
        .then((b) => b.destroy())
        .catch(() => undefined);
    }
    await bus.close();
    await ownNats?.stop();
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const results = await run();
  console.table(results.map((r) => ({ ...r, usPerOperation: Number(r.usPerOperation.toFixed(1)) })));
}
