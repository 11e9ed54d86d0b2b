// Micro-benchmark: cost of verifying (and of signing) one OAuth 1.0a request —
// HMAC-SHA256, three-legged, 1 KiB JSON body, in-memory credential and nonce stores; and
// of verifying the benchmark's signed GET /me (no body), with the credentials answered at
// once as the data pod's cache answers a hit (plugins/credentials.ts).
// Run: npx tsx --conditions=@signet/source bench/oauth-verify.ts
import { pathToFileURL } from "node:url";
import { createVerifier, signRequest, type CredentialStore, type NonceStore } from "@signet/shared/oauth";

export interface OAuthBenchResult {
  name: string;
  iterations: number;
  usPerOp: number;
  opsPerSec: number;
}

const CONSUMER = { key: "bench-consumer", secret: "bench-consumer-secret-0123456789abcdef" };
const TOKEN = { key: "bench-token", secret: "bench-token-secret-0123456789abcdef" };
const URL_ = "http://127.0.0.1:8000/notes?limit=20&order=desc";

/** A JSON document of exactly `size` bytes. */
function jsonBody(size: number): string {
  const empty = JSON.stringify({ title: "benchmark", body: "" });
  return JSON.stringify({ title: "benchmark", body: "x".repeat(size - empty.length) });
}

async function measure(
  name: string,
  iterations: number,
  op: (i: number) => unknown,
): Promise<OAuthBenchResult> {
  const warmup = Math.min(2000, Math.ceil(iterations / 5));
  for (let i = 0; i < warmup; i++) await op(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op(warmup + i);
  const ns = Number(process.hrtime.bigint() - start);
  const usPerOp = ns / 1000 / iterations;
  return { name, iterations, usPerOp, opsPerSec: 1e6 / usPerOp };
}

export async function run(options: { iterations?: number } = {}): Promise<OAuthBenchResult[]> {
  const iterations = options.iterations ?? 20_000;
  const body = jsonBody(1024);
  const bodyBuf = Buffer.from(body);
  if (bodyBuf.length !== 1024) throw new Error(`body is ${bodyBuf.length} bytes`);
  const now = Math.floor(Date.now() / 1000);

  const credentials: CredentialStore<string, string> = {
    consumer: async (key) => (key === CONSUMER.key ? { record: key, secrets: [CONSUMER.secret] } : null),
    token: async (t) => (t === TOKEN.key ? { record: t, secret: TOKEN.secret } : null),
  };
  // a replay guard that always answers "unused" (a Set of every nonce would measure the Set)
  const nonces: NonceStore = { use: async () => true };
  const verify = createVerifier({
    credentials,
    nonces,
    timestampWindow: 300,
    requireToken: true,
    now: () => now,
  });

  const sign = (i: number) =>
    signRequest({
      method: "POST",
      url: URL_,
      consumer: CONSUMER,
      token: TOKEN,
      signatureMethod: "HMAC-SHA256",
      body,
      contentType: "application/json",
      nonce: `n${i}`,
      timestamp: now,
    });

  // pre-sign the requests to verify so the verify figure excludes signing
  const total = iterations + Math.min(2000, Math.ceil(iterations / 5));
  const headers = Array.from({ length: total }, (_, i) => sign(i));

  const results: OAuthBenchResult[] = [];
  results.push(
    await measure("oauth verify (HMAC-SHA256, 1 KiB JSON)", iterations, (i) =>
      verify({
        method: "POST",
        url: URL_,
        authorization: headers[i],
        contentType: "application/json",
        body: bodyBuf,
      }),
    ),
  );
  const verifyCached = createVerifier({
    credentials: {
      consumer: (key) => (key === CONSUMER.key ? { record: key, secrets: [CONSUMER.secret] } : null),
      token: (t) => (t === TOKEN.key ? { record: t, secret: TOKEN.secret } : null),
    },
    nonces,
    timestampWindow: 300,
    requireToken: true,
    now: () => now,
  });
  const meUrl = "http://127.0.0.1:8000/me";
  const meHeaders = Array.from({ length: total }, (_, i) =>
    signRequest({
      method: "GET",
      url: meUrl,
      consumer: CONSUMER,
      token: TOKEN,
      nonce: `m${i}`,
      timestamp: now,
    }),
  );
  results.push(
    await measure("oauth verify (HMAC-SHA256, GET /me, cached credentials)", iterations, (i) =>
      verifyCached({ method: "GET", url: meUrl, authorization: meHeaders[i] }),
    ),
  );
  results.push(await measure("oauth sign (HMAC-SHA256, 1 KiB JSON)", iterations, (i) => sign(i)));
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  console.table(
    results.map((r) => ({
      benchmark: r.name,
      iterations: r.iterations,
      "µs/op": r.usPerOp.toFixed(2),
      "ops/s": Math.round(r.opsPerSec),
    })),
  );
}
