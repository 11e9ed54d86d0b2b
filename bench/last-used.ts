// Micro-benchmark: what recording a secret's last use costs a signed request (docs/design.md,
// "Credential lifecycle") — LastUsedRecorder.record, the only part on the request path (a
// map entry; the write happens on a timer) — for one hot consumer and for 10,000 consumers
// in turn; and, off the request path, one batched write of 1,000 rows to PostgreSQL.
// Run: node --conditions=@signet/source --import tsx bench/last-used.ts
import { pathToFileURL } from "node:url";
import type { FastifyBaseLogger } from "fastify";
import { LastUsedRecorder } from "@signet/data/last-used";
import { createTestDatabase } from "@signet/test-support/db";
import { seedConsumer } from "@signet/test-support/seed";

/** Nothing is logged here (the recorder only warns when a write fails). */
const quiet = { warn: () => undefined } as unknown as FastifyBaseLogger;

export interface LastUsedResult {
  name: string;
  operations: number;
  usPerOperation: number;
}

function timeRecords(recorder: LastUsedRecorder, keys: string[], operations: number): number {
  for (let i = 0; i < 100_000; i++) recorder.record(keys[i % keys.length]!, "sec_0123456789abcdef");
  const start = process.hrtime.bigint();
  for (let i = 0; i < operations; i++) recorder.record(keys[i % keys.length]!, "sec_0123456789abcdef");
  return Number(process.hrtime.bigint() - start) / 1000 / operations;
}

export async function run(options: { operations?: number } = {}): Promise<LastUsedResult[]> {
  const operations = options.operations ?? 2_000_000;
  const tdb = await createTestDatabase({ prefix: "signet_bench_last_used" });
  try {
    const recorder = new LastUsedRecorder({
      db: tdb.db,
      pod: "bench-pod",
      log: quiet,
      clockOffsetMs: () => 0,
    });
    const many = Array.from({ length: 10_000 }, (_, i) => `ck_bench_${i}`);
    const one = timeRecords(recorder, ["ck_bench_hot"], operations);
    const spread = timeRecords(recorder, many, operations);

    const consumers = [];
    for (let i = 0; i < 1_000; i++) consumers.push(await seedConsumer(tdb.db));
    const writer = new LastUsedRecorder({
      db: tdb.db,
      pod: "bench-pod",
      log: quiet,
      clockOffsetMs: () => 0,
    });
    const flushes = 20;
    let flushUs = 0;
    for (let round = 0; round < flushes + 2; round++) {
      for (const c of consumers) writer.record(c.key, "sec_0123456789abcdef", Date.now() + round * 1_000);
      const start = process.hrtime.bigint();
      await writer.flush();
      if (round >= 2) flushUs += Number(process.hrtime.bigint() - start) / 1000;
    }
    return [
      { name: "record(), one hot consumer (per request)", operations, usPerOperation: one },
      { name: "record(), 10,000 consumers in turn (per request)", operations, usPerOperation: spread },
      {
        name: "flush of 1,000 rows, one upsert (off the request path)",
        operations: flushes,
        usPerOperation: flushUs / flushes,
      },
    ];
  } finally {
    await tdb.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await run()) console.log(`${r.name}: ${r.usPerOperation.toFixed(3)} µs`);
}
